"""Add mentions: pingbacks, trackbacks and webmentions from imported blogs, apart from comments.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # A new table only: nothing to copy, so SQLite needs no batch mode here.
    op.create_table(
        "mentions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(200), nullable=False),
        sa.Column("thread", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mentions"),
    )
    op.create_index("ix_mentions_uid", "mentions", ["uid"], unique=True)
    op.create_index("ix_mentions_thread_created_at", "mentions", ["thread", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_mentions_thread_created_at", table_name="mentions")
    op.drop_index("ix_mentions_uid", table_name="mentions")
    op.drop_table("mentions")
