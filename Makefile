# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint bench clean messages

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The default install: light, no PyTorch.
$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	touch $@

# The tests also cover the optional [semantic] (CPU build of PyTorch) and [multilingual] extras.
$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e '.[test,semantic,multilingual]'
	touch $@

## Start the gateway on http://127.0.0.1:8080 (SQLite under ./var/, demo config and KB),
## with Velora's demo back office on 127.0.0.1:8090 beside it (docs/integrations.md).
run: $(RUN_STAMP)
	mkdir -p var
	$(BIN)/python examples/backoffice/app.py --port 8090 & backoffice=$$!; \
	trap 'kill $$backoffice 2>/dev/null' EXIT INT TERM; \
	$(BIN)/helpdesk-gateway run --config config/gateway.toml

## Set up and run the whole test suite (lint, types, tests).
test: $(TEST_STAMP)
	$(BIN)/ruff check gateway connectors knowledge_base tests benchmarks tools
	$(BIN)/mypy gateway connectors knowledge_base tools
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

## The console's message catalogues: extract every msgid, merge it into each language's .po
## (new ones empty, changed ones fuzzy), then translate them (docs/console.md).
CATALOGUES := gateway/console/locale
messages: $(TEST_STAMP)
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k Np_:1,2 --no-location --sort-output --omit-header \
		-o var/console.pot .
	$(BIN)/pybabel update -D console -i var/console.pot -d $(CATALOGUES) -w 100 \
		--ignore-obsolete --ignore-pot-creation-date

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/kb_quality.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
