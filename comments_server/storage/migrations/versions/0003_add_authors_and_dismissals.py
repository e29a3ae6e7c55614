"""Add author accounts (with API tokens and dashboard sessions), and the author's marks on comments.

Comments gain author_id (which account posted an author comment), dismissed_at ("no reply
needed") and snoozed_until, plus the index the unanswered query walks.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "authors",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_authors"),
    )
    op.create_index("ix_authors_name_key", "authors", ["name_key"], unique=True)
    op.create_index("ix_authors_email", "authors", ["email"], unique=True)
    op.create_table(
        "author_tokens",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("author_id", Id, nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_author_tokens"),
        sa.ForeignKeyConstraint(["author_id"], ["authors.id"], name="fk_author_tokens_author_id_authors",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_author_tokens_token_hash", "author_tokens", ["token_hash"], unique=True)
    op.create_index("ix_author_tokens_author_id", "author_tokens", ["author_id"])
    op.create_table(
        "author_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("author_id", Id, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_author_sessions"),
        sa.ForeignKeyConstraint(["author_id"], ["authors.id"], name="fk_author_sessions_author_id_authors",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_author_sessions_author_id", "author_sessions", ["author_id"])
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("author_id", Id, nullable=True))
        batch.add_column(sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_comments_author_id_authors", "authors", ["author_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index("ix_comments_author_id", ["author_id"])
        batch.create_index("ix_comments_is_author_status_parent_id", ["is_author", "status", "parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_index("ix_comments_is_author_status_parent_id")
        batch.drop_index("ix_comments_author_id")
        batch.drop_constraint("fk_comments_author_id_authors", type_="foreignkey")
        batch.drop_column("snoozed_until")
        batch.drop_column("dismissed_at")
        batch.drop_column("author_id")
    op.drop_index("ix_author_sessions_author_id", table_name="author_sessions")
    op.drop_table("author_sessions")
    op.drop_index("ix_author_tokens_author_id", table_name="author_tokens")
    op.drop_index("ix_author_tokens_token_hash", table_name="author_tokens")
    op.drop_table("author_tokens")
    op.drop_index("ix_authors_email", table_name="authors")
    op.drop_index("ix_authors_name_key", table_name="authors")
    op.drop_table("authors")
