"""The webhook as a process: light imports, clients created once and shared by threads."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS, REPO_ROOT
from shared.intake import bootstrap
from tests.intake_payloads import emails
from tests.intake_payloads.probes import WEBHOOK_SOURCE, topic_probe, webhook_client

pytestmark = pytest.mark.stack

FORBIDDEN = ("sqlalchemy", "anthropic", "pymongo", "pybreaker", "pg8000", "google.cloud.sql")

_SCRIPT = """
import json, sys, time
import functions_framework
from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS
forbidden = {forbidden!r}
loaded = lambda: sorted(m for m in sys.modules if m.split(".")[0] in forbidden or
                        any(m.startswith(f + ".") or m == f for f in forbidden))
app = functions_framework.create_app(target="webhook", source={source!r})
after_import = loaded()
clients_at_import = sorted(m for m in ("google.cloud.storage", "google.cloud.pubsub_v1")
                           if m in sys.modules)
from tests.intake_payloads import emails
answers = []
for route in sign_request.ROUTES:
    request = sign_request.build_request(route, emails.with_attachments().mime,
                                         LOCAL_WEBHOOK_SECRETS)
    answer = app.test_client().post(request.path, data=request.body, headers=request.headers)
    answers.append(answer.status_code)
print(json.dumps({{"after_import": after_import, "after_requests": loaded(),
                  "clients_at_import": clients_at_import, "answers": answers}}))
"""


def test_the_webhook_never_imports_database_claude_mongo_or_breaker_modules(
    stack_env: dict[str, str], stack: Any
) -> None:
    script = _SCRIPT.format(forbidden=FORBIDDEN, source=WEBHOOK_SOURCE)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**stack.function_env("webhook")},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["answers"] == [200] * len(sign_request.ROUTES)
    assert result["after_import"] == []
    assert result["after_requests"] == []
    assert result["clients_at_import"] == []  # storage and Pub/Sub load on the first request


@pytest.fixture
def client(stack_env: dict[str, str]) -> Iterator[Any]:
    with webhook_client() as test_client:
        yield test_client


def test_clients_are_created_once_and_shared_by_concurrent_requests(
    client: Any, stack_env: dict[str, str]
) -> None:
    assert bootstrap._dependencies is None  # nothing before the first request
    built: list[object] = []
    original = bootstrap.build_dependencies

    def counting(settings: Any) -> Any:
        built.append(settings)
        return original(settings)

    bootstrap.build_dependencies = counting
    try:
        requests = [
            sign_request.build_request(
                "raw", emails.without_message_id().mime, LOCAL_WEBHOOK_SECRETS
            )
            for _ in range(12)
        ]
        with topic_probe() as probe, ThreadPoolExecutor(6) as pool:
            answers = list(
                pool.map(lambda r: client.post(r.path, data=r.body, headers=r.headers), requests)
            )
            published = probe.pull(expected=12)
    finally:
        bootstrap.build_dependencies = original
    assert [a.status_code for a in answers] == [200] * 12
    assert len(built) == 1
    assert len({p.data["email_id"] for p in published}) == 12
    first = bootstrap.get_dependencies()
    assert bootstrap.get_dependencies() is first
