# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

## Start the gateway on http://127.0.0.1:8080 (SQLite under ./var/, demo config and KB).
run: $(STAMP)
	mkdir -p var
	$(BIN)/helpdesk-gateway run --config config/gateway.toml

## Set up and run the whole test suite (lint, types, tests).
test: $(STAMP)
	$(BIN)/ruff check gateway connectors knowledge_base tests benchmarks
	$(BIN)/mypy gateway connectors knowledge_base
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/kb_quality.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
