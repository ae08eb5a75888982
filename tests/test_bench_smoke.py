"""`make bench` in miniature: 20 real frames through every stage, the files it writes agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_smoke_writes_results_readme_and_chart_from_one_run(
    datasets: Path, tmp_path: Path, mediapipe_models: Path
) -> None:
    cmd = [sys.executable, "-m", "devtools.perf.run", "--smoke", "--datasets", str(datasets)]
    done = subprocess.run(
        [*cmd, "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    ours = results["variants"]["ours lite int8, 1 core"]
    assert ours["frames"] == 20 and ours["hands_found"] >= 18
    stages = ours["stages"]
    assert stages["landmarks"]["calls"] >= 20 and stages["classify"]["calls"] >= 18
    # the parts fit inside the whole: model invocations are inside their stages
    assert stages["invoke_landmarks"]["ms_per_frame"] <= stages["landmarks"]["ms_per_frame"]
    inner = sum(stages[s]["ms_per_frame"] for s in ("palm", "landmarks", "classify"))
    assert inner <= ours["frame_ms"]["mean"]
    e2e = results["end_to_end"]
    assert e2e["messages"] > 0 and e2e["frames_processed"] > 0 and e2e["rss_mb"] > 0
    readme = (tmp_path / "README.md").read_text()
    assert (
        f"| ours lite int8, 1 core | {ours['runtime']} | {ours['frame_ms']['mean']:.2f} |" in readme
    )
    for setting, pair in results["anchor"].items():  # only where .venv-mediapipe exists
        assert f"| {setting} |" in readme and pair["ratio"] > 0
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
