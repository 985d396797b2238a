# clipsift — developer entry points. `make run` and `make test` do all their own setup.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PROTO_OUT := libs/common/src

.PHONY: setup run test test-unit test-integration test-e2e lint format proto proto-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3

# One stamp per dependency set, so `make test` after `make run` installs nothing twice.
$(VENV)/.installed: $(BIN)/python requirements/constraints.txt requirements/dev.txt $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(BIN)/pip install --quiet -c requirements/constraints.txt -r requirements/dev.txt \
		-e libs/common -e libs/cli -e services/text -e services/analytics -e services/gateway
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/clipsift up

test: setup proto-check lint
	$(BIN)/pytest

test-unit: setup
	$(BIN)/pytest -m "not integration and not e2e"

test-integration: setup
	$(BIN)/pytest -m integration

test-e2e: setup
	$(BIN)/pytest tests/e2e

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Typed stubs for every proto package, into the one `clipsift` package that all services import.
proto: setup
	$(BIN)/python scripts/gen_proto.py --out $(PROTO_OUT)

# Fails when the committed stubs differ from a fresh generation.
proto-check: setup
	$(BIN)/python scripts/gen_proto.py --check --out $(PROTO_OUT)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
