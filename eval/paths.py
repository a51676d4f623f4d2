"""Where the corpus, its labels and the accounts seed live (imported without the generator)."""

from __future__ import annotations

from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
CORPUS_DIR = EVAL_DIR / "corpus"
LABELS_PATH = EVAL_DIR / "labels.json"
ACCOUNTS_PATH = EVAL_DIR / "accounts.json"
THRESHOLDS_PATH = EVAL_DIR / "thresholds.json"
