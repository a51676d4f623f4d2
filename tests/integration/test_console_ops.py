"""Operator pages on the real local stack: breakers forced through the shared breaker code,
dead letters listed and replayed through shared/ops/dlq.py, a trace by correlation id."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest

from infra.stack import PROJECT
from shared.config import get_settings, reset_settings_cache
from shared.console.app import create_app
from tests.integration.test_console_app import CSRF, sign_in


@pytest.fixture
def app(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CONSOLE_DEV_SIGN_IN", "true")
    reset_settings_cache()
    return create_app(get_settings())


def _token(client: Any, path: str) -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def _audited(action: str, target: str) -> list[tuple[str, str, str | None]]:
    from sqlalchemy import text

    from shared.db.engine import get_engine

    with get_engine().connect() as conn:
        rows = conn.execute(
            text(
                "SELECT actor, role, email_id FROM ops_audit "
                "WHERE action = :action AND target = :target AND at > now() - interval '5 minutes'"
            ),
            {"action": action, "target": target},
        )
        return [tuple(row) for row in rows]


def test_the_operator_trail_cannot_be_rewritten(app: Any) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from shared.db.engine import get_engine

    with get_engine().begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ops_audit (actor, role, action, target) "
                "VALUES ('otto@example.com', 'operator', 'breaker_open', 'trail-test')"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), get_engine().begin() as conn:
        conn.execute(text("DELETE FROM ops_audit WHERE target = 'trail-test'"))


def test_an_operator_forces_a_breaker_open_and_resets_it(app: Any) -> None:
    from shared import breakers

    operator = sign_in(app, "otto@example.com", "operator")
    token = _token(operator, "/ops/breakers")
    answer = operator.post(
        "/ops/breakers", data={"csrf_token": token, "name": "gcs", "action": "open"}
    )
    assert answer.status_code == 303
    states = {b.name: b for b in breakers.list_breakers()}
    assert states["gcs"].state == "open" and states["gcs"].forced
    assert _audited("breaker_open", "gcs") == [("otto@example.com", "operator", None)]
    assert "state-open" in operator.get("/ops/breakers").get_data(as_text=True)
    operator.post("/ops/breakers", data={"csrf_token": token, "name": "gcs", "action": "reset"})
    assert {b.name: b.state for b in breakers.list_breakers()}["gcs"] == "closed"
    bad = operator.post(
        "/ops/breakers", data={"csrf_token": token, "name": "nope", "action": "open"}
    )
    assert bad.status_code == 400
    forged = operator.post(
        "/ops/breakers", data={"csrf_token": "x" * 40, "name": "gcs", "action": "open"}
    )
    assert forged.status_code == 403
    assert {b.name: b.state for b in breakers.list_breakers()}["gcs"] == "closed"
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    assert (
        reviewer.post(
            "/ops/breakers", data={"csrf_token": token, "name": "gcs", "action": "open"}
        ).status_code
        == 403
    )


def test_a_dead_letter_is_listed_and_replayed(app: Any) -> None:
    from google.cloud import pubsub_v1

    settings = get_settings()
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    watch = subscriber.subscription_path(PROJECT, f"console-watch-{uuid.uuid4().hex[:8]}")
    subscriber.create_subscription(
        request={"name": watch, "topic": publisher.topic_path(PROJECT, settings.pubsub_topic)}
    )
    tag = uuid.uuid4().hex[:10]
    cid, email_id = f"cid-console-{tag}", f"dlq-console-{tag}"
    data = json.dumps({"email_id": email_id, "gcs_uri": f"gs://raw-emails/{email_id}"})
    dead_id = publisher.publish(
        publisher.topic_path(PROJECT, settings.pubsub_dead_letter_topic),
        data.encode(),
        correlation_id=cid,
        email_id=email_id,
        CloudPubSubDeadLetterSourceDeliveryCount="5",
    ).result(timeout=30)
    operator = sign_in(app, "otto@example.com", "operator")
    page = operator.get("/ops/dead-letters").get_data(as_text=True)
    assert f"<td>{dead_id}</td>" in page and email_id in page
    token = CSRF.search(page).group(1)
    answer = operator.post("/ops/dead-letters", data={"csrf_token": token, "message_id": dead_id})
    assert answer.status_code == 303
    received: list[Any] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not received:
        response = subscriber.pull(request={"subscription": watch, "max_messages": 10}, timeout=10)
        received += [
            r
            for r in response.received_messages
            if r.message.attributes.get("correlation_id") == cid
        ]
    assert received and received[0].message.data.decode() == data
    assert _audited("dead_letter_replay", dead_id) == [("otto@example.com", "operator", email_id)]
    assert email_id not in operator.get("/ops/dead-letters").get_data(as_text=True)
    # the processor got the replayed message: the trace shows its log lines (the timeline)
    deadline = time.monotonic() + 30
    while True:
        trace = operator.get(f"/ops/trace?correlation_id={cid}").get_data(as_text=True)
        if 'data-testid="timeline"' in trace and "processor" in trace:
            break
        assert time.monotonic() < deadline, "no processor log line for the replayed message"
        time.sleep(0.5)
    subscriber.delete_subscription(request={"subscription": watch})


def test_trace_shows_the_report_and_links_to_cloud_logging(app: Any, stack_env: dict) -> None:
    import pymongo

    from tests.console_support import seed_item

    client: Any = pymongo.MongoClient(stack_env["MONGODB_URI"])
    seeded = seed_item(client[get_settings().mongodb_database]["accounts"])
    client.close()
    operator = sign_in(app, "otto@example.com", "operator")
    page = operator.get(f"/ops/trace?correlation_id={seeded.correlation_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and seeded.email_id in html
    link = re.search(r'href="(https://console\.cloud\.google\.com/logs/query[^"]+)"', html)
    assert link and "jsonPayload.correlation_id" in link.group(1).replace("%2E", ".")
