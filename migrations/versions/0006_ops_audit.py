"""Operator audit: ``ops_audit``, who forced which breaker and who replayed which dead letter
from the console (append-only, enforced by a trigger, like ``review_audit``).

Revision ID: 0006_ops_audit
Revises: 0005_review_console
Create Date: 2026-12-05 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_ops_audit"
down_revision: str | None = "0005_review_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ops_audit",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("email_id", sa.String(128), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ops_audit"),
    )
    op.create_index("ix_ops_audit_at", "ops_audit", ["at"])
    op.execute(
        """
        CREATE FUNCTION ops_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ops_audit is append-only';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER ops_audit_append_only BEFORE UPDATE OR DELETE ON ops_audit
        FOR EACH ROW EXECUTE FUNCTION ops_audit_append_only()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS ops_audit_append_only ON ops_audit")
    op.execute("DROP FUNCTION IF EXISTS ops_audit_append_only()")
    op.drop_index("ix_ops_audit_at", table_name="ops_audit")
    op.drop_table("ops_audit")
