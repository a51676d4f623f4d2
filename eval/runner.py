"""``make eval``: the corpus through the real pipeline on a local stack of its own.

    python -m eval [--limit N] [--only TEXT] [--subset] [--yes]

Without ``ANTHROPIC_API_KEY`` the rules extractor reads every email (free, about a minute).
With it, real Claude does, one request per email: the estimated cost is printed before the
first request, and without ``--limit`` a run over more than 20 emails asks first (``--yes``
skips the question). The table goes to stdout, the progress bar to stderr, the figures (and
what the processor did with each email) to ``.local/eval.json``; the previous run's file is
kept as ``.local/eval.previous.json`` and the difference printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from eval.harness import Harness, load_labels
from eval.paths import RESULT_NAME
from eval.report import diff, render
from eval.scoring import score
from eval.subset import subset_names

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULT_PATH = REPO_ROOT / ".local" / RESULT_NAME
PREVIOUS_PATH = RESULT_PATH.with_suffix(".previous.json")
CONFIRM_ABOVE = 20

# USD per million tokens (input, output) by model family; EVAL_PRICE_INPUT/OUTPUT override.
PRICES = {"opus": (5.0, 25.0), "sonnet": (3.0, 15.0), "haiku": (1.0, 5.0)}
OUTPUT_TOKENS_PER_EMAIL = 600
TOKENS_PER_SCANNED_PAGE = 1600


def evaluate(
    names: Iterable[str],
    *,
    use_claude: bool,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``names`` through the pipeline (``os.environ`` holds the stack's addresses) and
    score them: ``(figures, observed per email)``."""
    labels = load_labels()
    chosen = list(names)
    observed: dict[str, Any] = {}
    with Harness(use_claude=use_claude) as harness:
        for index, name in enumerate(chosen, start=1):
            if progress is not None:
                progress(index - 1, len(chosen), name)
            observed[name] = harness.run(name, labels[name]).to_json()
        if progress is not None:
            progress(len(chosen), len(chosen), "")
    result = score({n: labels[n] for n in chosen}, observed)
    result["corpus_sha256"] = corpus_fingerprint(chosen)
    return result, observed


def corpus_fingerprint(names: list[str]) -> str:
    """One hash over the emails run and their labels: tells whether two runs read the same."""
    from eval.paths import CORPUS_DIR, LABELS_PATH

    digest = hashlib.sha256()
    labels = json.loads(LABELS_PATH.read_text())
    for name in sorted(names):
        digest.update(name.encode())
        digest.update((CORPUS_DIR / name).read_bytes())
        digest.update(json.dumps(labels[name], sort_keys=True).encode())
    return digest.hexdigest()


def progress_bar(done: int, total: int, name: str) -> None:
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "." * (width - filled)
    end = "\n" if done == total else ""
    sys.stderr.write(f"\r[{bar}] {done:>3}/{total} {name[:40]:<40}{end}")
    sys.stderr.flush()


def estimate_cost(names: list[str]) -> tuple[float, int, int, str]:
    """(USD, input tokens, output tokens, model) for Claude reading ``names``."""
    from eval.paths import CORPUS_DIR
    from shared.config import get_settings
    from shared.extraction.email_parser import parse_email
    from shared.extraction.prompt import build_request

    settings = get_settings()
    tokens_in = 0
    for name in names:
        email = parse_email((CORPUS_DIR / name).read_bytes())
        request = build_request(email, settings)
        tokens_in += len(json.dumps(request, ensure_ascii=False)) // 4
        tokens_in += TOKENS_PER_SCANNED_PAGE * len(email.scanned_pdfs)
    tokens_out = OUTPUT_TOKENS_PER_EMAIL * len(names)
    model = settings.claude_model
    family = next((f for f in PRICES if f in model), "sonnet")
    price_in = float(os.environ.get("EVAL_PRICE_INPUT", PRICES[family][0]))
    price_out = float(os.environ.get("EVAL_PRICE_OUTPUT", PRICES[family][1]))
    usd = tokens_in / 1e6 * price_in + tokens_out / 1e6 * price_out
    return usd, tokens_in, tokens_out, model


def _choose(args: argparse.Namespace) -> list[str]:
    labels = load_labels()
    names = subset_names(labels) if args.subset else sorted(labels)
    if args.only:
        names = [n for n in names if args.only in n]
    if args.limit is not None:
        names = names[: args.limit]
    return names


def _confirm(names: list[str], args: argparse.Namespace) -> bool:
    usd, tokens_in, tokens_out, model = estimate_cost(names)
    print(
        f"Claude ({model}) will read {len(names)} emails: about {tokens_in:,} input and "
        f"{tokens_out:,} output tokens, at most about ${usd:.2f} (list prices, no prompt-cache "
        "discount; EVAL_PRICE_INPUT/EVAL_PRICE_OUTPUT in USD per million tokens correct them).",
        flush=True,
    )
    if args.yes or args.limit is not None or len(names) <= CONFIRM_ABOVE:
        return True
    if not sys.stdin.isatty():
        print("more than 20 emails without --limit: pass --yes to confirm", file=sys.stderr)
        return False
    return input("Continue? [y/N] ").strip().lower() in ("y", "yes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make eval", description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N emails (by file name)")
    parser.add_argument("--only", help="only emails whose file name contains this text")
    parser.add_argument("--subset", action="store_true", help="the fast subset make test runs")
    parser.add_argument("--yes", action="store_true", help="do not ask before spending on Claude")
    args = parser.parse_args(argv)
    names = _choose(args)
    use_claude = bool(os.environ.get("ANTHROPIC_API_KEY"))
    if use_claude and not _confirm(names, args):
        return 1
    if not use_claude:
        print("ANTHROPIC_API_KEY is not set: the rules extractor reads the emails", flush=True)

    from infra.stack import LocalStack, StackError
    from shared.config import reset_settings_cache

    state_dir = REPO_ROOT / ".local" / f"eval-stack-{os.getpid()}"
    stack = LocalStack(state_dir, functions=(), claude="real" if use_claude else "none")
    started = time.monotonic()
    try:
        stack.start()
    except StackError as exc:
        print(f"local stack failed to start: {exc}", file=sys.stderr)
        return 3
    try:
        os.environ.update(stack.env())
        if not use_claude:
            for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
                os.environ.pop(name, None)
        reset_settings_cache()
        result, observed = evaluate(names, use_claude=use_claude, progress=progress_bar)
    finally:
        stack.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
    result["seconds"] = round(time.monotonic() - started, 1)
    print(render(result))
    result["observed"] = observed
    RESULT_PATH.parent.mkdir(parents=True, exist_ok=True)
    if RESULT_PATH.exists():
        previous = json.loads(RESULT_PATH.read_text())
        shutil.copyfile(RESULT_PATH, PREVIOUS_PATH)
        print("\nchange against the previous run:")
        print(diff(previous, result))
    RESULT_PATH.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"\nwritten: {RESULT_PATH.relative_to(REPO_ROOT)} ({result['seconds']} s)")
    return 0
