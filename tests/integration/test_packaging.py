"""The deployable archives import in a clean environment, without network.

Builds `webhook.zip`, `processor.zip` and `rollup.zip` the way `make package`
does, installs each archive's own `requirements.txt` (pinned with hashes from
`requirements.lock`, only what that function imports) into a fresh virtualenv
of its own (as the Cloud Functions build does), then imports each archive's
`main.py` in a separate interpreter that refuses every socket connection. That
proves a deployed function will import with nothing but its own requirements,
finds its entry point, and creates no client and opens no connection at import
time. Also: `pip install .` gives the operator's console script.

The virtualenv installs take a while (30-60 s each); pip's cache is reused.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Installing requirements.txt into a fresh venv dominates: allow a cold pip cache.
pytestmark = pytest.mark.timeout(900)


def _load_packager() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "infra_package_under_test", REPO_ROOT / "infra" / "package.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


package = _load_packager()

# Runs inside the archive's interpreter: block the network, import main.py,
# check the entry point, then let functions-framework load it the way the
# platform does.
_IMPORT_PROBE = r"""
import importlib, json, socket, sys

archive_dir, entry_point = sys.argv[1], sys.argv[2]
attempts = []

def _refuse(*args, **kwargs):
    if args and isinstance(args[0], socket.socket):
        args = args[1:]
    attempts.append(repr(args)[:200])
    raise OSError("network access during import is not allowed")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.socket.sendto = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse

sys.path.insert(0, archive_dir)
main = importlib.import_module("main")
target = getattr(main, entry_point, None)
result = {
    "main_file": getattr(main, "__file__", None),
    "entry_point_callable": callable(target),
    "framework": None,
}
try:
    import functions_framework
except ImportError:
    pass
else:
    source = archive_dir + "/main.py"
    app = functions_framework.create_app(target=entry_point, source=source)
    result["framework"] = type(app).__name__
result["socket_attempts"] = attempts
print("PROBE " + json.dumps(result))
"""


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    try:
        built = package.build_all(out)
    except package.PackagingError as error:
        pytest.fail(f"make package would fail: {error}")
    return {path.stem: path for path in built}


@pytest.fixture(scope="module")
def extracted(
    archives: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("extracted")
    directories = {}
    for name, archive in archives.items():
        target = root / name
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(target)
        directories[name] = target
    return directories


def _locked_names(requirements: str) -> set[str]:
    return {
        re.sub(r"[-_.]+", "-", name).lower()
        for name in re.findall(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)==", requirements, re.M)
    }


@pytest.fixture(scope="module")
def venv_pythons(
    extracted: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """One fresh virtualenv per archive, with only that archive's requirements.txt."""
    return {
        name: _venv_with(directory / "requirements.txt", tmp_path_factory)
        for name, directory in extracted.items()
    }


def _venv_with(requirements: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "--require-hashes",
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert install.returncode == 0, (
        f"pip install -r requirements.txt failed:\n{install.stdout}\n{install.stderr}"
    )
    return python


def test_archives_hold_main_shared_and_requirements(
    archives: dict[str, Path],
) -> None:
    assert set(archives) == set(package.FUNCTIONS)
    for name, archive in archives.items():
        with zipfile.ZipFile(archive) as opened:
            members = opened.namelist()
        assert "main.py" in members, name
        assert "requirements.txt" in members, name
        assert "shared/__init__.py" in members, name
        assert members == sorted(members), f"{name}: entries are not sorted"
        assert not [m for m in members if "__pycache__" in m or m.endswith(".pyc")]
        assert not [m for m in members if any(p.startswith(".") for p in m.split("/"))]


def test_archives_are_byte_for_byte_reproducible(archives: dict[str, Path], tmp_path: Path) -> None:
    rebuilt = {path.stem: path for path in package.build_all(tmp_path)}
    for name, archive in archives.items():
        assert rebuilt[name].read_bytes() == archive.read_bytes(), name


def test_each_function_installs_only_what_it_imports(extracted: dict[str, Path]) -> None:
    lock = (REPO_ROOT / "requirements.lock").read_text()
    shipped = {
        name: (directory / "requirements.txt").read_text() for name, directory in extracted.items()
    }
    for name, requirements in shipped.items():
        pins = [line for line in requirements.splitlines() if re.match(r"[A-Za-z0-9]", line)]
        assert pins, name
        for pin in pins:
            assert pin.endswith("\\") and pin.removesuffix(" \\") in lock, (name, pin)
        assert "--hash=sha256:" in requirements, name
    webhook = _locked_names(shipped["webhook"])
    assert not webhook & {"anthropic", "pymongo", "pypdf"}, sorted(webhook)
    assert {"google-cloud-storage", "google-cloud-pubsub", "functions-framework"} <= webhook
    processor = _locked_names(shipped["processor"])
    assert {"anthropic", "pymongo", "pypdf", "sqlalchemy", "pg8000"} <= processor


def test_pip_install_gives_the_ops_console_script(tmp_path: Path) -> None:
    """Built with the dev venv's locked setuptools and installed into a clean venv, offline.

    Built from a copy of what the package needs, so setuptools' `build/` and `*.egg-info` do
    not land in the working tree."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(
        REPO_ROOT / "shared", source / "shared", ignore=shutil.ignore_patterns("__pycache__")
    )
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--quiet",
            "-w",
            str(wheels),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "--quiet",
            *map(str, wheels.glob("*.whl")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    script = venv / "bin" / "inbound-ops"
    assert script.is_file(), sorted(p.name for p in (venv / "bin").iterdir())
    assert "from shared.ops.cli import main" in script.read_text()
    usage = subprocess.run(
        [str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert usage.returncode == 0, usage.stderr
    assert "trace" in usage.stdout


def test_archive_changes_only_when_content_changes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "functions" / "webhook").mkdir(parents=True)
    (repo / "shared").mkdir()
    (repo / "functions" / "webhook" / "main.py").write_text("def webhook(r): ...\n")
    (repo / "shared" / "__init__.py").write_text("")
    (repo / "requirements.lock").write_text((REPO_ROOT / "requirements.lock").read_text())
    first = package.build_archive("webhook", tmp_path / "a", repo).read_bytes()
    os.utime(repo / "shared" / "__init__.py", (0, 0))  # a touch is no change
    (repo / "shared" / "__pycache__").mkdir()
    (repo / "shared" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (repo / "shared" / ".env").write_text("SECRET=1\n")
    assert package.build_archive("webhook", tmp_path / "b", repo).read_bytes() == first
    (repo / "shared" / "util.py").write_text("X = 1\n")
    assert package.build_archive("webhook", tmp_path / "c", repo).read_bytes() != first


def test_missing_entry_module_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "__init__.py").write_text("")
    (tmp_path / "requirements.lock").write_text("")
    with pytest.raises(package.PackagingError, match=r"functions/rollup/main\.py"):
        package.build_archive("rollup", tmp_path / "out", tmp_path)


@pytest.mark.parametrize("name", sorted(package.FUNCTIONS))
def test_archive_imports_in_a_clean_venv_without_network(
    name: str, extracted: dict[str, Path], venv_pythons: dict[str, Path], tmp_path: Path
) -> None:
    venv_python = venv_pythons[name]
    entry_point = package.FUNCTIONS[name]
    archive_dir = extracted[name]
    minimal_env = {
        "PATH": f"{venv_python.parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    probe = subprocess.run(
        [str(venv_python), "-I", "-c", _IMPORT_PROBE, str(archive_dir), entry_point],
        cwd=tmp_path,
        env=minimal_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, (
        f"importing {name}'s main.py failed:\n{probe.stdout}\n{probe.stderr}"
    )
    lines = [line for line in probe.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, probe.stdout
    result = json.loads(lines[-1].removeprefix("PROBE "))
    assert result["main_file"] == str(archive_dir / "main.py")
    assert result["entry_point_callable"], f"{name}: {entry_point} is not callable"
    assert result["socket_attempts"] == [], (
        f"{name} opened connections at import time: {result['socket_attempts']}"
    )
