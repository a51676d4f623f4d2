"""A long replay of the dead letters keeps their leases: an ack after the subscription's own
lease may not take, and the next replay would publish the message again (fakes for the clients;
tests/integration/test_ops.py replays through the Pub/Sub emulator)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from shared.config import load_settings
from shared.ops.dlq import KEEP_EVERY_SECONDS, KEEP_SECONDS, DeadLetterQueue


class _Message:
    def __init__(self, index: int) -> None:
        self.message_id = f"m{index}"
        self.data = b'{"email_id": "e%d"}' % index
        self.attributes = {"email_id": f"e{index}"}
        self.publish_time = None


class _Received:
    def __init__(self, index: int) -> None:
        self.ack_id = f"ack{index}"
        self.message = _Message(index)


class _Subscriber:
    def __init__(self, count: int) -> None:
        self._pending = [_Received(i) for i in range(count)]
        self.deadlines: list[tuple[list[str], int]] = []
        self.acked: list[str] = []

    def subscription_path(self, project: str, name: str) -> str:
        return f"projects/{project}/subscriptions/{name}"

    def pull(self, request: dict[str, Any], timeout: float) -> Any:
        batch, self._pending = (
            self._pending[: request["max_messages"]],
            self._pending[request["max_messages"] :],
        )
        return type("Response", (), {"received_messages": batch})()

    def modify_ack_deadline(self, request: dict[str, Any], timeout: float) -> None:
        self.deadlines.append((list(request["ack_ids"]), request["ack_deadline_seconds"]))

    def acknowledge(self, request: dict[str, Any], timeout: float) -> None:
        self.acked += request["ack_ids"]


class _Publisher:
    def topic_path(self, project: str, name: str) -> str:
        return f"projects/{project}/topics/{name}"

    def publish(self, topic: str, data: bytes, **attributes: str) -> Future[str]:
        done: Future[str] = Future()
        done.set_result("new-id")
        return done


def test_the_leases_of_the_messages_left_to_replay_are_kept_as_it_goes() -> None:
    seconds = {"now": 0.0}

    def clock() -> float:
        seconds["now"] += 50.0  # every replay takes a while (a slow network)
        return seconds["now"]

    subscriber = _Subscriber(6)
    queue = DeadLetterQueue(
        load_settings({}), subscriber=subscriber, publisher=_Publisher(), clock=clock
    )
    done, missing = queue.replay_selected(None)
    assert len(done) == 6 and missing == [] and len(subscriber.acked) == 6
    kept = [(ids, deadline) for ids, deadline in subscriber.deadlines if deadline == KEEP_SECONDS]
    assert kept[0][0] == [f"ack{i}" for i in range(6)]  # all of them, before the first replay
    assert len(kept) >= 2  # and again, for those left, before KEEP_EVERY_SECONDS passed
    assert kept[1][0] == [f"ack{i}" for i in range(6 - len(kept[1][0]), 6)]
    assert KEEP_EVERY_SECONDS < KEEP_SECONDS - 60
