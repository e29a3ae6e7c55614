"""Add comments.reopened_at: a reader comment an author put back in the queue after a reply
answered it in passing (the dashboard's "also answered" Undo).

Author replies beneath such a comment count as answers only when written after reopened_at
(storage/sql.py: _first_author_replies). Existing comments get NULL: nothing changes for them.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("reopened_at")
