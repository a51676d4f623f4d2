# Two commands for a newcomer: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock requirements-dev.lock | sha1sum | cut -c1-12)
# pip-compile's options for both lock files (pip-tools is pinned in requirements-dev.txt).
COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

.PHONY: run test unit integration e2e lint format typecheck package bench eval soak clean deps lock

$(STAMP): requirements.lock requirements-dev.lock
	@echo "==> preparing $(VENV) and installing the locked dependencies (hashes checked)"
	@bash infra/check_system.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock 2> >(grep -v "is ignored: it is neither" >&2)
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

deps: $(STAMP)

run: $(STAMP)
	@echo "==> starting the local stack (Ctrl-C stops everything)"
	@$(PY) -m infra.run $(if $(ONCE),--once,)

test: $(STAMP) lint typecheck
	@echo "==> running the test suite against the local stack of real servers"
	@$(PY) -m pytest $(PYTEST_ARGS)

unit: $(STAMP)
	@echo "==> unit tests (fakes, no servers)"
	@$(PY) -m pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP)
	@echo "==> integration tests against the local stack of real servers"
	@$(PY) -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(STAMP)
	@echo "==> end-to-end tests: webhook -> Pub/Sub -> processor -> Postgres, MongoDB, SMTP"
	@$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

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
	@echo "==> benchmarks on a local stack of their own (under 10 minutes; see docs/benchmarks.md)"
	@$(PY) -m infra.bench $(BENCH_ARGS)

eval: $(STAMP)
	@echo "==> the labelled corpus through the real pipeline on a local stack (see docs/evaluation.md)"
	@$(PY) -m eval $(EVAL_ARGS)

lock: $(STAMP)
	@echo "==> resolving requirements.lock and requirements-dev.lock (hashes) from requirements*.txt"
	@$(COMPILE) -o requirements.lock requirements.txt 2> >(grep -v "is ignored: it is neither" >&2)
	@$(COMPILE) -o requirements-dev.lock requirements-dev.txt 2> >(grep -v "is ignored: it is neither" >&2)

clean:
	rm -rf .local dist .pytest_cache .ruff_cache .mypy_cache
