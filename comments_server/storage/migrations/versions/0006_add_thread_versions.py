"""Add thread_versions: a per-thread change counter and time, for cached reads, ETags and Last-Modified.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "thread_versions",
        sa.Column("thread", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("thread", name="pk_thread_versions"),
    )
    # Every thread with comments gets a row; its time is the thread's newest comment or edit (no
    # client holds a Last-Modified from before this revision, so older deletions need no time).
    op.execute(
        "INSERT INTO thread_versions (thread, version, changed_at)"
        " SELECT thread, 1, MAX(COALESCE(edited_at, created_at)) FROM comments GROUP BY thread"
    )


def downgrade() -> None:
    op.drop_table("thread_versions")
