"""Author accounts: passwords (werkzeug scrypt), API tokens, dashboard sessions, and which account
a post belongs to. No Flask here; the CLI and the web layer both call it."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from werkzeug.security import check_password_hash, generate_password_hash

from comments_server.models import ApiToken, Author, Thread, is_email, takes_a_name
from comments_server.storage import DuplicateAuthor, Storage

MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH = 80
SESSION_DAYS = 30
TOKEN_PREFIX = "bec_"
# Checked when the name is unknown, so a wrong name takes as long as a wrong password. Written
# out, not made at import: scrypt costs every process that imports this module 0.15 s (a build
# reading the comments, each server worker); a test keeps its cost that of a new account's hash.
DUMMY_HASH = ("scrypt:32768:8:1$OdCVNA0E53snYOAB$"
              "1e4f45af7a55ed24016645144279f0e24ea51095fa3438e0a565751d35822088"
              "b4ff173293f19ea53d45981c3dd0708680e691e84710304e5b6e7ff53c648d27")


class AccountError(Exception):
    """A name, email or password the CLI refuses; the message says why."""


def hash_secret(secret: str) -> str:
    """Tokens and session ids are random and long: one SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise AccountError("the name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"the name must be at most {MAX_NAME_LENGTH} characters")
    if "@" in name:
        raise AccountError("the name must not contain '@' (it would read as an email address)")
    return name


def check_email(email: str) -> str:
    email = email.strip().lower()
    if not is_email(email):
        raise AccountError(f"{email!r} is not an email address")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


@dataclass(frozen=True)
class Identity:
    """Who is acting as an author: an account, or (author None) a legacy AUTHOR_TOKENS token."""

    author: Author | None

    @property
    def name(self) -> str:
        return self.author.name if self.author else ""


class Accounts:
    """Author accounts over a Storage; the clock is the service's."""

    def __init__(self, storage: Storage, clock: Callable[[], datetime]) -> None:
        self.store = storage.accounts
        self.clock = clock

    # Accounts --------------------------------------------------------------------------------

    def add(self, name: str, email: str, password: str) -> Author:
        """A new account; AccountError for a bad or taken name or email, or a short password."""
        name, email, password = check_name(name), check_email(email), check_password(password)
        try:
            return self.store.add_author(name, email, generate_password_hash(password, method="scrypt"),
                                         self.clock())
        except DuplicateAuthor:
            raise AccountError(f"an author named {name!r} or with the email {email} exists already") from None

    def all(self) -> list[Author]:
        return self.store.list_authors()

    def find(self, name_or_email: str) -> Author | None:
        return self.store.find_author(name_or_email)

    def get(self, author_id: int) -> Author | None:
        return self.store.get_author(author_id)

    def remove(self, author: Author) -> None:
        self.store.remove_author(author.id)

    def set_password(self, author: Author, password: str) -> None:
        """Change the password; every dashboard session of the account ends."""
        self.store.set_password_hash(author.id, generate_password_hash(check_password(password), method="scrypt"))

    def authenticate(self, name_or_email: str, password: str) -> Author | None:
        """The account if the password is right; the same work is done for an unknown name."""
        author = self.find(name_or_email) if name_or_email.strip() else None
        if author is None:
            check_password_hash(DUMMY_HASH, password)
            return None
        return author if check_password_hash(author.password_hash, password) else None

    # API tokens ------------------------------------------------------------------------------

    def add_token(self, author: Author, label: str) -> tuple[ApiToken, str]:
        """A new API token; the secret is returned once and only its hash is kept."""
        label = " ".join(label.split()) or "token"
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return self.store.add_token(author.id, label, hash_secret(secret), self.clock()), secret

    def tokens(self, author: Author) -> list[ApiToken]:
        return self.store.list_tokens(author.id)

    def remove_token(self, author: Author, label: str) -> int:
        return self.store.remove_token(author.id, label)

    def author_for_token(self, token: str) -> Author | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        return self.store.author_for_token(hash_secret(token), self.clock())

    # Dashboard sessions ------------------------------------------------------------------------

    def start_session(self, author: Author) -> str:
        """A new session id for the cookie; the table keeps its hash, so logout can end it."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        self.store.add_session(author.id, hash_secret(session_id), now, now + timedelta(days=SESSION_DAYS))
        return session_id

    def session_author(self, session_id: str) -> Author | None:
        return self.store.author_for_session(hash_secret(session_id), self.clock())

    def end_session(self, session_id: str) -> None:
        self.store.remove_session(hash_secret(session_id))

    # Posts and their authors -------------------------------------------------------------------

    def is_author_address(self, email: str) -> bool:
        """Whether `email` is an author account's (so a reader comment giving it proves nothing)."""
        return "@" in email and self.find(email) is not None

    def takes_name(self, name: str, thread: Thread) -> bool:
        """Whether a reader's `name` reads as an author's: an account's name or the post's byline,
        compared as shown (models.name_key), so case, spacing and invisible characters do not help."""
        return takes_a_name(name, (thread.author, *(a.name for a in self.all())))

    def authors_of(self, thread: Thread, authors: Sequence[Author] | None = None) -> list[Author]:
        """The accounts a post belongs to: its manifest author, by account name or email.

        A post whose author matches no account belongs to every account, so no reader's comment
        goes unseen on a blog whose accounts are named differently from its posts' bylines."""
        everyone = list(self.all() if authors is None else authors)
        return owners(thread, everyone) or everyone


def owners(thread: Thread, authors: Sequence[Author]) -> list[Author]:
    """The accounts whose name or email is the post's author (none if nobody matches)."""
    byline = " ".join(thread.author.split()).casefold()
    if not byline:
        return []
    return [a for a in authors if byline in (" ".join(a.name.split()).casefold(), a.email.casefold())]
