"""Where the corpus, its labels and the accounts seed live (imported without the generator).

``EVAL_CORPUS`` names another labelled corpus laid out like this directory (``corpus/*.eml``,
``labels.json``, ``accounts.json``): mail held out from the people who tune the rules, read by
the same harness and scored by the same figures.
"""

from __future__ import annotations

import os
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("EVAL_CORPUS") or EVAL_DIR).resolve()
CORPUS_DIR = DATA_DIR / "corpus"
LABELS_PATH = DATA_DIR / "labels.json"
ACCOUNTS_PATH = DATA_DIR / "accounts.json"
THRESHOLDS_PATH = EVAL_DIR / "thresholds.json"
# each corpus keeps its own last result, so a run's difference compares like with like
RESULT_NAME = "eval.json" if DATA_DIR == EVAL_DIR else f"eval-{DATA_DIR.name}.json"
