"""notifications.next_attempt_at: a failed send schedules its retry (exponential backoff);
NULL means due now. A partial index on the pending rows' due time serves the sweep.

Revision ID: 0004_notification_backoff
Revises: 0003_breaker_forced
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_notification_backoff"
down_revision: str | None = "0003_breaker_forced"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notifications",
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_notifications_due",
        "notifications",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.drop_column("notifications", "next_attempt_at")
