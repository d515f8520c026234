# Quick start: `make run` (install, build the demo knowledge graph, serve on :8000) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= .maatwerk
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1

.PHONY: install run test test-long bench bench-large gate-eval browser-deps clean
.PHONY: lint lock

install: $(STAMP)

# torch first, pinned, so that nothing later pulls a CUDA build from the index. Then the exact
# versions of requirements.lock, and the project itself without letting pip add anything unlocked.
$(STAMP): pyproject.toml requirements.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	@# Deduce pins regex<2025, which transformers cannot use; Deduce runs on the newer regex (the gate's
	@# tests prove it), so it comes without its pins and that one reported conflict is expected.
	$(BIN)/pip install -q --no-deps deduce==3.0.6
	! $(BIN)/pip check | grep -v -e '^deduce .* has requirement regex' -e '^No broken requirements'
	@# Build the gate's name and street lists now (seconds), so no request or import pays for it.
	$(BIN)/python -m ingest.deduce_gate
	touch $(STAMP)

# Re-resolve requirements.lock after a change to the dependencies in pyproject.toml (keeps the
# other pins); `make lock UPGRADE=1` moves every pin to the newest allowed version.
lock:
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/pip-compile || $(BIN)/pip install -q pip-tools
	$(BIN)/pip-compile --quiet --extra test --strip-extras --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links $(if $(UPGRADE),--upgrade) -o requirements.lock pyproject.toml
	@# The CPU torch wheel needs no CUDA libraries: any in the lock means a CUDA build was resolved.
	@! grep -iE '^(nvidia-|triton)' requirements.lock || (echo "requirements.lock pulls CUDA packages" >&2; exit 1)

# All three run, so one report shows every finding; any of them failing fails the target.
lint: install
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check --output-format concise . || status=1; \
	$(BIN)/mypy || status=1; \
	exit $$status

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

# The 1,000,000-case run (hours on a 2-core machine: run it when the machine is otherwise idle).
# `make bench-large N=2000 BENCH_ARGS="--requests 50 --load-requests 100"` tries the path quickly.
N ?= 1000000
bench-large: install
	$(BIN)/python -m bench.run --sizes $(N) --skip-rdflib --out bench/out/large --results bench/out/large/RESULTS.md $(BENCH_ARGS)
	$(BIN)/python -m bench.analytics --n $(N) --out bench/out/large-analytics $(if $(filter 1000000,$(N)),--skip-plain)

clean:
	rm -rf $(DATA_DIR) build *.egg-info
