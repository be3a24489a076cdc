# Two entry points do all their own setup on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := .demo

.PHONY: demo test lint typecheck contracts pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	@rm -rf $(DEMO_DIR)
	$(BIN)/rootcause lab new --bug persona_reward_quirk --seed 7 \
		--answer-key $(DEMO_DIR)/answer-key.json $(DEMO_DIR)/run
	$(BIN)/rootcause --workspace $(DEMO_DIR)/workspace overview $(DEMO_DIR)/run

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

clean:
	rm -rf $(VENV) $(DEMO_DIR) .rootcause .mypy_cache .pytest_cache .ruff_cache
