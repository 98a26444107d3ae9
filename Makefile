# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs the project when missing or when
# pyproject.toml changed; otherwise the set-up step is a fast no-op.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin

.PHONY: demo test test-fast e2e browser-deps lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Debian's chromium for the dashboard's browser tests (never a downloaded browser).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium missing: run 'sudo apt-get install -y chromium' for the browser tests"; \
	  fi; \
	fi

demo: $(STAMP)
	$(BIN)/triagebot demo

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not browser"

e2e: $(STAMP)
	$(BIN)/python -m pytest -q -m e2e

lint: $(STAMP)
	$(BIN)/ruff check bot tests
	$(BIN)/ruff format --check bot tests
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Whole-process figures first (input from ../shared/bench or $$BENCH_DIR,
# pinned to core $(BENCH_CPU); BENCH_CPU=none runs unpinned), then the in-process ones.
BENCH_CPU ?= 0
bench: $(STAMP)
	$(BIN)/python tests/bench/bench_process.py --cpu $(BENCH_CPU)
	@echo
	@echo "in-process figures (the engine called directly: start-up and I/O left out):"
	$(BIN)/python tests/bench/bench_triage.py
	$(BIN)/python tests/bench/bench_advice.py
	$(BIN)/python tests/bench/bench_client.py
	$(BIN)/python tests/bench/bench_runner.py

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
