"""The workarounds in docs/constraints.md hold only for the tool versions they were checked on.

Each test here fails when such a tool changes under its workaround, so the upgrade is a
deliberate step (re-check the workaround, then update the version here), never a silent one.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pg8000.legacy

from shared.db import statements

REPO_ROOT = Path(__file__).resolve().parents[2]

# The pg8000 whose ``legacy.convert_paramstyle`` shared/db/statements.py was read against.
PG8000_CHECKED = "1.31.6"
# The nx-27017 whose query gaps docs/constraints.md lists.
NX_27017_CHECKED = "0.8.1"


def _pinned(requirements: str, name: str) -> str:
    text = (REPO_ROOT / requirements).read_text()
    match = re.search(rf"^{re.escape(name)}==(\S+)", text, re.M | re.I)
    assert match, f"{name} is not pinned in {requirements}"
    return match.group(1)


def test_pg8000_is_the_version_the_paramstyle_patch_was_checked_against() -> None:
    message = (
        "pg8000 changed under shared/db/statements.py: re-read pg8000.legacy.convert_paramstyle "
        "and Cursor.execute, run tests/unit/test_db_statements.py, then update PG8000_CHECKED"
    )
    assert importlib.metadata.version("pg8000") == PG8000_CHECKED, message
    assert _pinned("requirements.txt", "pg8000") == PG8000_CHECKED, message


def test_the_patched_attribute_is_still_pg8000s_paramstyle_function() -> None:
    statements.install_statement_cache()
    patched = pg8000.legacy.convert_paramstyle
    assert hasattr(patched, statements._MARK), "the statement cache is not installed"
    statement, args = patched("format", "SELECT %s, %s", (1, 2))
    assert (statement, args) == ("SELECT $1, $2", (1, 2))


def test_nx_27017_is_the_version_whose_gaps_the_queries_are_shaped_around() -> None:
    message = (
        "nx-27017 changed: run tests/integration/test_mongo_conformance.py and revisit the "
        "workarounds in docs/constraints.md, then update NX_27017_CHECKED"
    )
    assert importlib.metadata.version("nx-27017") == NX_27017_CHECKED, message
    assert _pinned("requirements-dev.txt", "nx-27017") == NX_27017_CHECKED, message


def test_gunicorn_serves_the_functions_without_its_control_socket() -> None:
    from gunicorn.config import Config

    from shared.runtime import serve_without_control_socket

    serve_without_control_socket()
    assert Config().control_socket_disable is True
    for main in sorted((Path(__file__).resolve().parents[2] / "functions").glob("*/main.py")):
        assert "\nserve_without_control_socket()\n" in main.read_text(), main
