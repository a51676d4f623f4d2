"""merge the two 0002 heads (breakers, metrics rollup)

Revision ID: 0003_merge_heads
Revises: 0002_breaker_forced, 0002_metrics_rollup_days
Create Date: 2026-11-29 00:30:00
"""

from collections.abc import Sequence

revision: str = "0003_merge_heads"
down_revision: tuple[str, ...] = ("0002_breaker_forced", "0002_metrics_rollup_days")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
