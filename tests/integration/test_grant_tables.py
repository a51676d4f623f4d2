"""The pipeline's grants against the real Postgres: a function user gets what it needs on every
table and sequence, and granting again changes nothing."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from infra.grant_tables import grant
from shared.db.engine import get_engine


def test_a_function_user_can_use_every_table_after_the_grants(stack_env: dict) -> None:
    role = f"probe-{uuid.uuid4().hex[:12]}@project.iam"  # shaped like an IAM database user
    with get_engine().begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}"'))
    try:
        grant([role])
        grant([role])  # idempotent: the next migration grants again
        with get_engine().connect() as conn:
            # by oid: the planner may test the privilege on rows of other schemas first
            # each privilege on its own: has_table_privilege is true when any one listed is held
            missing = conn.execute(
                text(
                    "SELECT c.relname, p.privilege FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " CROSS JOIN unnest(CAST(:privileges AS text[])) AS p(privilege)"
                    " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
                    " AND NOT has_table_privilege(:role, c.oid, p.privilege)"
                    " UNION ALL"
                    " SELECT c.relname, p.privilege FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " CROSS JOIN unnest(CAST(:sequence_privileges AS text[])) AS p(privilege)"
                    " WHERE n.nspname = 'public' AND c.relkind = 'S'"
                    " AND NOT has_sequence_privilege(:role, c.oid, p.privilege)"
                ),
                {
                    "role": role,
                    "privileges": ["SELECT", "INSERT", "UPDATE", "DELETE"],
                    "sequence_privileges": ["USAGE", "SELECT", "UPDATE"],
                },
            ).all()
            count = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
        assert count > 5 and missing == []
    finally:
        with get_engine().begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
