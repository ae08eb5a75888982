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


def gesture_recall(t: dict[str, Any]) -> float:
    """Share of the gesture frames (stop, up, fist, peace) read as their own gesture."""
    hits = total = 0
    for pair, n in t["confusion"].items():
        asked, read = pair.split("->")
        if asked in GESTURES:
            hits += n * (asked == read)
            total += n
    return hits / max(total, 1)


def _distance(data: dict[str, Any]) -> list[str]:
    variants: dict[str, Any] = data["variants"]
    scales = list(variants["body_full"]["by_scale"])
    rows = []
    for k in scales:
        px = variants["body_full"]["by_scale"][k]["hand_px_median"]
        cells = [f"{k}× (≈ {1.5 * float(k):g} m)", "–" if px is None else f"{px:g} px"]
        for name in NAMES:
            t = variants[name]["by_scale"][k]
            cells.append(f"{pct(gesture_recall(t))}, {t['unasked_motion']}")
        rows.append(cells)
    shipped = variants["body_full"]["by_scale"]
    base = shipped[scales[0]]["accuracy"]
    every = ", ".join(
        f"{k}×: {pct(shipped[k]['accuracy'])} ({shipped[k]['accuracy'] / base:.2f} of 1×)"
        for k in scales
    )
    frames = ", ".join(f"{v} {k}" for k, v in data["frames"].items())
    return [
        *table(["person", "hand (small stream)", *NAMES.values()], rows),
        "",
        "Each cell: stop/up/fist/peace frames read as their gesture, then the frames of a "
        "stop/fist/none read as a motion (unasked). All frames, `none` included, for the shipped "
        f"path: {every}. Frames: {frames} (every {data['every']}rd of each class); `none` holds "
        "idle hands and OK and thumb signs, often read as `fist`, `stop` or `peace`: the car "
        "stands still either way.",
        "",
    ]


def scenes(root: Path) -> list[str]:
    """Markdown for `<!-- figures:scenes -->`, from models/scenes.json."""
    data = json.loads((root / SCENES_JSON).read_text())
    out = _distance(data)
    resting = [
        [
            NAMES[n],
            str(v["resting_in_view"]["frames"]),
            " / ".join(pct(v["resting_in_view"]["per_class_recall"].get(g)) for g in GESTURES),
            str(v["resting_in_view"]["unasked_motion"]),
        ]
        for n, v in data["variants"].items()
        if "resting_in_view" in v
    ]
    out += table(
        ["frames with a resting hand in view", "frames", "stop / up / fist / peace", "unasked"],
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
            "sequences (the daemon's loop, 10 fps)",
            "person",
            "length",
            "in the asked command",
            "after 0.5 s",
            "unasked motion",
        ],
        seq_rows,
    )
    return out


BODY_COST_JSON = Path("bench/body-cost.json")
SETS = {
    "close": "hands near the lens (`make bench`'s 300 subhih-hands frames)",
    "people": "a person 1.5 m away, the other hand resting (a candir sequence)",
}


def body_cost(root: Path) -> list[str]:
    """Markdown for `<!-- figures:body-cost -->`, from bench/body-cost.json."""
    data = json.loads((root / BODY_COST_JSON).read_text())
    rows = []
    for name, variants in data["sets"].items():
        tracker, body = variants["tracker, 1 core"], variants["body, 1 core"]
        rows.append(
            [
                SETS.get(name, name),
                f"{tracker['mean_ms']:.2f} ms",
                f"{body['mean_ms']:.2f} ms",
                f"{body['mean_ms'] / tracker['mean_ms']:.2f}",
                f"{tracker['hands_found']} / {body['hands_found']} of {body['frames']}",
            ]
        )
    load = data["machine"]["load_average_at_start"]
    return [
        *table(
            [
                "frames",
                "palm tracker",
                "body path",
                "body / tracker",
                "hands found (tracker / body)",
            ],
            rows,
        ),
        "",
        *_end_to_end(data.get("end_to_end", {})),
        f"Mean time per frame of the daemon's own loop, one core, one interpreter thread, median "
        f"of {len(next(iter(data['sets'].values()))['body, 1 core']['mean_ms_per_round'])} "
        f"interleaved rounds (`make bench-body`, {data['machine']['cpu']}; load average at the "
        f"start {load[0]:g}).",
    ]


def _end_to_end(e2e: dict[str, Any]) -> list[str]:
    """The end-to-end rows of bench/body-cost.json (none in an older file)."""
    if not e2e:
        return []
    rows = [
        [
            {"tracker": "palm tracker", "body": "body path"}.get(m, m),
            f"{r['latency_ms']['p50']:g} / {r['latency_ms']['p99']:g} ms",
            f"{r['fps_processed']:g}",
            str(r["dropped_frames"]),
            f"{r['cpu_percent']:g} %",
            f"{r['peak_rss_mb']:g} MB",
        ]
        for m, r in e2e.items()
    ]
    header = ["end to end, 30 FPS, one core", "frame to subscriber p50 / p99", "fps"]
    return [*table([*header, "dropped", "daemon CPU", "peak RSS"], rows), ""]
