"""`make eval-sequences` in small: real camera sequences through the daemon's stages, scored as
the robot feels them; and the README/docs figures are the committed json's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from devtools.sequences import score
from edge.pipeline.commands import CommandMap


def test_scoring_counts_reaction_time_apart_from_unasked_motion() -> None:
    truth = ["none"] * 5 + ["up"] * 10 + ["stop"] * 10
    # the car starts 3 frames late and stops 2 frames late; then drives left unasked for 4
    state = [None] * 8 + ["forward"] * 9 + [None] * 4 + ["left"] * 4
    r = score(truth, state, CommandMap("car"), fps=10.0, reaction=0.5)
    assert r["unasked_motion_s"] == 0.4  # the left, past the reaction time
    assert r["unasked_motion_s_within_reaction"] == 0.2  # forward carried past the release
    assert r["in_command"] == round(1 - 9 / 25, 4)


def test_eval_sequences_replays_real_frames_with_no_unasked_motion(
    datasets: Path, repo_root: Path, mediapipe_models: Path, tmp_path: Path
) -> None:
    out = tmp_path / "seq.json"
    cmd = [sys.executable, "-m", "devtools.sequences", "--datasets", str(datasets)]
    cmd += ["--config", str(repo_root / "configs" / "car.toml"), "--seeds", "1", "--hold", "1"]
    cmd += ["--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=repo_root)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    demo = result["sequences"]["demo-script"]
    assert demo["frames"] == 130 and demo["asked_motion_s"] > 4
    assert demo["unasked_motion_s"] == 0.0
    assert demo["in_command_after_reaction"] >= 0.8
    assert {"shimaazizi-Fist", "shimaazizi-OpenPalm"} <= set(result["sequences"])
    for name in ("shimaazizi-Fist", "shimaazizi-OpenPalm", "shimaazizi-ThumbsUp"):
        assert result["sequences"][name]["moved_s"] == 0.0, name


def test_readme_and_docs_figures_are_generated_from_the_committed_json(repo_root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convert.figures", "--check", "--root", str(repo_root)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    readme = (repo_root / "README.md").read_text()
    meta = json.loads((repo_root / "models" / "gestures-landmarks.json").read_text())
    assert f"{100 * meta['metrics']['lockbox']['accuracy']:.1f} %" in readme
