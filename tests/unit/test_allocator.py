"""shared.allocator: glibc tuned once per instance, trimmed after large bodies, no-op elsewhere."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import allocator
from shared.config import load_settings


class RecordingLibc:
    """Stands in for glibc: records mallopt and malloc_trim calls."""

    def __init__(self) -> None:
        self.mallopt_calls: list[tuple[int, int]] = []
        self.trims = 0

    def mallopt(self, param: int, value: int) -> int:
        self.mallopt_calls.append((param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.trims += 1
        return 1


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    allocator.reset_allocator_state()
    yield
    allocator.reset_allocator_state()


@pytest.fixture
def libc(monkeypatch: pytest.MonkeyPatch) -> RecordingLibc:
    fake = RecordingLibc()
    monkeypatch.setattr(allocator, "_load_glibc", lambda: fake)
    return fake


def test_tuning_sets_threshold_trim_and_arenas_once(libc: RecordingLibc) -> None:
    settings = load_settings({"MEMORY_ARENA_MAX": "3"})
    assert allocator.tune_allocator(settings) is True
    assert allocator.tune_allocator(settings) is True  # once per process
    assert libc.mallopt_calls == [
        (allocator.M_MMAP_THRESHOLD, 128 * 1024),
        (allocator.M_TRIM_THRESHOLD, 4 * 1024 * 1024),
        (allocator.M_ARENA_MAX, 3),
    ]


def test_disabled_tuning_changes_nothing(libc: RecordingLibc) -> None:
    assert allocator.tune_allocator(load_settings({"MEMORY_TUNING_ENABLED": "false"})) is False
    with allocator.released_after_invocation():
        allocator.release_after_large_payload(100 * 1024 * 1024)
    assert libc.mallopt_calls == [] and libc.trims == 0


def test_without_glibc_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_load_glibc", lambda: None)
    assert allocator.tune_allocator(load_settings({})) is False
    with allocator.released_after_invocation():
        allocator.release_after_large_payload(100 * 1024 * 1024)  # must not raise


def test_trim_only_after_an_invocation_with_a_large_body(libc: RecordingLibc) -> None:
    allocator.tune_allocator(load_settings({"MEMORY_TRIM_AFTER_BYTES": "1000"}))
    with allocator.released_after_invocation():
        allocator.release_after_large_payload(999)
    assert libc.trims == 0
    with allocator.released_after_invocation():
        allocator.release_after_large_payload(1000)
    assert libc.trims == 1
    with allocator.released_after_invocation():  # the next invocation starts clean
        pass
    assert libc.trims == 1


def test_a_large_body_read_on_the_overlap_pool_still_trims(libc: RecordingLibc) -> None:
    """The processor reads the email on a pool thread, in a copy of the invocation's context."""
    from shared import workers

    allocator.tune_allocator(load_settings({"MEMORY_TRIM_AFTER_BYTES": "1000"}))
    with allocator.released_after_invocation():
        read = workers.submit(lambda: allocator.release_after_large_payload(5000))
        workers.result_of(read, timeout=5)
    assert libc.trims == 1


_MALLINFO2_FIELDS = (
    *("arena", "ordblks", "smblks", "hblks", "hblkhd"),
    *("usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"),
)


_PROBE = """
import ctypes
from shared import allocator
from shared.config import load_settings


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


libc = allocator._load_glibc()
assert libc is not None, "the test machines run glibc"
libc.mallinfo2.restype = MallInfo2
tuned = {tuned}
if tuned:
    assert allocator.tune_allocator(load_settings({{}})) is True
big = ctypes.create_string_buffer(24 * 1024 * 1024)
del big
before = libc.mallinfo2().hblkhd
medium = ctypes.create_string_buffer(2 * 1024 * 1024)
print(libc.mallinfo2().hblkhd - before)
"""


def _mmapped_growth(*, tuned: bool) -> int:
    """Bytes newly mmapped for a 2 MB buffer allocated right after a 24 MB one was freed, in a
    fresh interpreter (a long-lived test process's heap may already hold a free 2 MB chunk)."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(tuned=tuned)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip())


def test_real_glibc_keeps_large_buffers_mmapped_after_a_large_free() -> None:
    """On this (glibc) machine: after a 24 MB block is freed, a 2 MB one is still mmapped when
    tuned; untuned glibc raises its threshold to 24 MB and puts it on the heap."""
    assert _mmapped_growth(tuned=True) >= 2 * 1024 * 1024
    assert _mmapped_growth(tuned=False) == 0
