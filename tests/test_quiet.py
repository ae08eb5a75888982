"""Quiet by default: the quantizer's progress bars and LiteRT's debug warning stay off a pipe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# What convert.handquant does, in small: LiteRT with every tensor kept (calibration), then
# the quantizer's own progress bar over many steps ("Running Calibration" has thousands).
SCRIPT = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
if sys.argv[2] == "quiet":
    from convert.quiet import quiet_third_party
    quiet_third_party()
from ai_edge_litert.interpreter import Interpreter
from ai_edge_quantizer.utils import progress_utils
Interpreter(model_path=sys.argv[1], experimental_preserve_all_tensors=True)
with progress_utils.ProgressBar(total_steps=500, description="Running Calibration:") as bar:
    for _ in range(500):
        bar.update_single_step()
logging.info("done")
"""


def run(model: Path, mode: str) -> str:
    res = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(model), mode],
        capture_output=True,  # stderr is a pipe, not a terminal: what make and journald see
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return res.stderr


def test_a_pipe_gets_no_progress_bar_and_no_litert_debug_warning(mediapipe_models):
    model = mediapipe_models / "palm_detection_lite.tflite"
    loud = run(model, "loud")  # the noise is real without quiet_third_party
    assert "Running Calibration" in loud and "experimental_preserve_all_tensors" in loud
    quiet = run(model, "quiet")
    assert "Running Calibration" not in quiet and "\r" not in quiet and "it/s" not in quiet
    assert "experimental_preserve_all_tensors" not in quiet
    assert quiet.strip().splitlines() == ["INFO done"]  # our own log lines stay
