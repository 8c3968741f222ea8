# Two commands for a newcomer: `make demo` runs the demo, `make test` runs every check and test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install lint schema

$(BIN)/warehouse: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(BIN)/warehouse

## Run the demo: SQLite, an in-process MQTT broker, ingest, API and simulated devices.
demo: install
	$(BIN)/warehouse demo $(ARGS)

## Lint, type-check, check the layering and the modules' size, run the whole test suite, then
## check that the edge agent installs and runs with only its own extra.
test: install
	@bash scripts/services.sh
	@bash scripts/browser.sh
	@bash scripts/deploy-tools.sh
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/structure.py
	$(BIN)/pytest
	bash scripts/edge-only.sh

## Regenerate the contract's JSON Schema after changing a model.
schema: install
	$(BIN)/python -m warehouse.contracts.schema docs/contract
