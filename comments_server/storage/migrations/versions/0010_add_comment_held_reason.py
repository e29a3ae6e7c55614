"""Add comments.held_reason: why a plugin (comment_about_to_be_stored) held a comment for
moderation or filed it as spam, shown in the dashboard's moderation list.

Existing comments get NULL: no plugin held them.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("held_reason", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("held_reason")
