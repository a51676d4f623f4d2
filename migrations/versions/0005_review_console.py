"""Review console: ``review_items`` (one per email that needs a person) and ``review_audit``
(who did what to an item, before and after; append-only, enforced by a trigger).

Revision ID: 0005_review_console
Revises: 0004_notification_backoff
Create Date: 2026-12-04 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005_review_console"
down_revision: str | None = "0004_notification_backoff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = (
    "compliance",
    "no_match",
    "ambiguous",
    "possible_duplicate",
    "low_confidence",
    "failed",
)
STATUSES = ("open", "claimed", "closed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("email_id", sa.String(128), nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("creditor", sa.String(300), nullable=True),
        sa.Column("status", sa.String(16), server_default="open", nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        # A reviewer's corrected fields or a re-run extraction (intent, fields); NULL: the
        # report's own reading stands.
        sa.Column("override", JSONB(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(_in("reason", REASONS), name="ck_review_items_reason"),
        sa.CheckConstraint(_in("status", STATUSES), name="ck_review_items_status"),
        sa.ForeignKeyConstraint(
            ["email_id"], ["emails.email_id"], name="fk_review_items_email_id_emails"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_items"),
        sa.UniqueConstraint("email_id", name="uq_review_items_email_id"),
    )
    op.create_index(
        "ix_review_items_open",
        "review_items",
        ["created_at"],
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.create_table(
        "review_audit",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("email_id", sa.String(128), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("before", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("after", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["review_items.id"], name="fk_review_audit_item_id_review_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_audit"),
    )
    op.create_index("ix_review_audit_item_id", "review_audit", ["item_id"])
    # The trail is evidence: rows are only ever added (a console bug cannot rewrite history).
    op.execute(
        """
        CREATE FUNCTION review_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'review_audit is append-only';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER review_audit_append_only BEFORE UPDATE OR DELETE ON review_audit
        FOR EACH ROW EXECUTE FUNCTION review_audit_append_only()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS review_audit_append_only ON review_audit")
    op.execute("DROP FUNCTION IF EXISTS review_audit_append_only()")
    op.drop_index("ix_review_audit_item_id", table_name="review_audit")
    op.drop_table("review_audit")
    op.drop_index("ix_review_items_open", table_name="review_items")
    op.drop_table("review_items")
