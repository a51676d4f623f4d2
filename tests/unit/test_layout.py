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
    "shared.accounts.payment_keys",
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


TEST_DOUBLE_PREFIXES = ("Recording", "Fake", "Stub", "InMemory", "Mock", "Dummy")


def _shared_modules() -> list[str]:
    import pkgutil

    import shared

    return ["shared"] + [
        info.name for info in pkgutil.walk_packages(shared.__path__, prefix="shared.")
    ]


def test_no_test_double_is_importable_from_shared() -> None:
    import importlib
    import inspect

    found = []
    for name in _shared_modules():
        if name.endswith("__main__"):
            continue  # runs the CLI when imported
        module = importlib.import_module(name)
        found += [
            f"{name}.{attr}"
            for attr, value in vars(module).items()
            if inspect.isclass(value) and attr.startswith(TEST_DOUBLE_PREFIXES)
        ]
    assert found == []
    assert len(_shared_modules()) > 50  # the walk saw the package


def test_no_bench_instrument_in_shared() -> None:
    modules = _shared_modules()
    assert not [m for m in modules if m.endswith("roundtrips")]  # infra/bench/statements.py
