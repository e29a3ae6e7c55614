"""Helpers for the dashboard, unanswered and notification tests: author accounts, logging in with
CSRF tokens, reader comments through the API and author replies through the dashboard."""

from __future__ import annotations

import functools
import re
from typing import Any

from bs4 import BeautifulSoup
from werkzeug.security import generate_password_hash

from comments_server.accounts import Accounts
from comments_server.services import services
from tests.support.server import POST, new_comment

PASSWORD = "correct horse battery"
ANN = {"name": "Ann Author", "email": "ann@example.com"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def desk(app):
    return services(app).conversations


@functools.cache
def password_hash(password: str) -> str:
    """scrypt is slow on purpose; hash each test password once per session (logins still check it)."""
    return generate_password_hash(password, method="scrypt")


def add_author(app, name: str = ANN["name"], email: str = ANN["email"], password: str = PASSWORD):
    """An account as `Accounts.add` makes it (test_account_rules and the CLI tests cover that path)."""
    accounts: Accounts = desk(app).accounts
    return accounts.store.add_author(name, email, password_hash(password), accounts.clock())


def csrf_token(client, path: str = "/dashboard/login") -> str:
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, name: str = ANN["name"], password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post("/dashboard/login", data={"name": name, "password": password, "csrf_token": token})


def dashboard_post(client, path: str, **data: Any) -> Any:
    """A form POST from a dashboard page, with that session's CSRF token."""
    data.setdefault("csrf_token", csrf_token(client, "/dashboard/"))
    return client.post(path, data=data)


def reader(client, clock=None, advance: float = 0, **fields: Any) -> dict[str, Any]:
    """A reader's comment through the public API; returns the 201 body."""
    if clock is not None and advance:
        clock.advance(advance)
    response = client.post("/api/comments", json=new_comment(**fields))
    assert response.status_code in (201, 202), response.get_data(as_text=True)
    return response.get_json()


def author_reply(client, parent_id: int, body: str = "Thanks for asking!", clock=None, advance: float = 0) -> Any:
    """The logged-in author answers from the dashboard's reply box."""
    if clock is not None and advance:
        clock.advance(advance)
    response = dashboard_post(client, f"/dashboard/comments/{parent_id}/reply", body=body, next="/dashboard/")
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def queue_ids(client) -> list[int]:
    body = client.get("/api/unanswered").get_json()
    return [c["id"] for c in body["comments"]]


def page_text(response, element_id: str) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    node = soup.find(id=element_id)
    assert node is not None, f"no #{element_id}"
    return " ".join(node.get_text().split())


def thread_comments(client, thread: str = POST) -> list[dict[str, Any]]:
    """Every comment of a thread, flattened, as the public API shows it."""
    out: list[dict[str, Any]] = []
    stack = list(client.get("/api/comments", query_string={"thread": thread}).get_json()["comments"])
    while stack:
        item = stack.pop(0)
        out.append(item)
        stack.extend(item["replies"])
    return sorted(out, key=lambda c: c["id"])
