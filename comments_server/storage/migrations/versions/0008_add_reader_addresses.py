"""Add reader_addresses: addresses confirmed for reply emails, and the suppression list.

Addresses that asked for replies before this revision are not confirmed: their owners get a
confirmation email the next time they ask, and until then no reply email (anyone could have
typed them). Addresses that unsubscribed before it are not known either (nothing recorded them).

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reader_addresses",
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suppressed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("email", name="pk_reader_addresses"),
    )


def downgrade() -> None:
    op.drop_table("reader_addresses")
