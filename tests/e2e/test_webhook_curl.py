"""The curl examples of docs/intake.md, for real: ``infra/sign_request.py`` prints a curl
command per route, curl posts it to the stack's functions-framework webhook, and the email lands
in GCS and on the topic."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from infra import sign_request
from infra.stack import REPO_ROOT, LocalStack
from tests.intake_payloads import emails
from tests.intake_payloads.probes import Bucket, topic_probe

pytestmark = pytest.mark.stack


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.sign_request", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
    )


def test_curl_examples_for_every_route_land_in_gcs_and_on_the_topic(
    stack: LocalStack, stack_env: dict[str, str], tmp_path: Path
) -> None:
    env_file = tmp_path / "stack.env"
    stack.write_env_file(env_file)
    eml = tmp_path / "payment.eml"
    sample = emails.with_attachments()
    eml.write_bytes(sample.mime)
    answers = {}
    with topic_probe() as probe:
        for route in sign_request.ROUTES:
            printed = _cli(
                route,
                str(eml),
                "--env-file",
                str(env_file),
                "--body-file",
                str(tmp_path / f"{route}.body"),
            )
            assert printed.returncode == 0, printed.stderr
            command = printed.stdout.strip()
            assert command.startswith("curl ") and stack.url("webhook") in command
            done = subprocess.run(
                shlex.split(command), capture_output=True, text=True, timeout=60, check=False
            )
            assert done.returncode == 0, done.stderr
            answers[route] = json.loads(done.stdout)
        published = probe.pull(expected=len(answers))
    assert len({a["email_id"] for a in answers.values()}) == 1, answers
    assert len(published) == len(answers)
    stored = Bucket().read(published[0].data["gcs_uri"])
    assert emails.summarise(stored) == sample.expected


def test_post_mode_with_the_builtin_sample(
    stack: LocalStack, stack_env: dict[str, str], tmp_path: Path
) -> None:
    env_file = tmp_path / "stack.env"
    stack.write_env_file(env_file)
    with topic_probe() as probe:
        done = _cli("postmark", "--post", "--env-file", str(env_file))
        assert done.returncode == 0, done.stdout + done.stderr
        status, answer = done.stdout.split(" ", 1)
        assert status == "200"
        (message,) = probe.pull(expected=1)
    assert message.data["email_id"] == json.loads(answer)["email_id"]
    assert message.data["attachment_count"] == 1
