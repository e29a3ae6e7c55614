"""The demo's way into the dashboard: under `blogengine serve`, a sample site (one with a
`[comments] seed`) gets an author account for its `[author]`, with a password shown in the
terminal and on the login page. Development only: create_app never makes or shows one.

No Flask here; `site.development_app` calls it before the app is built."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from werkzeug.security import check_password_hash

from comments_server.accounts import AccountError, Accounts


@dataclass(frozen=True)
class DemoLogin:
    """The demo author's credentials, for the terminal and the development login page."""

    name: str
    email: str
    password: str


def demo_password(secret_key: str, email: str) -> str:
    """The demo account's password: derived from the development SECRET_KEY (kept beside the
    SQLite file), so it is the same at every start without being stored, and nobody else's."""
    digest = hmac.new(secret_key.encode("utf-8"), f"demo-author:{email.lower()}".encode("utf-8"),
                      hashlib.sha256).digest()
    letters = base64.b32encode(digest).decode("ascii").lower()[:16]
    return "-".join(letters[i:i + 4] for i in range(0, 16, 4))


def ensure_demo_author(accounts: Accounts, name: str, email: str, secret_key: str) -> DemoLogin | None:
    """The demo login of a sample site: an account for `name` and `email` is made when the
    database has no author account yet; an account made so earlier is shown again while its
    password is still the derived one. None when there is nothing to show (another account
    exists, the password was changed, or the site names no author)."""
    if not name.strip() or not email.strip():
        return None
    password = demo_password(secret_key, email)
    if not accounts.all():
        try:
            made = accounts.add(name, email, password)
        except AccountError:
            return None
        return DemoLogin(made.name, made.email, password)
    author = accounts.find(email)
    if author is None or not check_password_hash(author.password_hash, password):
        return None
    return DemoLogin(author.name, author.email, password)
