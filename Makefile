# The two commands: `make serve` and `make test`. Everything else here supports them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test lint typecheck pytest services validate bench stack clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The plugins of this repository (plugins/*), installed editable beside tenantedge: the demo tenants enable them
# (clientsite's contact form) and the tests load them.
PLUGINS := $(wildcard plugins/*/pyproject.toml)

$(VENV)/.plugins-installed: $(VENV)/.installed $(PLUGINS)
	$(BIN)/python -m pip install --quiet $(foreach plugin,$(PLUGINS),-e $(dir $(plugin)))
	touch $@

$(VENV)/.test-installed: $(VENV)/.plugins-installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

serve: $(VENV)/.plugins-installed
	$(BIN)/tenantedge serve --host $(HOST) --port $(PORT)

validate: $(VENV)/.plugins-installed
	$(BIN)/tenantedge validate tenants.json

services:
	bash .ci/services.sh

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests bench deploy plugins
	$(BIN)/ruff format --check src tests bench deploy plugins
	$(BIN)/hadolint Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

pytest: $(VENV)/.test-installed services
	$(BIN)/pytest

test: lint typecheck pytest

# The deployment topology on this machine: Redis, PostgreSQL, SeaweedFS, two instances, nginx and Caddy.
stack: $(VENV)/.test-installed services
	$(BIN)/python -m deploy.stack

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
