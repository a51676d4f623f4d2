"""Garbage collection while an instance starts: paused by the entry module, back on in the
master once it has forked, and in the worker once the first invocation's answer is sent; what
the worker allocated is never frozen."""

from __future__ import annotations

import ast
import gc
import os
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import coldstart
from shared.runtime import invocation

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    # an entry module imported in-process earlier in the session may have paused collection
    was_enabled, paused, paused_in = gc.isenabled(), coldstart._paused, coldstart._paused_in
    coldstart._paused, coldstart._paused_in = False, None
    yield
    coldstart._paused, coldstart._paused_in = paused, paused_in
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_pause_then_resume_collects_again_and_freezes_nothing() -> None:
    gc.enable()
    frozen = gc.get_freeze_count()
    coldstart.pause_collection()
    assert not gc.isenabled() and coldstart.collection_paused()

    coldstart.resume_collection()

    assert gc.isenabled() and not coldstart.collection_paused()
    assert gc.get_freeze_count() <= frozen  # nothing added (frozen objects may be freed)


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_what_other_invocations_held_at_the_resume_is_collected_afterwards() -> None:
    gc.enable()
    coldstart.pause_collection()
    held_elsewhere = Node()
    gone = weakref.ref(held_elsewhere)
    coldstart.resume_collection()  # the first invocation ends while another still runs
    del held_elsewhere  # ... which then ends too
    gc.collect()
    assert gone() is None


def test_resume_acts_once() -> None:
    gc.enable()
    coldstart.pause_collection()
    coldstart.resume_collection()
    gc.disable()  # someone else's decision afterwards
    coldstart.resume_collection()
    assert not gc.isenabled()


def test_collection_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    coldstart.pause_collection()
    coldstart.resume_collection()
    assert not gc.isenabled()


def test_resume_without_pause_changes_nothing() -> None:
    gc.enable()
    coldstart.resume_collection()
    assert gc.isenabled()


def test_the_first_invocation_resumes_collection() -> None:
    gc.enable()
    coldstart.pause_collection()
    with invocation("unit-test", None):
        assert not gc.isenabled()
    assert gc.isenabled()


def test_in_a_request_collection_resumes_once_the_answer_is_sent() -> None:
    from flask import Flask

    app = Flask(__name__)
    inside: list[bool] = []

    @app.post("/")
    def view() -> str:
        with invocation("unit-test", None):
            inside.append(gc.isenabled())
        return "ok"

    gc.enable()
    coldstart.pause_collection()
    response = app.test_client().post("/")
    assert response.status_code == 200 and inside == [False]
    assert not gc.isenabled()  # the answer is out, its close not yet run
    response.close()
    assert gc.isenabled()


def test_the_master_collects_again_once_it_has_forked_and_the_worker_does_not() -> None:
    gc.enable()
    coldstart.pause_collection()
    child = os.fork()
    if child == 0:  # the worker: paused until its first invocation
        os._exit(0 if not gc.isenabled() and coldstart.collection_paused() else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert gc.isenabled()


def test_a_failed_first_invocation_resumes_collection_too() -> None:
    gc.enable()
    coldstart.pause_collection()
    with pytest.raises(RuntimeError), invocation("unit-test", None):
        raise RuntimeError("boom")
    assert gc.isenabled()


@pytest.mark.parametrize("main", sorted(FUNCTIONS.glob("*/main.py")), ids=lambda p: p.parent.name)
def test_entry_modules_pause_first_and_freeze_last(main: Path) -> None:
    body = ast.parse(main.read_text()).body
    calls = [
        node.value.func.id
        for node in body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
    ]
    assert calls[0] == "pause_collection", calls
    assert calls[-1] == "freeze_import_heap", calls
    imports_before_pause = [
        node
        for node in body[
            : next(
                i
                for i, n in enumerate(body)
                if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
            )
        ]
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shared")
    ]
    assert [node.module for node in imports_before_pause] == ["shared.coldstart"]
