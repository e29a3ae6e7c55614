"""Never reuse ids on SQLite (AUTOINCREMENT on every table with a generated id); add
used_form_tokens (each form token posts once) and idempotency_keys (a retried write gets the
first answer).

Without AUTOINCREMENT SQLite hands out max(id)+1, so after the newest author (or comment) is
removed the next one gets the same id, and anything that still names the old id (a reply link in
an author's email, a token, a Location header) points at the newcomer. PostgreSQL sequences never
go back, so that part changes nothing there. Ids freed before this revision may still be handed
out once more; reply links also name the account they were made for, so such a link is refused.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("authors", "author_tokens", "comments", "outbox", "mentions")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        # Batch mode copies the table (rows, indexes, constraints) into one created anew.
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade() -> None:
    _recreate(True)
    op.create_table(
        "used_form_tokens",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name="pk_used_form_tokens"),
    )
    op.create_index("ix_used_form_tokens_expires_at", "used_form_tokens", ["expires_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("comment_id", Id, nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_expires_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_used_form_tokens_expires_at", table_name="used_form_tokens")
    op.drop_table("used_form_tokens")
    _recreate(False)
