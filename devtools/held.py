"""`make eval-held`: held-gesture reuse (edge.hands.still) chosen on validation, then reported.

A held gesture is where reuse pays: the hand barely moves between camera frames. The shared
data has no 30 FPS video, so a held case is made from the scripted subhih-hands sequences of
`make eval-sequences` (real whole frames, 12 per gesture): each frame is shown `--hold` times
at `--hold` × 10 FPS with fresh sensor noise (Gaussian, `--noise` grey levels) on every copy,
i.e. a hand that holds still between the captures. The moving case is the same frames once
each at 10 FPS (the hand moves between every two frames: reuse must not fire there).

Every setting (`still_reuse` × `still_threshold`, and 0 = off) runs the daemon's own stages
(`devtools.sequences.replay`, configs/car.toml). Choice on the validation sessions only (the
landmark classifier's `validation_sources` of subhih-hands): the setting with the largest share
of reused reads whose in-command share, unasked motion and reaction time (first frame of a new
ask -> the vehicle doing it) are no worse than off, the mean reaction by at most one frame.
The chosen setting and off are then reported on the lockbox sessions (never used to choose).
Writes bench/held.json; `STILL_REUSE`/`STILL_THRESHOLD` in edge/config are set from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from devtools.scripted import eval_sessions
from devtools.sequences import LONG_SCRIPT, replay, score, subhih_case
from edge.config import Config, load_config
from edge.model.artifact import read_meta
from edge.pipeline.commands import STOP, CommandMap

log = logging.getLogger(__name__)

SETTINGS = ((1, 12.0), (2, 8.0), (2, 12.0), (2, 16.0), (3, 12.0), (4, 12.0), (6, 12.0))
BASE_FPS = 10.0


def reaction_frames(asked: list[str | None], state: list[str | None]) -> list[int]:
    """Per change of what is asked: frames until the vehicle does it (censored at the next
    change, then counted as the whole run)."""
    out, i = [], 1
    while i < len(asked):
        if asked[i] == asked[i - 1]:
            i += 1
            continue
        j = i
        while j < len(asked) and asked[j] == asked[i] and state[j] != asked[j]:
            j += 1
        out.append(j - i)
        i = j if j > i else i + 1
    return out


def held(frames: list[np.ndarray], hold: int, noise: float, seed: int) -> list[np.ndarray]:
    """Each frame `hold` times, every copy with its own sensor noise."""
    rng = np.random.default_rng(seed)
    out = []
    for image in frames:
        for _ in range(hold):
            grain = rng.normal(0.0, noise, image.shape) if noise > 0 else 0.0
            out.append(np.clip(image + grain, 0, 255).astype(np.uint8))
    return out


def with_still(cfg: Config, reuse: int, threshold: float) -> Config:
    locate = dataclasses.replace(cfg.locate, still_reuse=reuse, still_threshold=threshold)
    return dataclasses.replace(cfg, locate=locate)


def evaluate(
    cfg: Config, cases: list[tuple[list[str], list[np.ndarray]]], fps: float, reaction: float
) -> dict[str, Any]:
    """One setting over several sequences: shares weighted by frames, reaction per change."""
    commands = CommandMap.from_config(cfg.commands)
    frames = in_cmd = unasked = reused = 0.0
    reactions: list[int] = []
    for truth, images in cases:
        seen: dict[str, Any] = {}
        state = replay(cfg, images, fps, seen)
        s = score(truth, state, commands, fps, reaction)
        asked = [commands.command_for(g) for g in truth]
        asked = [None if a == STOP else a for a in asked]
        reactions += reaction_frames(asked, state)
        frames += len(truth)
        in_cmd += s["in_command"] * len(truth)
        unasked += s["unasked_motion_s"]
        reused += float(seen.get("reused", 0.0)) * len(truth)
    r = np.asarray(reactions, float)
    return {
        "frames": int(frames),
        "in_command": round(in_cmd / frames, 4),
        "unasked_motion_s": round(unasked, 2),
        "reaction_frames_mean": round(float(r.mean()), 2),
        "reaction_frames_max": int(r.max()),
        "reaction_s_mean": round(float(r.mean()) / fps, 3),
        "reused_share": round(reused / frames, 3),
    }


def acceptable(candidate: dict[str, Any], off: dict[str, Any]) -> bool:
    """No worse than off: in command, unasked motion, reaction (mean within one frame)."""
    return (
        candidate["in_command"] >= off["in_command"]
        and candidate["unasked_motion_s"] <= off["unasked_motion_s"]
        and candidate["reaction_frames_mean"] <= off["reaction_frames_mean"] + 1.0
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--config", type=Path, default=Path("configs/car.toml"))
    p.add_argument("--hold", type=int, default=3, help="camera frames per captured frame")
    p.add_argument("--noise", type=float, default=2.0, help="sensor noise, grey levels (sd)")
    p.add_argument("--seeds", type=int, default=4, help="sequences per split")
    p.add_argument("--reaction", type=float, default=0.5, help="seconds allowed to react")
    p.add_argument("--out", type=Path, default=Path("bench/held.json"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("edge").setLevel(logging.WARNING)
    cfg = load_config(args.config)
    meta = read_meta(Path(cfg.model.path))
    validation = [
        g.replace("subhih-hands:", "subhih:")
        for g in meta.raw["source"]["split"]["validation_sources"]
        if g.startswith("subhih-hands:")
    ]
    lockbox = [g for g in eval_sessions(meta.raw) or [] if g.startswith("subhih:")]
    started = time.perf_counter()
    fps = BASE_FPS * args.hold
    out: dict[str, Any] = {
        "command": "make eval-held",
        "config": str(args.config),
        "hold": args.hold,
        "noise": args.noise,
        "fps_held": fps,
        "fps_moving": BASE_FPS,
        "validation_groups": validation,
        "lockbox_groups": lockbox,
    }
    splits = {"validation": validation, "lockbox": lockbox}
    base: dict[str, list[tuple[list[str], list[np.ndarray]]]] = {
        name: [subhih_case(args.datasets, groups, LONG_SCRIPT, seed) for seed in range(args.seeds)]
        for name, groups in splits.items()
    }
    hold = {
        name: [
            ([g for g in truth for _ in range(args.hold)], held(frames, args.hold, args.noise, i))
            for i, (truth, frames) in enumerate(cases)
        ]
        for name, cases in base.items()
    }
    trials: dict[str, Any] = {}
    for reuse, threshold in ((0, 0.0), *SETTINGS):
        key = f"reuse{reuse}_t{threshold:g}"
        trials[key] = evaluate(
            with_still(cfg, reuse, threshold), hold["validation"], fps, args.reaction
        )
        log.info("validation held %s: %s", key, trials[key])
    off = trials["reuse0_t0"]
    fine = [k for k in trials if k != "reuse0_t0" and acceptable(trials[k], off)]
    chosen = max(fine, key=lambda k: trials[k]["reused_share"], default="reuse0_t0")
    reuse, threshold = next(
        ((r, t) for r, t in ((0, 0.0), *SETTINGS) if f"reuse{r}_t{t:g}" == chosen)
    )
    out["validation_held"] = trials
    out["chosen"] = {"still_reuse": reuse, "still_threshold": threshold, "key": chosen}
    report: dict[str, Any] = {}
    for label, (r, t) in {"off": (0, 0.0), "chosen": (reuse, threshold)}.items():
        c = with_still(cfg, r, t)
        report[label] = {
            "held": evaluate(c, hold["lockbox"], fps, args.reaction),
            "moving": evaluate(c, base["lockbox"], BASE_FPS, args.reaction),
        }
        log.info("lockbox %s: %s", label, report[label])
    out["lockbox"] = report
    out["wall_s"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    log.info("chosen %s -> %s", chosen, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
