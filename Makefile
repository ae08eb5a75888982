# gesturepilot — one command for each job. Everything installs into .venv/ at the repository root.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SHARED ?= ../shared
DATASETS ?= $(SHARED)/datasets
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv venv-edge mosquitto demo test lint unit bench reference-model clean models reference-landmarks bench-hands

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# The device side only (no TensorFlow): enough for `make demo` and for a Pi.
$(VENV)/.stamp-edge: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[edge]'
	touch $@

# Everything: TensorFlow for convert/, pytest and ruff.
$(VENV)/.stamp-dev: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $(VENV)/.stamp-edge $@

venv-edge: $(VENV)/.stamp-edge  ## device-side venv (no TensorFlow)
venv: $(VENV)/.stamp-dev  ## full dev venv (TensorFlow, pytest, ruff)

mosquitto:  ## install the mosquitto broker if it is missing (root; `sudo make mosquitto` on a Pi)
	@command -v mosquitto >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto mosquitto-clients; }

lint: venv  ## ruff
	$(VENV)/bin/ruff check edge convert subscribers tests
	$(VENV)/bin/ruff format --check edge convert subscribers tests

unit: venv mosquitto  ## pytest only
	$(VENV)/bin/pytest -q

test: lint unit  ## lint + the whole test suite (what CI runs)

models: venv-edge  ## MediaPipe palm + hand-landmark models from the pinned wheel (sha256-checked)
	$(PY) -m edge.hands.fetch --dest models/mediapipe

reference-landmarks: venv models  ## train the shipped landmark classifier (models/gestures-landmarks.*)
	$(PY) -m convert.landmarks reference --datasets $(DATASETS) --out models/gestures-landmarks.tflite

bench-hands: venv-edge models  ## per-stage time of palm detector, landmark model, landmark classifier
	$(PY) -m edge.hands.bench --datasets $(DATASETS) --out bench/hands.json

clean:  ## remove the venv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
