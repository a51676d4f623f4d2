"""The console's entry point is thin and cheap to import (cold start): no database, MongoDB or
console application until the first request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_console_function_loads_no_client_and_no_app() -> None:
    probe = (
        "import importlib.util, json, sys\n"
        "spec = importlib.util.spec_from_file_location('main', 'functions/console/main.py')\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'pymongo', 'google') or m.startswith('shared.console'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [m for m in loaded if m.startswith(("sqlalchemy", "pymongo", "shared.console"))]
    assert "google.cloud.storage" not in loaded
