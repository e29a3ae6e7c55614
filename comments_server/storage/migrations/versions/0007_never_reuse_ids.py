"""Never reuse ids on SQLite: AUTOINCREMENT on every table with a generated id.

Without it SQLite hands out max(id)+1, so after the newest author (or comment) is removed the next
one gets the same id, and anything that still names the old id (a reply link in an author's email,
a token, a Location header) points at the newcomer. PostgreSQL sequences never go back, so this
revision changes nothing there. Ids freed before this revision may still be handed out once more;
reply links also carry the account they were made for (compose.py), so such a link is refused.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("authors", "author_tokens", "comments", "outbox", "mentions")


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


def downgrade() -> None:
    _recreate(False)
