"""The lock files agree with the pins, carry hashes, and give each function only its imports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.function_requirements import (
    closure,
    distributions_for,
    normalise,
    read_lock,
    requirements_for,
)

ROOT = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, str]:
    pairs = re.findall(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)==(\S+)", path.read_text(), re.M)
    return {normalise(name): version for name, version in pairs}


@pytest.mark.parametrize(
    ("source", "lock"),
    [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")],
)
def test_every_pin_is_locked_at_the_same_version(source: str, lock: str) -> None:
    pinned, locked = _pins(ROOT / source), _pins(ROOT / lock)
    stale = {name: (v, locked.get(name)) for name, v in pinned.items() if locked.get(name) != v}
    assert not stale, f"run `make lock`: {stale}"


def test_runtime_lock_is_the_dev_locks_runtime_part() -> None:
    runtime, dev = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_has_a_hash(lock: str) -> None:
    for entry in read_lock(ROOT / lock).values():
        assert "--hash=sha256:" in entry.text, entry.name


def test_closure_follows_the_via_lines(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "a==1 \\\n    --hash=sha256:aa\n    # via -r requirements.txt\n"
        "b==2 \\\n    --hash=sha256:bb\n    # via\n    #   a\n    #   c\n"
        "c==3 \\\n    --hash=sha256:cc\n    # via -r requirements.txt\n"
        "d==4 \\\n    --hash=sha256:dd\n    # via b\n"
    )
    entries = read_lock(lock)
    assert entries["b"].dependants == {"a", "c"}
    assert closure(["a"], entries) == {"a", "b", "d"}
    with pytest.raises(LookupError, match="e"):
        closure(["e"], entries)


def test_the_webhook_gets_no_extraction_or_account_libraries() -> None:
    webhook = _pins_of(requirements_for("webhook"))
    assert not webhook & {"anthropic", "pymongo", "pypdf", "rapidfuzz"}, sorted(webhook)
    assert {"functions-framework", "google-cloud-storage", "google-cloud-pubsub"} <= webhook
    processor = _pins_of(requirements_for("processor"))
    assert {"anthropic", "pymongo", "pypdf", "sqlalchemy", "pg8000", "pybreaker"} <= processor


def _pins_of(requirements: str) -> set[str]:
    return {normalise(n) for n in re.findall(r"^([A-Za-z0-9][\w.\-]*)==", requirements, re.M)}


OWNERS = {
    "google.cloud.storage": "google-cloud-storage",
    "google.cloud.storage.blob": "google-cloud-storage",
    "sqlalchemy": "sqlalchemy",
}


def test_modules_map_to_their_distributions_through_namespace_packages() -> None:
    found = distributions_for(
        ["google.cloud", "google.cloud.storage", "sqlalchemy.orm.Session"], OWNERS
    )
    assert found == {"google-cloud-storage", "sqlalchemy"}


def test_a_module_no_installed_distribution_provides_is_an_error() -> None:
    """A system Python without the project's packages must not write a short requirements.txt."""
    with pytest.raises(LookupError, match=r"no installed distribution provides anthropic\b"):
        distributions_for(["sqlalchemy", "anthropic", "anthropic.types"], OWNERS)
