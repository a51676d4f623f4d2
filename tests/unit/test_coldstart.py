"""Garbage collection while an instance starts: paused by the entry module, resumed (with
start-up's heap frozen) when the first invocation ends, once."""

from __future__ import annotations

import ast
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import coldstart
from shared.runtime import invocation

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    coldstart._paused = False
    gc.unfreeze()
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_pause_then_resume_freezes_what_start_built_and_collects_again() -> None:
    gc.enable()
    coldstart.pause_collection()
    assert not gc.isenabled()
    start_up = [object() for _ in range(1000)]
    frozen_before = gc.get_freeze_count()

    coldstart.resume_collection()

    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + 1
    assert start_up


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
    assert gc.get_freeze_count() == 0


def test_resume_without_pause_changes_nothing() -> None:
    gc.enable()
    coldstart.resume_collection()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_first_invocation_resumes_collection() -> None:
    gc.enable()
    coldstart.pause_collection()
    with invocation("unit-test", None):
        assert not gc.isenabled()
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
