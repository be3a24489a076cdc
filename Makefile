# Two entry points do all their own setup on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := .demo

.PHONY: demo chat test lint typecheck contracts pytest bench bench-tui clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Tests also cover the optional semantic extra. Its torch comes as the CPU build pinned in the
# extra (installed first, so nothing pulls a CUDA build of several GB).
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e '.[dev,semantic]'
	touch $(VENV)/.installed $@

# The main job on an embedded default: a lab run with a seeded persona quirk, investigated by
# the systematic brain. Only the symptom is read from the answer key, as a user would report it.
# The key is kept as key.json beside the run, where `rootcause fix` (and the chat's /fix) find it
# to verify the fix by re-simulation.
demo: $(VENV)/.installed
	@rm -rf $(DEMO_DIR)
	$(BIN)/rootcause lab new --bug persona_reward_quirk --seed 7 \
		--answer-key $(DEMO_DIR)/key.json $(DEMO_DIR)/run
	$(BIN)/rootcause --workspace $(DEMO_DIR)/workspace investigate $(DEMO_DIR)/run \
		--symptom "$$($(BIN)/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["symptom"])' $(DEMO_DIR)/key.json)" \
		--markdown $(DEMO_DIR)/report.md
	@echo
	@sed -n '1,/^## Hypotheses/p' $(DEMO_DIR)/report.md | sed '$$d'

# The terminal app on the demo run (make demo creates it). Each make chat opens a new session
# in the demo's workspace; `rootcause --workspace .demo/workspace chat` lists them to reopen.
chat: $(VENV)/.installed
	@if [ ! -f $(DEMO_DIR)/run/run.yaml ]; then \
		echo "no demo run in $(DEMO_DIR)/run: run 'make demo' first" >&2; exit 1; fi
	$(BIN)/rootcause --workspace $(DEMO_DIR)/workspace chat $(DEMO_DIR)/run

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check rootcause tests tools
	$(BIN)/ruff format --check rootcause tests tools

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

contracts: $(VENV)/.installed-dev
	$(BIN)/lint-imports

# pytest exits 5 when it collects nothing; for us that is a broken suite, not a pass.
pytest: $(VENV)/.installed-dev
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test: lint typecheck contracts pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python tools/bench_ingest.py

bench-tui: $(VENV)/.installed-dev
	$(BIN)/python tools/bench_tui.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .rootcause .mypy_cache .pytest_cache .ruff_cache
