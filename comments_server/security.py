"""Security headers on every response the server sends: no MIME sniffing, no framing, no referrer
sent to other origins. The API, feeds and health check are data, so their policy allows nothing; reader pages (the
no-JavaScript form) get one without script. The dashboard sets its own, stricter, policy."""

from __future__ import annotations

from flask import Flask, Response, request

# For JSON and Atom: should a browser ever render one, nothing in it loads or runs.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# For the reader's HTML pages: their own small inline style, no script at all. No form-action:
# the form's answer redirects to the post, on the site's origin, which form-action would block.
PAGE_CSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
# Files the site's pages load from this server (embed.js, embed.css): only the type is pinned.
EMBEDDED_PREFIXES = ("/embed.", "/widget/")
# Not "no-referrer": with it, a browser sends "Origin: null" with the form's own POST, and
# the server refuses writes from foreign origins (cors.py). Nothing leaves the origin.
REFERRER_POLICY = "same-origin"
# What a JSON answer of the API carries, in the order the hook below adds them.
DATA_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", REFERRER_POLICY),
                ("X-Frame-Options", "DENY"), ("Content-Security-Policy", DATA_CSP))


def init_security_headers(app: Flask) -> None:
    """Headers for every response; a header a view or blueprint set already is kept."""

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.path.startswith(EMBEDDED_PREFIXES):
            return response
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        if "Content-Security-Policy" not in headers:
            html = response.mimetype == "text/html"
            headers["Content-Security-Policy"] = PAGE_CSP if html else DATA_CSP
        return response
