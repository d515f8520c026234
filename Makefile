# Quick start: `make run` (install, build the demo knowledge graph, serve on :8000) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= .maatwerk
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1

.PHONY: install run test test-long bench gate-eval browser-deps clean

install: $(STAMP)

# torch first, pinned, so that nothing later pulls a CUDA build from the index.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: install
	@if [ ! -d "$(DATA_DIR)/store" ]; then $(BIN)/maatwerk init --demo --data-dir $(DATA_DIR); fi
	$(BIN)/maatwerk serve --data-dir $(DATA_DIR) --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests; skipped quietly where apt is unavailable.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	  echo "chromium not installed: browser tests will be skipped")

test: install browser-deps
	$(BIN)/python -m pytest -q

test-long: install browser-deps
	$(BIN)/python -m pytest -q -m "slow"

bench: install
	$(BIN)/python -m bench.run

# Privacy gate: recall per kind and false-positive rate on tests/data/gate (both halves).
gate-eval: install
	$(BIN)/python -m ingest.gate_eval

clean:
	rm -rf $(DATA_DIR) build *.egg-info
