"""Give the functions' database users access to the tables and sequences (idempotent).

Run by cloudbuild.yaml twice: after the migrations (the tables they created), and after
`terraform apply` (a user that apply created: the first release with the review console on an
environment deployed before it). Everything comes from the saved `terraform output -json`:

    python -m infra.grant_tables /workspace/tf-outputs.json

It connects as the deployer's IAM database user through the engine factory of `shared.db`, like
the functions (`APP_ENV=production`, `DB_IP_TYPE` and the pool sizes come from the step's
environment). A user the outputs do not name yet (no console before the apply that creates it)
is left out; a missing function user stops it: the outputs are not this configuration's.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

REQUIRED = ("processor", "rollup")  # keys of the database_users output
OPTIONAL = ("console_database_user",)  # outputs of their own, absent before the console


class OutputsError(ValueError):
    """The saved outputs lack what the grants need."""


def _value(outputs: dict[str, Any], name: str) -> Any:
    if name not in outputs:
        raise OutputsError(f"terraform output {name!r} is missing")
    return outputs[name]["value"]


def connection_settings(outputs: dict[str, Any]) -> dict[str, str]:
    """The settings `shared.db` connects with, as the deployer."""
    users = _value(outputs, "database_users")
    return {
        "INSTANCE_CONNECTION_NAME": str(_value(outputs, "instance_connection_name")),
        "DB_NAME": str(_value(outputs, "database_name")),
        "DB_USER": str(users["deployer"]),
    }


def grantees(outputs: dict[str, Any]) -> list[str]:
    """The function users to grant, in a fixed order; never an empty name."""
    users = _value(outputs, "database_users")
    found = []
    for key in REQUIRED:
        user = users.get(key) if isinstance(users, dict) else None
        if not user:
            raise OutputsError(f"database_users has no {key!r} user")
        found.append(str(user))
    for name in OPTIONAL:
        user = outputs.get(name, {}).get("value")
        if user:
            found.append(str(user))
    return found


# The role travels as a bound parameter and is quoted by Postgres itself (format's %I): no SQL
# text is ever built from a value here. set_config(..., true) lasts for the transaction only.
_GRANTEE = "SELECT set_config('inbound.grantee', :role, true)"
_GRANT = """
DO $grant$
DECLARE
    grantee text := current_setting('inbound.grantee');
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', grantee);
    EXECUTE format(
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', grantee);
    EXECUTE format(
        'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO %I', grantee);
END
$grant$
"""


def grant(users: list[str]) -> None:
    from sqlalchemy import text

    from shared.db.engine import dispose_engine, get_engine

    try:
        with get_engine().begin() as connection:
            for user in users:
                connection.execute(text(_GRANTEE), {"role": user})
                connection.execute(text(_GRANT))
                print(f"granted table access to {user}")
    finally:
        dispose_engine()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m infra.grant_tables OUTPUTS_JSON", file=sys.stderr)
        return 2
    try:
        outputs = json.loads(Path(argv[0]).read_text())
        users = grantees(outputs)
        os.environ.update(connection_settings(outputs))
    except (OSError, ValueError) as exc:
        print(f"grant_tables: {exc}", file=sys.stderr)
        return 1
    grant(users)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
