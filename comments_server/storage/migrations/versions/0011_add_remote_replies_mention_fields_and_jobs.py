"""Add remote replies and background jobs: comments gain their origin (a reader's comment, a
Webmention or a fediverse reply: origin, origin_url, origin_id, author_photo); mentions gain what
a received Webmention says (author, content, dates, a status for moderation); a durable `jobs`
table holds background work (verifying Webmentions, sending them, polling the fediverse).

Existing comments become origin "comment"; existing mentions (imported pingbacks, trackbacks and
webmentions) stay as they were, published, with no author or content.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OPEN_JOB = "done_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), nullable=False, server_default="comment"))
        batch.add_column(sa.Column("origin_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("origin_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("author_photo", sa.Text(), nullable=True))
        # NULL origin_url (every reader comment) never collides: NULLs are distinct in unique indexes.
        batch.create_index("ix_comments_origin_origin_url", ["origin", "origin_url"], unique=True)
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="published"))
        batch.add_column(sa.Column("author_name", sa.Text(), nullable=True))
        batch.add_column(sa.Column("author_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("author_photo", sa.Text(), nullable=True))
        batch.add_column(sa.Column("content_html", sa.Text(), nullable=True))
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "jobs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        # Bumped by each enqueue of a pending job: a run of an older revision does not finish it.
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sqlite_autoincrement=True,
    )
    # One open job per kind and key; finished ones stay as history.
    op.create_index("ix_jobs_kind_key", "jobs", ["kind", "key"], unique=True,
                    sqlite_where=sa.text(_OPEN_JOB), postgresql_where=sa.text(_OPEN_JOB))
    op.create_index("ix_jobs_done_at_failed_at_due_at", "jobs", ["done_at", "failed_at", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_done_at_failed_at_due_at", table_name="jobs")
    op.drop_index("ix_jobs_kind_key", table_name="jobs")
    op.drop_table("jobs")
    with op.batch_alter_table("mentions") as batch:
        for name in ("updated_at", "published_at", "content_html", "author_photo", "author_url",
                     "author_name", "status"):
            batch.drop_column(name)
    with op.batch_alter_table("comments") as batch:
        batch.drop_index("ix_comments_origin_origin_url")
        for name in ("author_photo", "origin_id", "origin_url", "origin"):
            batch.drop_column(name)
