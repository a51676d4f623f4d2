"""Where code lives: the rules never load a database driver or an adapter."""

from __future__ import annotations

import subprocess
import sys

import pytest

# The domain: the account model and port, and the modules that decide and match.
DOMAIN_MODULES = (
    "shared.accounts",
    "shared.accounts.model",
    "shared.accounts.port",
    "shared.processing.decision",
    "shared.processing.matching",
)
ADAPTERS = ("pymongo", "bson", "shared.accounts.mongo", "sqlalchemy", "smtplib")


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_modules_load_no_adapter(module: str) -> None:
    # a fresh interpreter: this test process has long imported the adapters
    code = (
        f"import sys, {module}\n"
        f"print(sorted({{m.split('.')[0] if not m.startswith('shared') else m "
        f"for m in sys.modules if m.startswith({ADAPTERS!r})}}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "[]", f"{module} loads {loaded}"
