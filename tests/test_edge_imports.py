"""The device side never imports TensorFlow or Keras, not even transitively."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import edge.service.app, edge.service.cli, edge.pipeline.loop, edge.link.publisher
import devtools.demo, devtools.perf.stages
import edge.cameras.replay, edge.cameras.opencv, edge.cameras.picamera
from edge.pipeline.classify import build_classifier
from edge.config import parse_config
classifier = build_classifier(parse_config({"model": {"path": sys.argv[1]}}))
assert classifier.runtime != "tensorflow", classifier.runtime
print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras")))
"""


def test_daemon_modules_and_a_loaded_model_pull_in_no_tensorflow(image_model):
    res = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(image_model)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


EVERY_EDGE_MODULE = """
import importlib, pkgutil, sys
import edge
for m in pkgutil.walk_packages(edge.__path__, "edge."):
    importlib.import_module(m.name)
print(sorted({m.split(".")[0] for m in sys.modules} & {"devtools", "convert", "tests"}))
"""


def test_no_device_module_imports_a_dev_tool_or_the_workstation_side():
    res = subprocess.run(
        [sys.executable, "-c", EVERY_EDGE_MODULE], capture_output=True, text=True, cwd="/"
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
