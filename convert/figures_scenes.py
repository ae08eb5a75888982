"""The scene figures (`make eval-scenes`): distance, resting hands and sequences per locator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from convert.markdown import pct, table

SCENES_JSON = Path("models/scenes.json")
NAMES = {
    "tracker": "palm tracker (before)",
    "body": "body, small stream",
    "body_full": "body + full stream (shipped)",
}
GESTURES = ("stop", "up", "fist", "peace")


def _gesture_recall(t: dict[str, Any]) -> str:
    recall = t["per_class_recall"]
    return " / ".join(pct(recall[g]) for g in GESTURES if g in recall)


def scenes(root: Path) -> list[str]:
    """Markdown for `<!-- figures:scenes -->`, from models/scenes.json."""
    data = json.loads((root / SCENES_JSON).read_text())
    variants: dict[str, Any] = data["variants"]
    scales = list(variants["body"]["by_scale"])
    rows = []
    for k in scales:
        px = variants["body"]["by_scale"][k]["hand_px_median"]
        cells = [f"{k}× (≈ {1.5 * float(k):g} m)", "–" if px is None else f"{px:g} px"]
        for name in NAMES:
            t = variants[name]["by_scale"][k]
            cells.append(f"{pct(t['accuracy'])} ({_gesture_recall(t)}), {t['unasked_motion']}")
        rows.append(cells)
    base = variants["body_full"]["by_scale"][scales[0]]["accuracy"]
    ratios = ", ".join(
        f"{k}×: {variants['body_full']['by_scale'][k]['accuracy'] / base:.2f}" for k in scales[1:]
    )
    frames = ", ".join(f"{v} {k}" for k, v in data["frames"].items())
    out = [
        *table(
            [
                "person",
                "hand (small stream)",
                *(f"{n}: all (stop/up/fist/peace), unasked" for n in NAMES.values()),
            ],
            rows,
        ),
        "",
        f'Frames: {frames} (every {data["every"]}rd of each class). "all" counts `none` too: '
        "idle hands, OK and thumb signs, which are `none` in this vocabulary but often read as "
        "`fist`, `stop` or `peace` (never a motion at k ≤ 3). Accuracy of the shipped path "
        f"against its own at k = 1: {ratios}. Unasked = frames of a stop/fist/none read as a "
        "motion.",
        "",
    ]
    resting = [
        [
            NAMES[n],
            pct(v["resting_in_view"]["accuracy"]),
            _gesture_recall(v["resting_in_view"]),
            str(v["resting_in_view"]["unasked_motion"]),
        ]
        for n, v in variants.items()
        if "resting_in_view" in v
    ]
    out += table(
        ["on the frames with a resting hand in view", "all", "stop / up / fist / peace", "unasked"],
        resting,
    )
    out.append("")
    seq_rows = []
    for key, run in data["sequences"].items():
        name, _, k = key.rpartition("_k")
        total = run["total"]
        seq_rows.append(
            [
                NAMES[name],
                f"{k}×",
                f"{total['seconds']:g} s",
                pct(total["in_command"]),
                pct(total["in_command_after_reaction"]),
                f"{total['unasked_motion_s']:g} s",
            ]
        )
    out += table(
        [
            "sequences (daemon loop, 10 fps)",
            "person",
            "length",
            "in the asked command",
            "after 0.5 s",
            "unasked motion",
        ],
        seq_rows,
    )
    return out
