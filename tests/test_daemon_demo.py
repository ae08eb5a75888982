"""`make demo` end to end (faster replay): private broker, simulated car, daemon, exit 0."""

from __future__ import annotations

import subprocess
import sys


def test_demo_drives_the_simulated_car_through_the_script_and_exits_0(datasets, image_model):
    res = subprocess.run(
        [sys.executable, "-m", "edge.demo", "--datasets", str(datasets), "--fps", "30"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    log = res.stderr
    assert "daemon exited with 0" in log
    assert "car moved: forward, left, right, backward" in log
    assert "script asked for: forward, left, right, backward" in log
    assert log.index("car: FORWARD") < log.index("car: LEFT") < log.index("car: RIGHT")
