"""Give every comment a stable uid, so exports re-import without duplicates.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("uid", sa.String(200), nullable=True))
    conn = op.get_bind()
    ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM comments"))]
    for comment_id in ids:
        conn.execute(sa.text("UPDATE comments SET uid = :uid WHERE id = :id"),
                     {"uid": uuid.uuid4().hex, "id": comment_id})
    with op.batch_alter_table("comments") as batch:
        batch.alter_column("uid", existing_type=sa.String(200), nullable=False)
        batch.create_index("ix_comments_uid", ["uid"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_index("ix_comments_uid")
        batch.drop_column("uid")
