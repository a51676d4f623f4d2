"""circuit_breakers.forced: an operator's force-open holds until force-close or reset;
rows for the known breakers (claude, mongodb, gcs), so the ops listing shows them from the start

Revision ID: 0003_breaker_forced
Revises: 0002_metrics_rollup_days
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_breaker_forced"
down_revision: str | None = "0002_metrics_rollup_days"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "circuit_breakers",
        sa.Column("forced", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute(
        "INSERT INTO circuit_breakers (name) VALUES ('claude'), ('mongodb'), ('gcs') "
        "ON CONFLICT (name) DO NOTHING"
    )


def downgrade() -> None:
    op.drop_column("circuit_breakers", "forced")
