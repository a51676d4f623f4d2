"""Statements that commit but whose answer is lost, against the real Postgres.

A dropped connection or a socket timeout after the server committed looks to the processor like
an outage (``DependencyUnavailable``): the delivery raises and Pub/Sub redelivers. What the
statement did must not be done twice (the finishing statement's metrics), nor be left behind
for a whole lease (the claim's lease).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text

from shared.db.engine import transaction
from shared.errors import DependencyUnavailable
from shared.processing import store as store_module
from shared.processing.outcome import Outcome
from shared.processing.store import PostgresProcessingStore
from tests.processing_fakes import (
    FakeAccounts,
    account_document,
    extraction,
    push_delivery,
    store_backed_pipeline,
)


def _lose_the_answer_of(monkeypatch: pytest.MonkeyPatch, marker: str) -> list[str]:
    """The store's next statement containing ``marker`` runs and commits (autocommit), then
    its answer is lost as a socket timeout would lose it. Returns the statements lost."""
    real = store_module.autocommit_or_unavailable
    lost: list[str] = []

    class _Lossy:
        def __init__(self, conn: Any) -> None:
            self._conn = conn

        def execute(self, statement: Any, params: Any = None) -> Any:
            result = self._conn.execute(statement, params)
            if not lost and marker in str(statement):
                lost.append(marker)
                raise DependencyUnavailable("postgres", "TimeoutError")
            return result

    @contextmanager
    def lossy() -> Iterator[Any]:
        with real() as conn:
            yield _Lossy(conn)

    monkeypatch.setattr(store_module, "autocommit_or_unavailable", lossy)
    return lost


def _scalar(sql: str, **params: Any) -> Any:
    with transaction() as session:
        return session.execute(text(sql), params).scalar_one()


def _pipeline() -> tuple[Any, Callable[[str], Any]]:
    store = PostgresProcessingStore(lease_seconds=360)
    answer = extraction(case_number="CASE-2024-0001", amount=200.0, currency="EUR")
    pipeline, raw = store_backed_pipeline(FakeAccounts([account_document()]), store, answer)

    def delivery(email_id: str) -> Any:
        d = push_delivery(email_id)
        raw.put(d.notice, b"raw mime")
        return d

    return pipeline, delivery


def test_metrics_of_a_finish_whose_answer_was_lost_are_written_once(
    stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline, delivery = _pipeline()
    d = delivery(f"em-lost-finish-{uuid.uuid4().hex}")
    lost = _lose_the_answer_of(monkeypatch, "WITH done AS")
    with pytest.raises(DependencyUnavailable):
        pipeline.process(d)
    assert lost  # the finishing statement committed, its answer was lost
    monkeypatch.undo()
    assert pipeline.process(d) == Outcome.DUPLICATE
    with transaction() as session:
        twice = session.execute(
            text(
                "SELECT name, labels::text, count(*) FROM operational_metrics"
                " WHERE email_id = :e GROUP BY 1, 2 HAVING count(*) > 1"
            ),
            {"e": d.email_id},
        ).all()
        names = set(
            session.execute(
                text("SELECT name FROM operational_metrics WHERE email_id = :e"),
                {"e": d.email_id},
            ).scalars()
        )
    assert twice == []
    # the finish's rows are there once, and the lost answer itself is counted
    assert {"decision", "processing_seconds", "error"} <= names
    assert (
        _scalar(
            "SELECT count(*) FROM operational_metrics WHERE email_id = :e AND name = 'error'",
            e=d.email_id,
        )
        == 1
    )


def test_metrics_of_a_transient_failure_are_written(
    stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard against writing twice does not stop the first write."""
    store = PostgresProcessingStore(lease_seconds=360)
    pipeline, raw = store_backed_pipeline(
        FakeAccounts([account_document()]), store, extraction(case_number="CASE-2024-0001")
    )
    d = push_delivery(f"em-transient-{uuid.uuid4().hex}")
    raw.fail_with = DependencyUnavailable("gcs", "Timeout", stage="read")
    raw.put(d.notice, b"raw mime")
    with pytest.raises(DependencyUnavailable):
        pipeline.process(d)
    assert (
        _scalar(
            "SELECT count(*) FROM operational_metrics WHERE email_id = :e AND name = 'error'",
            e=d.email_id,
        )
        == 1
    )


def test_a_claim_whose_answer_was_lost_gives_its_lease_back(
    stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline, delivery = _pipeline()
    d = delivery(f"em-lost-claim-{uuid.uuid4().hex}")
    lost = _lose_the_answer_of(monkeypatch, "WITH claimed AS")
    with pytest.raises(DependencyUnavailable):
        pipeline.process(d)
    assert lost
    monkeypatch.undo()
    # the claim committed (one attempt counted) but the lease is free again
    assert _scalar("SELECT attempts FROM emails WHERE email_id = :e", e=d.email_id) == 1
    assert _scalar("SELECT lease_owner FROM emails WHERE email_id = :e", e=d.email_id) is None
    # so the redelivery processes it now instead of waiting out a whole lease
    assert pipeline.process(d) == Outcome.DONE
