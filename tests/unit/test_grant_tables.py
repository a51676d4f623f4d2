"""Which database users the pipeline grants table access to, from the saved Terraform outputs
(the grants themselves run against Postgres in tests/integration/test_grant_tables.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import grant_tables
from infra.grant_tables import OutputsError, connection_settings, grantees

OUTPUTS: dict[str, Any] = {
    "instance_connection_name": {"value": "p:r:i"},
    "database_name": {"value": "emails"},
    "database_users": {
        "value": {"deployer": "d@p.iam", "processor": "p@p.iam", "rollup": "r@p.iam"}
    },
}


def test_the_console_user_is_granted_once_it_exists() -> None:
    with_console = OUTPUTS | {"console_database_user": {"value": "c@p.iam"}}
    assert grantees(with_console) == ["p@p.iam", "r@p.iam", "c@p.iam"]


def test_before_the_console_exists_the_others_are_granted_and_no_empty_name() -> None:
    assert grantees(OUTPUTS) == ["p@p.iam", "r@p.iam"]
    assert grantees(OUTPUTS | {"console_database_user": {"value": ""}}) == ["p@p.iam", "r@p.iam"]


def test_a_missing_function_user_stops_it() -> None:
    users = {"value": {"deployer": "d@p.iam", "processor": "p@p.iam"}}
    with pytest.raises(OutputsError, match="rollup"):
        grantees(OUTPUTS | {"database_users": users})
    with pytest.raises(OutputsError, match="database_users"):
        grantees({"database_name": {"value": "emails"}})


def test_it_connects_as_the_deployer() -> None:
    assert connection_settings(OUTPUTS) == {
        "INSTANCE_CONNECTION_NAME": "p:r:i",
        "DB_NAME": "emails",
        "DB_USER": "d@p.iam",
    }


def test_unusable_outputs_exit_1_without_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grant_tables, "grant", lambda users: pytest.fail("connected"))
    broken = tmp_path / "outputs.json"
    broken.write_text(json.dumps({"database_users": {"value": {"processor": "p"}}}))
    assert grant_tables.main([str(broken)]) == 1
    assert "rollup" in capsys.readouterr().err
    assert grant_tables.main([str(tmp_path / "absent.json")]) == 1
    assert grant_tables.main([]) == 2
