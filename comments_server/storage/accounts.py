"""Author accounts in SQL: authors, their API tokens (hashed) and dashboard sessions (hashed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from comments_server.models import ApiToken, Author, takes_a_name
from comments_server.storage.tables import author_sessions, author_tokens, authors


class DuplicateAuthor(Exception):
    """Another account already has this name or email."""


class NameTaken(Exception):
    """A reader's comment signed with an account's name (models.name_key compares them)."""


def refuse_account_names(conn: Connection, name: str) -> None:
    """Raise NameTaken when `name` reads as an account's, in the caller's transaction (the
    comment's own, so the check costs no transaction of its own, and a refused comment rolls
    back whatever it had written)."""
    if takes_a_name(name, conn.execute(_ACCOUNT_NAMES).scalars()):
        raise NameTaken(name)


_ACCOUNT_NAMES = select(authors.c.name)


def name_key(name: str) -> str:
    """Names are unique regardless of case and surrounding space."""
    return " ".join(name.split()).casefold()


def _author(row: Row[Any]) -> Author:
    data = row._mapping
    return Author(id=int(data["id"]), name=data["name"], email=data["email"],
                  password_hash=data["password_hash"], created_at=data["created_at"])


def _token(row: Row[Any]) -> ApiToken:
    data = row._mapping
    return ApiToken(id=int(data["id"]), author_id=int(data["author_id"]), label=data["label"],
                    created_at=data["created_at"], last_used_at=data["last_used_at"])


class AccountStore:
    """Authors, tokens and sessions; each public method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(sqlite_write=True)

    # Authors ---------------------------------------------------------------------------------

    def add_author(self, name: str, email: str, password_hash: str, now: datetime) -> Author:
        """A new account; DuplicateAuthor if the name or email is taken."""
        values: dict[str, Any] = {"name": name, "name_key": name_key(name), "email": email.lower(),
                  "password_hash": password_hash, "created_at": now}
        try:
            with self._writer.begin() as conn:
                taken = conn.execute(select(authors.c.id).where(
                    (authors.c.name_key == values["name_key"]) | (authors.c.email == values["email"]))).first()
                if taken is not None:
                    raise DuplicateAuthor(name)
                result = conn.execute(authors.insert().values(**values))
                assert result.inserted_primary_key is not None
                new_id = int(result.inserted_primary_key[0])
        except IntegrityError:  # a concurrent add took it between the check and the insert
            raise DuplicateAuthor(name) from None
        return Author(id=new_id, name=name, email=values["email"], password_hash=password_hash, created_at=now)

    def list_authors(self) -> list[Author]:
        with self.engine.begin() as conn:
            return [_author(r) for r in conn.execute(select(authors).order_by(authors.c.name_key))]

    def get_author(self, author_id: int) -> Author | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(authors).where(authors.c.id == author_id)).first()
        return _author(row) if row is not None else None

    def find_author(self, name_or_email: str) -> Author | None:
        """The account with this name (any case) or email."""
        key = name_or_email.strip()
        with self.engine.begin() as conn:
            row = conn.execute(select(authors).where(
                (authors.c.name_key == name_key(key)) | (authors.c.email == key.lower()))).first()
        return _author(row) if row is not None else None

    def remove_author(self, author_id: int) -> bool:
        """Delete an account with its tokens and sessions; its comments keep their badge."""
        with self._writer.begin() as conn:
            conn.execute(delete(author_tokens).where(author_tokens.c.author_id == author_id))
            conn.execute(delete(author_sessions).where(author_sessions.c.author_id == author_id))
            result = conn.execute(delete(authors).where(authors.c.id == author_id))
            return bool(result.rowcount)

    def set_password_hash(self, author_id: int, password_hash: str) -> None:
        """Change the password and end every session of the account."""
        with self._writer.begin() as conn:
            conn.execute(authors.update().where(authors.c.id == author_id).values(password_hash=password_hash))
            conn.execute(delete(author_sessions).where(author_sessions.c.author_id == author_id))

    # API tokens ------------------------------------------------------------------------------

    def add_token(self, author_id: int, label: str, token_hash: str, now: datetime) -> ApiToken:
        with self._writer.begin() as conn:
            result = conn.execute(author_tokens.insert().values(
                author_id=author_id, label=label, token_hash=token_hash, created_at=now))
            assert result.inserted_primary_key is not None
            new_id = int(result.inserted_primary_key[0])
        return ApiToken(id=new_id, author_id=author_id, label=label, created_at=now)

    def list_tokens(self, author_id: int) -> list[ApiToken]:
        with self.engine.begin() as conn:
            query = select(author_tokens).where(author_tokens.c.author_id == author_id).order_by(author_tokens.c.id)
            return [_token(r) for r in conn.execute(query)]

    def remove_token(self, author_id: int, label: str) -> int:
        """Revoke the author's tokens with this label; how many there were."""
        with self._writer.begin() as conn:
            result = conn.execute(delete(author_tokens).where(
                author_tokens.c.author_id == author_id, author_tokens.c.label == label))
            return int(result.rowcount)

    def author_for_token(self, token_hash: str, now: datetime) -> Author | None:
        """The account a token belongs to (and note that it was used)."""
        with self._writer.begin() as conn:
            row = conn.execute(
                select(authors).join(author_tokens, author_tokens.c.author_id == authors.c.id)
                .where(author_tokens.c.token_hash == token_hash)).first()
            if row is None:
                return None
            conn.execute(author_tokens.update().where(author_tokens.c.token_hash == token_hash)
                         .values(last_used_at=now))
        return _author(row)

    # Sessions --------------------------------------------------------------------------------

    def add_session(self, author_id: int, id_hash: str, now: datetime, expires_at: datetime) -> None:
        with self._writer.begin() as conn:
            # Expired sessions of anyone are cleared on each login, so the table stays small.
            conn.execute(delete(author_sessions).where(author_sessions.c.expires_at <= now))
            conn.execute(author_sessions.insert().values(
                id_hash=id_hash, author_id=author_id, created_at=now, expires_at=expires_at))

    def author_for_session(self, id_hash: str, now: datetime) -> Author | None:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(authors).join(author_sessions, author_sessions.c.author_id == authors.c.id)
                .where(author_sessions.c.id_hash == id_hash, author_sessions.c.expires_at > now)).first()
        return _author(row) if row is not None else None

    def remove_session(self, id_hash: str) -> None:
        with self._writer.begin() as conn:
            conn.execute(delete(author_sessions).where(author_sessions.c.id_hash == id_hash))
