"""notifications.next_attempt_at: a failed send schedules its retry (exponential backoff);
NULL means due now. A partial index on the pending rows' due time serves the sweep.

The index is built ``CONCURRENTLY``: every finishing email writes to ``notifications``, and a
deploy migrates while the processors keep working, so a plain build would hold their writes
for as long as it reads the table. The build runs outside the migration's transaction, so a
failed build leaves the column (committed) and an invalid index of the same name behind:
running the migration again keeps the column and drops that index before building it.

Revision ID: 0004_notification_backoff
Revises: 0003_breaker_forced
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0004_notification_backoff"
down_revision: str | None = "0003_breaker_forced"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_INDEX = "ix_notifications_due"
_DROP_INVALID = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE c.relname = 'ix_notifications_due' AND NOT i.indisvalid) THEN
        DROP INDEX ix_notifications_due;
    END IF;
END $$
"""


@contextmanager
def _outside_a_transaction() -> Iterator[None]:
    """Alembic's autocommit block, with the transaction pg8000 opened inside it ended: alembic
    reads the isolation level before switching to autocommit, and that query starts a
    transaction the switch leaves open (CONCURRENTLY would then be refused)."""
    with op.get_context().autocommit_block():
        op.execute("COMMIT")
        yield


def upgrade() -> None:
    op.add_column(
        "notifications",
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        if_not_exists=True,
    )
    with _outside_a_transaction():
        op.execute(_DROP_INVALID)
        op.create_index(
            _INDEX,
            "notifications",
            ["next_attempt_at"],
            postgresql_where=sa.text("status = 'pending'"),
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with _outside_a_transaction():
        op.drop_index(
            _INDEX, table_name="notifications", postgresql_concurrently=True, if_exists=True
        )
    op.drop_column("notifications", "next_attempt_at")
