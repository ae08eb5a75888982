"""README/docs figures from committed run records: the per-stage bench files, the demo, CI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from convert.markdown import table


def speed(root: Path) -> list[str]:
    """Per-stage medians from the committed bench files (`make bench`, `make bench-hands`)."""
    hands = json.loads((root / "bench/hands.json").read_text())
    default = json.loads((root / "bench/daemon-default.json").read_text())
    image = json.loads((root / "bench/daemon.json").read_text())
    return [
        *table(["stage", "median", "reproduce"], _daemon_rows(default, image) + _hand_rows(hands)),
        "",
        f"Measured on {default['machine']} ({default['cpus']} cores, {default['runtime']}, "
        f"{default['num_threads']} interpreter threads); a Pi is several times slower — run the "
        "same commands there.",
    ]


def _daemon_rows(default: dict[str, Any], image: dict[str, Any]) -> list[list[str]]:
    """The daemon's step: the shipped pipeline, and the image model on a fixed box."""
    return [
        [
            f"daemon step, shipped pipeline ({default['locate']} + landmark classifier, "
            f"{default['frames']} whole {default['frame_size'][0]}×{default['frame_size'][1]} "
            f"frames, palm detector on {default['palm_detector_runs']})",
            f"{default['per_frame_ms']['median']:.1f} ms "
            f"(p95 {default['per_frame_ms']['p95']:.1f})",
            "`make bench` → `bench/daemon-default.json`",
        ],
        [
            "daemon step, image model on a fixed box",
            f"{image['per_frame_ms']['median']:.2f} ms (p95 {image['per_frame_ms']['p95']:.1f})",
            "`make bench` → `bench/daemon.json`",
        ],
    ]


def _hand_rows(hands: dict[str, Any]) -> list[list[str]]:
    """Palm detector, landmark model and tracker per MediaPipe size; the classifier."""
    rows = []
    for size in ("lite", "full"):
        v = hands["variants"][size]
        rows += [
            [
                f"palm detector ({size})",
                f"{v['palm_detector']['p50_ms']:.1f} ms",
                "`make bench-hands`",
            ],
            [
                f"landmark model ({size}, incl. warp)",
                f"{v['landmarks']['p50_ms']:.1f} ms",
                "`make bench-hands`",
            ],
            [
                f"hand tracker per frame ({size}; palm detector on "
                f"{v['locate_tracker']['palm_runs']} of {v['locate_tracker']['n']})",
                f"{v['locate_tracker']['p50_ms']:.1f} ms",
                "`make bench-hands`",
            ],
        ]
    clf = hands["variants"]["lite"]["classifier"]
    rows.append(
        [
            "landmark classifier per hand (features + int8 MLP + decision)",
            f"{clf['p50_ms']:.2f} ms (p95 {clf['p95_ms']:.2f})",
            "`make bench-hands` → `bench/hands.json`",
        ]
    )
    return rows


def demo(root: Path) -> list[str]:
    """The start and the end of the committed `make demo` output (`bench/demo-output.txt`)."""
    lines = (root / "bench/demo-output.txt").read_text().splitlines()
    shown = [ln for ln in lines if " car: " in ln or "replaying" in ln or "sees" in ln]
    last = lines[-1].split("ms")[0].strip()
    return [
        f"Recorded in `bench/demo-output.txt` (the whole run took {int(last) / 1000:.0f} s, "
        "plus the venv on the first run):",
        "",
        "```",
        *shown[:6],
        "  ...",
        *lines[-2:],
        "```",
    ]


def ci(root: Path) -> list[str]:
    """The committed record of the last fresh-clone `bash .ci/run` (`bench/ci-fresh-clone.json`)."""
    run = json.loads((root / "bench/ci-fresh-clone.json").read_text())
    return [
        f"`make test` (what CI runs: ruff, `mypy --strict edge`, mypy on the rest, then pytest) "
        f"took {run['wall_s'] // 60} min {run['wall_s'] % 60} s on a fresh clone on 2 cores with "
        f"pip's cache warm ({run['date']}, commit `{run['commit']}`: {run['passed']} tests, exit "
        f"{run['rc']}; recorded in `bench/ci-fresh-clone.json`)."
    ]
