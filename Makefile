# gesturepilot — one command for each job. Everything installs into .venv/ at the repository root.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TFLITE_VENV := $(VENV)-tflite
SHARED ?= ../shared
DATASETS ?= $(SHARED)/datasets
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv venv-edge mosquitto demo test lint unit bench reference-model clean models models-float eval-hand-int8 reference-landmarks eval-sequences eval-held eval-scenes bench-body figures kill-to-stop test-tflite-runtime

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

# The checkout on the venv's path, so the dev tools (devtools/: demo, benches, local broker,
# model fetch, fakes) import from it; the wheel a device installs never holds them.
CHECKOUT_PTH = $(1)/bin/python -c 'import site, pathlib; pathlib.Path(site.getsitepackages()[0], "gesturepilot-checkout.pth").write_text("$(CURDIR)\n")'

# The device side only (no TensorFlow): enough for `make demo` and for a Pi.
$(VENV)/.stamp-edge: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[edge]'
	$(call CHECKOUT_PTH,$(VENV))
	touch $@

# Everything: convert/ (its own distribution, gesturepilot-convert: TensorFlow, the
# gesture-convert command), pytest, ruff and mypy.
$(VENV)/.stamp-dev: pyproject.toml convert/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]' -e ./convert
	$(PIP) install -q --no-deps 'djitellopy>=2.5'  # not its GUI opencv-python (pyproject.toml)
	@if $(PIP) show -q opencv-python >/dev/null 2>&1; then \
		echo "removing opencv-python (GUI) from an older venv; headless OpenCV only"; \
		$(PIP) uninstall -q -y opencv-python; \
		$(PIP) install -q --force-reinstall --no-deps "opencv-python-headless==$$($(PY) -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')"; \
	fi
	$(call CHECKOUT_PTH,$(VENV))
	touch $(VENV)/.stamp-edge $@

venv-edge: $(VENV)/.stamp-edge  ## device-side venv (no TensorFlow)
venv: $(VENV)/.stamp-dev  ## full dev venv (TensorFlow, pytest, ruff)

mosquitto:  ## install the mosquitto broker if it is missing (root; `sudo make mosquitto` on a Pi)
	@command -v mosquitto >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto mosquitto-clients; }

lint: venv  ## ruff and mypy (--strict on the device package edge/, plain on the rest)
	$(VENV)/bin/ruff check edge convert subscribers devtools scripts tests
	$(VENV)/bin/ruff format --check edge convert subscribers devtools scripts tests
	$(VENV)/bin/mypy --strict edge
	$(VENV)/bin/mypy convert subscribers devtools

# This machine's locked wheels (pip's cache makes repeats cheap), so the test that installs the
# device side from its hashed lock offline runs in `make test` too (tests/test_device_lock.py).
THIS_LOCK = edge-linux-$(shell uname -m)-cp$(shell $(PYTHON) -c 'import sys; print("%d%d" % sys.version_info[:2])')
WHEELHOUSE_THIS = build/wheelhouse/$(THIS_LOCK)
$(WHEELHOUSE_THIS)/.stamp: $(wildcard locks/$(THIS_LOCK).txt) | $(VENV)/.stamp-edge
	@if [ -f locks/$(THIS_LOCK).txt ]; then \
		$(PIP) download -q --only-binary=:all: --no-deps --require-hashes -r locks/$(THIS_LOCK).txt -d $(WHEELHOUSE_THIS) && touch $@; \
	else echo "no locks/$(THIS_LOCK).txt: the offline lock install test will skip"; fi

unit: venv mosquitto models $(TFLITE_VENV)/.stamp $(WHEELHOUSE_THIS)/.stamp  ## pytest only
	$(VENV)/bin/pytest -q

test: lint unit  ## lint + the whole test suite (what CI runs)

DEMO_OUT ?= build/demo
demo: venv-edge mosquitto models  ## simulated car driven by the shipped pipeline on replayed real frames -> DEMO_OUT/demo.gif, demo-path.png (BROKER=host:port SEED=n; DEMO_OUT=docs: the README's picture)
	$(PY) -m devtools.demo --datasets $(DATASETS) --out $(DEMO_OUT) $(if $(BROKER),--broker $(BROKER)) $(if $(SEED),--seed $(SEED))

# MediaPipe itself, only as the bench's anchor: its own venv from the pinned wheel that
# `make models` keeps in third_party/ (x86_64, Python 3.11); never a project dependency.
MP_VENV := $(VENV)-mediapipe
$(MP_VENV)/.stamp: | models-float
	@if ls third_party/mediapipe/mediapipe-0.10.21-cp311-*.whl >/dev/null 2>&1 && $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
		set -e; test -x $(MP_VENV)/bin/python || $(PYTHON) -m venv $(MP_VENV); \
		$(MP_VENV)/bin/pip install -q third_party/mediapipe/mediapipe-0.10.21-cp311-*.whl; \
		touch $@; else echo "no mediapipe wheel for this machine: the bench runs without its anchor"; fi

bench: venv models $(TFLITE_VENV)/.stamp $(MP_VENV)/.stamp  ## every stage and variant beside MediaPipe's solutions.hands -> bench/results.json, README.md, results.png (~10 min, not CI)
	$(PY) -m devtools.perf.run --datasets $(DATASETS) --out bench

# The device side on tflite-runtime (older device images): numpy<2, no LiteRT, no TF.
# tflite-runtime 2.14 has wheels for Python <= 3.11 only; on a newer Python this is skipped
# (and tests/test_edge_tflite_runtime.py says so).
$(TFLITE_VENV)/.stamp: pyproject.toml
	@if $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] <= (3, 11))'; then \
		echo "tflite-runtime 2.14 has no wheel for this Python: no $(TFLITE_VENV)"; else \
	set -e; test -x $(TFLITE_VENV)/bin/python || $(PYTHON) -m venv $(TFLITE_VENV); \
	$(TFLITE_VENV)/bin/pip install -q 'numpy<2' tflite-runtime==2.14.0 'opencv-python-headless<4.11' 'paho-mqtt>=2,<3'; \
	$(TFLITE_VENV)/bin/pip install -q --no-deps -e .; \
	$(call CHECKOUT_PTH,$(TFLITE_VENV)); \
	touch $@; fi

test-tflite-runtime: venv $(TFLITE_VENV)/.stamp  ## classify with tflite-runtime, compare with LiteRT
	$(VENV)/bin/pytest -q tests/test_edge_tflite_runtime.py

# Not part of `make test`: root, QEMU, ../shared/tools/arm64, and many minutes of emulation.
.PHONY: arm64-check
arm64-check: venv models  ## root: install + classify on emulated aarch64 (Pi 4, Pi 5), compare with x86 (docs/deploy.md)
	DATASETS=$(DATASETS) bash scripts/arm64-check.sh

reference-model: venv  ## train the shipped image model (models/gestures-image.*; minutes of CPU, not CI)
	$(PY) -m convert.reference --datasets $(DATASETS) --out models/gestures-image.tflite

bench-convert: venv-edge  ## time the int8 image model per crop (device code path) -> bench/convert.json
	$(PY) -m convert.bench --model models/gestures-image.tflite --datasets $(DATASETS) --out bench/convert.json

# ai-edge-quantizer (no TensorFlow) for the int8 hand models, in the device-side venv.
$(VENV)/.stamp-quant: pyproject.toml | $(VENV)/.stamp-edge
	$(PIP) install -q -e '.[quant]'
	touch $@

MEDIAPIPE := models/mediapipe
INT8_HANDS := $(foreach m,palm_detection hand_landmark,$(foreach s,lite full,$(MEDIAPIPE)/$(m)_$(s)_int8.tflite))

models: models-float $(INT8_HANDS)  ## MediaPipe's hand models (pinned wheel, sha256-checked) + int8 copies calibrated on DATASETS (../shared/datasets)

models-float: venv-edge
	$(PY) -m devtools.fetch --dest $(MEDIAPIPE)

$(INT8_HANDS) &: convert/handquant.py | models-float $(VENV)/.stamp-quant
	$(PY) -m convert.handquant --datasets $(DATASETS) --dest $(MEDIAPIPE)

eval-hand-int8: venv models  ## int8 vs float hand models on validation/lockbox frames -> models/hand-models-int8.json
	$(PY) -m convert.handquant_eval --datasets $(DATASETS) --out models/hand-models-int8.json

reference-landmarks: venv models  ## train the shipped landmark classifier, lockbox + leave-one-source-out (~15 min, not CI)
	$(PY) -m convert.landmarks.reference --datasets $(DATASETS) --out models/gestures-landmarks.tflite

figures: venv-edge  ## regenerate README/docs figures from the committed model and sequence json
	$(PY) -m convert.figures

bench-body: venv models  ## the body path's cost per frame beside the palm tracker (close hands; a person 1.5 m away) -> bench/body-cost.json (~3 min, not CI)
	$(PY) -m devtools.perf.body --datasets $(DATASETS) --out bench/body-cost.json

eval-scenes: venv-edge models  ## the driver 1.5-6 m away, the other hand resting: frames and sequences per locator -> models/scenes.json (~10 min, not CI)
	$(PY) -m devtools.scenes --datasets $(DATASETS) --config configs/car.toml --out models/scenes.json

eval-held: venv-edge models  ## held-gesture reuse chosen on validation, lockbox reported -> bench/held.json (~15 min, not CI)
	$(PY) -m devtools.held --datasets $(DATASETS) --config configs/car.toml --out bench/held.json

eval-sequences: venv-edge models  ## real camera sequences through the daemon pipeline -> models/gestures-landmarks-sequences.json
	$(PY) -m devtools.sequences --datasets $(DATASETS) --config configs/car.toml --out models/gestures-landmarks-sequences.json


clean:  ## remove the venvs, caches and build outputs
	rm -rf $(VENV) $(TFLITE_VENV) .pytest_cache .ruff_cache build dist *.egg-info convert/*.egg-info convert/build

# --- Device install and deploy (docs/deploy.md). The logic lives in scripts/install.sh so the
# deploy bundle can run it on a Pi that has no make.
.PHONY: install uninstall deploy deploy-bundle bench-preview lock

lock: venv-edge  ## locks/*.txt: the device side pinned with sha256s (x86_64/aarch64, Python 3.11/3.13; network); wheels kept in build/wheelhouse/
	$(PY) -m devtools.lock
DESTDIR ?=
PREFIX ?= /opt/gesturepilot
SYSCONFDIR ?= /etc/gesturepilot
UNITDIR ?= /etc/systemd/system
SYSUSERSDIR ?= /etc/sysusers.d
DEVICE_PYTHON ?= /usr/bin/python3
MODELS ?= models
MODEL ?= gestures-landmarks
WHEEL ?=
VENV_PIP_ARGS ?=
LOCK ?=  # the hashed pins (locks/edge-linux-<machine>-cp<py>.txt for the device); none: unlocked
WHEELHOUSE ?=  # install the lock's wheels from this folder only (pip --no-index)
PURGE ?= 0
USE_SYSTEM_OPENCV ?= 0
NO_START ?= 0
HOST ?=
REMOTE_ENV ?=  # e.g. USE_SYSTEM_OPENCV=1 (Jetson) for the install on the device
SSH ?= ssh
SCP ?= scp
WHEEL_ARGS ?=
DEPLOY_BUILD ?= build/deploy
BUNDLE = $(DEPLOY_BUILD)/gesturepilot-deploy.tar.gz
INSTALL_ENV = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" \
	UNITDIR="$(UNITDIR)" SYSUSERSDIR="$(SYSUSERSDIR)" DEVICE_PYTHON="$(DEVICE_PYTHON)" \
	MODELS="$(abspath $(MODELS))" WHEEL="$(WHEEL)" VENV_PIP_ARGS="$(VENV_PIP_ARGS)" SRC="$(CURDIR)" \
	USE_SYSTEM_OPENCV="$(USE_SYSTEM_OPENCV)" NO_START="$(NO_START)" MODEL="$(MODEL)" \
	LOCK="$(LOCK)" WHEELHOUSE="$(WHEELHOUSE)"

install:  ## on the device, as root: venv in PREFIX (/opt/gesturepilot), unit, config, model, systemctl enable --now
	$(INSTALL_ENV) sh scripts/install.sh

uninstall:  ## undo `make install`; keeps /etc/gesturepilot unless PURGE=1
	$(INSTALL_ENV) PURGE="$(PURGE)" sh scripts/uninstall.sh

deploy-bundle:  ## build/deploy/gesturepilot-deploy.tar.gz: wheel, models, unit, config, install script
	@for f in $$($(if $(wildcard $(PY)),$(PY),$(PYTHON)) -c 'import sys; from pathlib import Path; from edge.config.rules import trained_with; print(*trained_with(Path(sys.argv[1])).values())' $(MODELS)/$(MODEL).tflite); do \
		test -f $(MODELS)/mediapipe/$$f || { echo "no $$f in $(MODELS)/mediapipe (the hand models $(MODEL) was trained with): run make models first" >&2; exit 2; }; done
	rm -rf $(DEPLOY_BUILD)/gesturepilot && mkdir -p $(DEPLOY_BUILD)/gesturepilot/systemd $(DEPLOY_BUILD)/gesturepilot/scripts $(DEPLOY_BUILD)/gesturepilot/configs
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) -m pip wheel -q --no-deps $(WHEEL_ARGS) -w $(DEPLOY_BUILD)/gesturepilot .
	cp scripts/install.sh scripts/install-vehicle.sh scripts/uninstall.sh $(DEPLOY_BUILD)/gesturepilot/scripts/
	cp -r locks $(DEPLOY_BUILD)/gesturepilot/locks
	cp systemd/gesturepilot.service systemd/gesturepilot-vehicle.service systemd/gesturepilot.sysusers systemd/gesturepilot.toml $(DEPLOY_BUILD)/gesturepilot/systemd/
	cp configs/vehicle-*.toml $(DEPLOY_BUILD)/gesturepilot/configs/
	cp -r $(MODELS) $(DEPLOY_BUILD)/gesturepilot/models
	tar -czf $(BUNDLE) -C $(DEPLOY_BUILD) gesturepilot
	@echo "bundle: $(BUNDLE)"

kill-to-stop: venv  ## kill -9 the real daemon holding a gesture: time to stop per adapter -> bench/kill-to-stop.json, README table
	$(PY) -m devtools.kill_to_stop --datasets $(DATASETS) --repeats 5 --out bench/kill-to-stop.json

bench-preview: venv-edge  ## what the MJPEG preview costs the loop and per frame -> bench/preview.json
	$(PY) scripts/bench_preview.py --datasets $(DATASETS) --out bench/preview.json

deploy:  ## from a workstation: make deploy HOST=pi@raspberrypi.local (ssh + sudo there)
	@test -n "$(HOST)" || { echo "usage: make deploy HOST=user@host" >&2; exit 2; }
	$(MAKE) deploy-bundle
	$(SCP) $(BUNDLE) $(HOST):/tmp/gesturepilot-deploy.tar.gz
	$(SSH) -t $(HOST) 'set -e; d=$$(mktemp -d); tar -xzf /tmp/gesturepilot-deploy.tar.gz -C "$$d"; \
		sudo env $(REMOTE_ENV) sh "$$d/gesturepilot/scripts/install.sh"; rm -rf "$$d" /tmp/gesturepilot-deploy.tar.gz'

.PHONY: fuzz
fuzz: venv models  ## hypothesis: >= 2,000 fuzzed configs and model json each through check-config/classify -> bench/fuzz.json (~3 min, not CI)
	rm -f bench/fuzz.json
	GP_FUZZ_PROFILE=fuzz GP_FUZZ_OUT=bench/fuzz.json $(VENV)/bin/pytest -q -p no:logging tests/test_fuzz_files.py

# Not part of `make test`: minutes of a running daemon. DURATION in seconds.
.PHONY: soak
DURATION ?= 600
# The 10-minute run keeps bench/soak.json; any other DURATION writes beside it (3600: soak-1h.json).
SOAK_OUT ?= bench/$(if $(filter 600,$(DURATION)),soak,$(if $(filter 3600,$(DURATION)),soak-1h,soak-$(DURATION)s)).json
soak: venv mosquitto models  ## daemon on replayed frames for DURATION s -> bench/soak.json + .png (RSS, fds, threads, fps, latency; DURATION=3600: bench/soak-1h.*)
	$(PY) scripts/soak.py --datasets $(DATASETS) --duration $(DURATION) --out $(SOAK_OUT)
