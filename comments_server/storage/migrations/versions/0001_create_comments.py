"""Create the comments table and its indexes.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("thread", sa.Text(), nullable=False),
        sa.Column("parent_id", Id, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("author_name", sa.Text(), nullable=False),
        sa.Column("author_email", sa.Text(), nullable=True),
        sa.Column("author_url", sa.Text(), nullable=True),
        sa.Column("is_author", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("notify_replies", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.Text(), nullable=True),
        sa.Column("edit_token_hash", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
        sa.ForeignKeyConstraint(["parent_id"], ["comments.id"], name="fk_comments_parent_id_comments"),
        sa.CheckConstraint(
            "status IN ('published', 'pending', 'spam', 'deleted')", name="ck_comments_status"
        ),
    )
    op.create_index("ix_comments_thread_status_created_at", "comments", ["thread", "status", "created_at"])
    op.create_index("ix_comments_parent_id", "comments", ["parent_id"])
    op.create_index("ix_comments_author_email", "comments", ["author_email"])


def downgrade() -> None:
    op.drop_index("ix_comments_author_email", table_name="comments")
    op.drop_index("ix_comments_parent_id", table_name="comments")
    op.drop_index("ix_comments_thread_status_created_at", table_name="comments")
    op.drop_table("comments")
