"""Outbound fetching of untrusted URLs (comments_server/netguard.py): every address that is not
public is refused before a request is made, redirects are checked hop by hop, and size and time
caps hold. Local servers record their hits so "refused" is proved by zero requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Response, redirect

from comments_server.netguard import FetchError, FetchPolicy, UnsafeURL, blocked_reason, fetch
from tests.support.remote import RemoteSite, recording_app, run_site


@pytest.fixture
def remote() -> Iterator[RemoteSite]:
    site = recording_app()

    @site.app.route("/")
    def home() -> Response:
        return Response("<p>hello</p>", content_type="text/html; charset=iso-8859-1")

    @site.app.route("/big")
    def big() -> Response:
        return Response("x" * 5000)

    @site.app.route("/stream")
    def stream() -> Response:   # no Content-Length: the cap must hold while reading
        return Response((b"y" * 1000 for _ in range(10)), content_type="text/plain")

    @site.app.route("/slow")
    def slow() -> str:
        time.sleep(2)
        return "late"

    @site.app.route("/links")
    def links() -> Response:
        response = Response("ok")
        response.headers.add("Link", '</a>; rel="webmention"')
        response.headers.add("Link", '</b>; rel="other"')
        return response

    @site.app.route("/form", methods=["POST"])
    def form() -> str:
        return "posted"

    with run_site(site):
        yield site


@pytest.fixture
def target() -> Iterator[RemoteSite]:
    """A second local server, the private machine an attacker wants reached."""
    site = recording_app("target")

    @site.app.route("/")
    def secret() -> str:
        return "secret"

    with run_site(site):
        yield site


def allowing(*sites: RemoteSite, **kwargs: object) -> FetchPolicy:
    return FetchPolicy(allow_hosts=frozenset(site.host for site in sites), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/",
    "http://127.1.2.3:8080/",
    "http://10.0.0.1/",
    "http://10.255.255.254/",
    "http://172.16.0.1/",
    "http://172.31.255.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",   # cloud metadata
    "http://100.64.0.1/",                         # carrier-grade NAT
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://2130706433/",      # 127.0.0.1 as one number
    "http://0x7f.0.0.1/",      # and in hex
    "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
])
def test_fetch_refuses_non_public_addresses(url: str) -> None:
    with pytest.raises(UnsafeURL):
        fetch(url, policy=FetchPolicy())


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.com/", "data:text/html,<p>hi</p>", "gopher://example.com/",
    "javascript:alert(1)", "//example.com/", "http:///nohost", "http://user:pass@example.com/",
])
def test_fetch_refuses_other_schemes_and_malformed_urls(url: str) -> None:
    with pytest.raises(UnsafeURL):
        fetch(url, policy=FetchPolicy())


def test_public_addresses_are_not_blocked() -> None:
    assert blocked_reason("93.184.216.34") is None
    assert blocked_reason("2606:2800:220:1:248:1893:25c8:1946") is None


def test_loopback_is_refused_without_a_request(remote: RemoteSite) -> None:
    with pytest.raises(UnsafeURL, match="loopback"):
        fetch(remote.url + "/", policy=FetchPolicy())
    assert remote.hits == []


def test_name_resolving_to_private_address_is_refused_without_a_request(remote: RemoteSite) -> None:
    port = remote.host.rsplit(":", 1)[1]
    with pytest.raises(UnsafeURL, match="localhost resolves to"):
        fetch(f"http://localhost:{port}/", policy=FetchPolicy())
    assert remote.hits == []


def test_allow_hosts_permits_the_named_host_and_port(remote: RemoteSite) -> None:
    fetched = fetch(remote.url + "/", policy=allowing(remote))
    assert fetched.status == 200
    assert fetched.text == "<p>hello</p>"
    assert fetched.url == remote.url + "/"
    assert [hit.path for hit in remote.hits] == ["/"]


def test_allow_hosts_with_a_port_does_not_allow_other_ports(remote: RemoteSite, target: RemoteSite) -> None:
    with pytest.raises(UnsafeURL):
        fetch(target.url + "/", policy=allowing(remote))
    assert target.hits == []


def test_allow_hosts_without_a_port_allows_every_port(remote: RemoteSite) -> None:
    assert fetch(remote.url + "/", policy=FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}))).status == 200


def test_redirect_to_private_address_is_refused_at_the_hop(remote: RemoteSite, target: RemoteSite) -> None:
    @remote.app.route("/to-private")
    def to_private() -> Response:
        return redirect(target.url + "/", 302)  # type: ignore[return-value]

    @remote.app.route("/to-localhost")
    def to_localhost() -> Response:
        return redirect(target.url.replace("127.0.0.1", "localhost") + "/", 301)  # type: ignore[return-value]

    for path in ("/to-private", "/to-localhost"):
        with pytest.raises(UnsafeURL):
            fetch(remote.url + path, policy=allowing(remote))
    assert [hit.path for hit in remote.hits] == ["/to-private", "/to-localhost"]
    assert target.hits == []


def test_redirect_to_file_url_is_refused(remote: RemoteSite) -> None:
    @remote.app.route("/to-file")
    def to_file() -> Response:
        return redirect("file:///etc/passwd", 302)  # type: ignore[return-value]

    with pytest.raises(UnsafeURL, match="only http and https"):
        fetch(remote.url + "/to-file", policy=allowing(remote))


def test_redirects_are_followed_and_final_url_reported(remote: RemoteSite) -> None:
    @remote.app.route("/hop/<int:n>")
    def hop(n: int) -> Response:
        return redirect(f"/hop/{n - 1}" if n else "/", 307)  # type: ignore[return-value]

    fetched = fetch(remote.url + "/hop/2", policy=allowing(remote))
    assert fetched.url == remote.url + "/"
    assert fetched.text == "<p>hello</p>"
    with pytest.raises(FetchError, match="redirects"):
        fetch(remote.url + "/hop/9", policy=allowing(remote, max_redirects=3))


def test_size_cap_with_content_length(remote: RemoteSite) -> None:
    with pytest.raises(FetchError, match="1000"):
        fetch(remote.url + "/big", policy=allowing(remote, max_bytes=1000))
    assert len(fetch(remote.url + "/big", policy=allowing(remote, max_bytes=5000)).body) == 5000


def test_size_cap_while_streaming(remote: RemoteSite) -> None:
    with pytest.raises(FetchError, match="more than the 2500 bytes"):
        fetch(remote.url + "/stream", policy=allowing(remote, max_bytes=2500))


def test_timeout(remote: RemoteSite) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="0.3 seconds|too long"):
        fetch(remote.url + "/slow", policy=allowing(remote, timeout=0.3))
    assert time.monotonic() - started < 1.5


def test_repeated_link_headers_are_kept_and_lookup_is_case_blind(remote: RemoteSite) -> None:
    fetched = fetch(remote.url + "/links", policy=allowing(remote))
    assert fetched.headers.get_all("link") == ['</a>; rel="webmention"', '</b>; rel="other"']


def test_text_is_decoded_by_the_declared_charset(remote: RemoteSite) -> None:
    @remote.app.route("/latin1")
    def latin1() -> Response:
        return Response("café".encode("iso-8859-1"), content_type="text/plain; charset=iso-8859-1")

    assert fetch(remote.url + "/latin1", policy=allowing(remote)).text == "café"


def test_post_form_and_user_agent(remote: RemoteSite) -> None:
    fetched = fetch(remote.url + "/form", policy=allowing(remote), method="POST",
                    data={"source": "https://a.example/", "target": "https://b.example/"})
    assert fetched.text == "posted"
    hit = remote.hits[-1]
    assert hit.method == "POST"
    assert hit.form == {"source": "https://a.example/", "target": "https://b.example/"}
    assert hit.headers["User-Agent"] == "blogengine (+webmention)"
    assert hit.headers["Host"] == remote.host


def test_connection_refused_is_a_fetch_error(remote: RemoteSite) -> None:
    with pytest.raises(FetchError):
        fetch("http://127.0.0.1:9/", policy=FetchPolicy(allow_hosts=frozenset({"127.0.0.1:9"})))


def test_each_hop_resolves_its_host_once_and_connects_to_that_answer(remote: RemoteSite, monkeypatch) -> None:
    """The real resolver, watched: one lookup per request, none left to http.client."""
    import socket

    lookups: list[str] = []
    real = socket.getaddrinfo

    def watched(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        lookups.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", watched)
    port = remote.host.rsplit(":", 1)[1]
    policy = FetchPolicy(allow_hosts=frozenset({f"localhost:{port}"}))
    assert fetch(f"http://localhost:{port}/", policy=policy).status == 200
    assert lookups == ["localhost"]


def test_dns_rebinding_cannot_move_the_connection_inside(remote: RemoteSite, monkeypatch) -> None:
    """A resolver that says "public" to the check and "127.0.0.1" afterwards (the rebinding
    attack): the request goes to the public address that was checked, never to the local one."""
    import socket

    answers = iter([[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))]])
    port = int(remote.host.rsplit(":", 1)[1])
    local = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    def rebinding(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        return next(answers, local)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:   # the public address answers or not (no internet here); either way it is not ours
        fetched = fetch(f"http://rebind.example:{port}/", policy=FetchPolicy(timeout=0.5))
        assert "hello" not in fetched.text
    except FetchError:
        pass
    assert remote.hits == []


@pytest.fixture
def tls_site(tmp_path) -> Iterator[tuple[RemoteSite, Path, list[str]]]:
    """An HTTPS server with a self-signed certificate for "localhost"; records the SNI names
    its clients send. Yields the site, the certificate and those names."""
    import shutil
    import ssl
    import subprocess

    from tests.support.live import serve_in_thread
    from werkzeug.serving import make_server

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    site = recording_app("tls")

    @site.app.route("/")
    def home() -> str:
        return "secure hello"

    with serve_in_thread(make_server("127.0.0.1", 0, site.app, threaded=True, ssl_context=context)) as url:
        site.url = url.replace("http://", "https://")
        yield site, cert, names


def test_https_connects_to_the_checked_address_and_keeps_the_name(tls_site, monkeypatch) -> None:
    site, cert, names = tls_site
    port = site.host.rsplit(":", 1)[1]
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))   # trust the test certificate, nothing else changes
    policy = FetchPolicy(allow_hosts=frozenset({f"localhost:{port}", f"127.0.0.1:{port}"}))
    fetched = fetch(f"https://localhost:{port}/", policy=policy)
    assert fetched.text == "secure hello"
    assert names == ["localhost"]                       # SNI: the name, not the address
    assert site.hits[-1].headers["Host"] == f"localhost:{port}"
    with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED|match|mismatch"):
        fetch(f"https://127.0.0.1:{port}/", policy=policy)   # the certificate is for "localhost"


def test_https_certificate_is_verified(tls_site) -> None:
    site, _, _ = tls_site
    port = site.host.rsplit(":", 1)[1]
    with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(f"https://localhost:{port}/", policy=FetchPolicy(allow_hosts=frozenset({f"localhost:{port}"})))
    assert site.hits == []


def test_credentials_do_not_follow_a_redirect_to_another_host(remote: RemoteSite, target: RemoteSite) -> None:
    @remote.app.route("/away")
    def away() -> Response:
        return redirect(target.url + "/", 302)  # type: ignore[return-value]

    @remote.app.route("/here")
    def here() -> Response:
        return redirect("/", 302)  # type: ignore[return-value]

    policy = allowing(remote, target)
    secret = {"Authorization": "Bearer s3cret", "Cookie": "session=1", "Accept": "text/html"}
    assert fetch(remote.url + "/away", policy=policy, headers=secret).text == "secret"
    assert "Authorization" not in target.hits[-1].headers and "Cookie" not in target.hits[-1].headers
    assert target.hits[-1].headers["Accept"] == "text/html"
    fetch(remote.url + "/here", policy=policy, headers=secret)
    assert remote.hits[-1].path == "/" and remote.hits[-1].headers["Authorization"] == "Bearer s3cret"
