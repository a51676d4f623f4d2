"""Finding Google's Pub/Sub emulator wherever the Google Cloud CLI is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import pubsub_emulator
from infra.pubsub_emulator import EmulatorNotFound, emulator_command, find_emulator_jar

REPO_ROOT = Path(__file__).resolve().parents[2]


def _sdk(root: Path, *versions: str) -> Path:
    lib = root / "platform" / "pubsub-emulator" / "lib"
    lib.mkdir(parents=True)
    for version in versions:
        (lib / f"cloud-pubsub-emulator-{version}-all.jar").write_bytes(b"PK")
    return root


def test_the_configured_jar_wins(tmp_path: Path) -> None:
    jar = tmp_path / "emulator.jar"
    jar.write_bytes(b"PK")
    sdk = _sdk(tmp_path / "sdk", "0.8.20")
    assert find_emulator_jar({"PUBSUB_EMULATOR_JAR": str(jar)}, sdk_root=sdk) == jar


def test_a_configured_jar_that_is_missing_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    sdk = _sdk(tmp_path / "sdk", "0.8.20")
    with pytest.raises(EmulatorNotFound, match="PUBSUB_EMULATOR_JAR"):
        find_emulator_jar({"PUBSUB_EMULATOR_JAR": str(tmp_path / "nope.jar")}, sdk_root=sdk)


def test_the_jar_under_the_sdk_root_gcloud_reports(tmp_path: Path) -> None:
    """Google's cloud-sdk images keep the SDK in /google-cloud-sdk, not /usr/lib/..."""
    sdk = _sdk(tmp_path / "google-cloud-sdk", "0.8.19", "0.8.20")
    default = _sdk(tmp_path / "usr-lib-sdk", "0.1.0")
    found = find_emulator_jar({}, sdk_root=sdk, default_roots=(default,))
    assert found == sdk / "platform/pubsub-emulator/lib/cloud-pubsub-emulator-0.8.20-all.jar"


def test_the_default_roots_when_gcloud_knows_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pubsub_emulator, "gcloud_sdk_root", lambda: None)
    default = _sdk(tmp_path / "usr-lib-sdk", "0.8.20")
    assert find_emulator_jar({}, default_roots=(tmp_path / "absent", default)).parent == (
        default / "platform/pubsub-emulator/lib"
    )


def test_no_emulator_anywhere_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(EmulatorNotFound) as caught:
        find_emulator_jar({}, sdk_root=tmp_path / "a", default_roots=(tmp_path / "b",))
    assert str(tmp_path / "a") in str(caught.value)
    assert "PUBSUB_EMULATOR_JAR" in str(caught.value)


def test_the_command_runs_the_jar_on_the_given_address(tmp_path: Path) -> None:
    jar = tmp_path / "emulator.jar"
    command = emulator_command("127.0.0.1", 8085, jar)
    assert command[1:] == ["-jar", str(jar), "--host=127.0.0.1", "--port=8085"]
    assert Path(command[0]).name == "java"


def test_no_sdk_path_is_hard_coded_in_the_stack_or_the_system_check() -> None:
    for relative in ("infra/stack.py", "infra/check_system.sh"):
        assert "/usr/lib/google-cloud-sdk" not in (REPO_ROOT / relative).read_text(), relative
