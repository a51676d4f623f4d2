"""The sizes of a run and what every benchmark gets: the stack, the sizes, a progress log.

``FULL`` is what ``make bench`` runs (the sizes the targets are set for, < 10 minutes on 2 cores);
``SMOKE`` is the same code with tiny sizes, for the smoke test in ``make test``.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from infra.bench.results import NotMeasured
from infra.stack import LocalStack


@dataclass(frozen=True)
class Sizes:
    repeats: int  # repeated runs of a timed benchmark; the figure is their median
    b1_emails: int
    b1_warmup: int
    b2_calls: int
    b3_emails: int
    b4_emails: int
    b4_threads: int
    b4_claude_seconds: float
    b5_seconds: int
    b5_connections: int
    b6_repeats: int
    b6_parallel: bool  # smoke only: start all processes at once (figures meaningless)
    b7_rows: int
    b8_emails: int  # how many sample emails (0: all)
    b9_emails: int
    b9_claude_seconds: float
    b9_timeout_seconds: float


FULL = Sizes(
    repeats=3,
    b1_emails=200,
    b1_warmup=10,
    b2_calls=200,
    b3_emails=50,
    b4_emails=64,
    b4_threads=16,
    b4_claude_seconds=1.0,
    b5_seconds=8,
    b5_connections=8,
    b6_repeats=3,
    b6_parallel=False,
    b7_rows=2_000_000,
    b8_emails=0,
    b9_emails=1000,
    b9_claude_seconds=0.2,
    b9_timeout_seconds=240.0,
)

SMOKE = Sizes(
    repeats=1,
    b1_emails=4,
    b1_warmup=2,
    b2_calls=10,
    b3_emails=3,
    b4_emails=8,
    b4_threads=4,
    b4_claude_seconds=0.2,
    b5_seconds=1,
    b5_connections=2,
    b6_repeats=1,
    b6_parallel=True,
    b7_rows=20_000,
    b8_emails=4,
    b9_emails=6,
    b9_claude_seconds=0.05,
    b9_timeout_seconds=60.0,
)


@dataclass
class BenchContext:
    stack: LocalStack
    sizes: Sizes
    smoke: bool
    work_dir: Path
    started: float = field(default_factory=time.monotonic)
    b8_corpus: Path | None = None  # B8's provider-shaped emails (default: eval/corpus)

    def log(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[bench {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)

    def env(self) -> dict[str, str]:
        return self.stack.env()

    def use_stack_env(self) -> None:
        """Point this process's settings at the stack (in-process benchmarks)."""
        from shared.config import reset_settings_cache
        from shared.db.engine import dispose_engine

        os.environ.update(self.stack.env())
        os.environ["LOG_LEVEL"] = "WARNING"  # the in-process pipeline's lines would drown the table
        reset_settings_cache()
        dispose_engine()


def require(module: str, *attributes: str) -> ModuleType:
    """``module``, or :class:`NotMeasured` unless it imports and has ``attributes``.

    Benchmarks reach code of other areas through this (not ``import``), so the harness still
    runs, and says what is missing, when that code cannot be imported.
    """
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        raise NotMeasured(f"{module} cannot be imported ({exc.name} missing)") from None
    missing = [name for name in attributes if not hasattr(loaded, name)]
    if missing:
        raise NotMeasured(f"{module} has no {', '.join(missing)}")
    return loaded
