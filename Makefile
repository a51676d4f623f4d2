# Two commands for a newcomer: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run test lint format typecheck package bench soak clean deps eval

$(STAMP): requirements.txt requirements-dev.txt
	@echo "==> preparing $(VENV) and installing pinned dependencies"
	@bash infra/check_system.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2> >(grep -v "is ignored: it is neither" >&2)
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

deps: $(STAMP)

run: $(STAMP)
	@echo "==> starting the local stack (Ctrl-C stops everything)"
	@$(PY) -m infra.run $(if $(ONCE),--once,)

test: $(STAMP) lint typecheck
	@echo "==> running the test suite against the local stack of real servers"
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	@echo "==> ruff check and format check"
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

format: $(STAMP)
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	@echo "==> mypy (strict) over shared/"
	@$(VENV)/bin/mypy

soak: $(STAMP)
	@echo "==> reliability suite at full sizes (5,000-email soak; about 30 minutes; see docs/reliability.md)"
	@RELIABILITY_SIZE=soak $(PY) -m pytest tests/reliability -p no:cacheprovider $(PYTEST_ARGS)

package: $(STAMP)
	@$(PY) -m infra.package

bench: $(STAMP)
	@echo "==> benchmarks on a local stack of their own (under 10 minutes; see docs/bench.md)"
	@$(PY) -m infra.bench $(BENCH_ARGS)

eval: $(STAMP)
	@echo "==> the labelled corpus through the real pipeline on a local stack (see docs/evaluation.md)"
	@$(PY) -m eval $(EVAL_ARGS)

clean:
	rm -rf .local dist .pytest_cache .ruff_cache .mypy_cache
