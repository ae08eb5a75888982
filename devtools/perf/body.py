"""`make bench-body`: what the body path costs per frame beside the palm tracker, same frames.

Two frame sets, each variant in its own process pinned to one core with one interpreter thread
(devtools.perf.stages), rounds interleaved: `close` is `make bench`'s 300 subhih-hands frames
(hands near the lens, the person mostly out of view: what looking for a body costs there);
`people` is one of `make eval-scenes`' candir sequences (a person 1.5 m away, the other hand
resting in view: the body path engaged); then each end to end at 30 FPS on one core (replay ->
`gesture-edge run` -> mosquitto -> subscriber, devtools.perf.endtoend). Writes
bench/body-cost.json; docs/hands.md's figures block is generated from it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from devtools.perf import endtoend
from devtools.perf.run import REPO, machine, ours, rounds, session_frames
from devtools.scenes import candir_shots, scripted
from edge.model.crops import read_rgb

log = logging.getLogger("bench-body")


def people_frames(datasets: Path, seed: int) -> list[np.ndarray]:
    """The frames of one scripted candir sequence (devtools.scenes.scripted), in video order."""
    _, paths = scripted(candir_shots(datasets, 1), seed)
    return [read_rgb(str(p)) for p in paths]


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-frame mean of each round, their median, and what was found."""
    means = [float(np.mean(r["seconds"]["frame"])) * 1e3 for r in runs]
    stages = runs[0]["seconds"]
    return {
        "mean_ms_per_round": [round(m, 2) for m in means],
        "mean_ms": round(float(np.median(means)), 2),
        "frames": runs[0]["frames"],
        "hands_found": min(int(r["hands_found"]) for r in runs),
        "runs": {k: len(v) for k, v in stages.items() if k != "frame"},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "body-cost.json")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--e2e-seconds", type=float, default=20.0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sets = {"close": session_frames(args.datasets, 300), "people": people_frames(args.datasets, 0)}
    variants = [
        ours("tracker, 1 core", "--method", "tracker", pinned=True),
        ours("body, 1 core", "--method", "body", pinned=True),
    ]
    out: dict[str, Any] = {"command": "make bench-body", "machine": machine(), "sets": {}}
    with tempfile.TemporaryDirectory(prefix="gesturepilot-body-") as tmp:
        for name, images in sets.items():
            frames = Path(tmp) / f"{name}.npy"
            np.save(frames, np.stack(images))
            raw = rounds(variants, {"bench": frames}, args.rounds)
            out["sets"][name] = {v: summary(r) for v, r in raw.items()}
            log.info("%s: %s", name, out["sets"][name])
    # End to end at 30 FPS on one core: replay -> gesture-edge run -> mosquitto -> subscriber.
    out["end_to_end"] = {
        m: endtoend.run(args.datasets, args.e2e_seconds, method=m) for m in ("tracker", "body")
    }
    out["machine"]["load_average_at_end"] = machine()["load_average_at_start"]
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
