"""README/docs blocks from `make bench` (bench/results.json) and the int8 hand-model report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from convert.markdown import pct, table


def anchor_target(results: dict[str, Any], setting: str) -> float:
    """The ratio target of one anchor setting (per core, or on two cores)."""
    key = "per_core_ratio_max" if "1 core" in setting else "two_core_ratio_max"
    return float(results["targets"][key])


def anchor(results: dict[str, Any]) -> list[str]:
    """Ours against MediaPipe's solutions.hands, per model size and core setting."""
    n = results["frames"]["count"]
    rows = []
    for setting, a in results["anchor"].items():
        ours = results["variants"][a["ours"]]["frame_ms"]["mean"]
        theirs = results["variants"][a["mediapipe"]]["frame_ms"]["mean"]
        found = a["hands_found"]
        rows.append(
            [
                setting,
                f"{ours:.2f} ms",
                f"{theirs:.2f} ms",
                f"**{a['ratio']:.2f}**",
                f"≤ {anchor_target(results, setting)}",
                f"{found['ours']} vs {found['mediapipe']}",
            ]
        )
    header = [
        "setting (same frames, same model size)",
        "ours",
        "MediaPipe",
        "ours / MediaPipe",
        "target",
        f"hands found (of {n})",
    ]
    return table(header, rows)


def _accuracy(name: str, hands: dict[str, Any] | None, lock: dict[str, Any]) -> str:
    if "float classifier" in name:
        return f"classifier alone, lockbox (float): {pct(lock.get('lockbox_accuracy_float'))}"
    if hands is None or "detector" in name or "tflite-runtime" in name:
        return "as its int8 twin" if hands is not None else "–"
    size = "full" if " full " in f" {name} " else "lite"
    g = hands["variants"].get(size, {}).get("gestures", {}).get("lockbox")
    if g is None:
        return "–"
    return pct(g["accuracy_float" if " float" in name else "accuracy_int8"])


def variants(results: dict[str, Any], hands: dict[str, Any] | None) -> list[str]:
    """Every timed variant of ours with its per-frame time and, where measured, its accuracy."""
    lock = results.get("accuracy", {}).get("classifier", {})
    rows = []
    for name, v in results["variants"].items():
        if "stages" not in v:
            continue
        f = v["frame_ms"]
        runs = f"{v['landmark_runs']} / {pct(v['reused_share'])}" if "reused_share" in v else "–"
        rows.append(
            [
                f"{name} ({v['runtime']})",
                f"{f['mean']:.2f}",
                f"{f['p99']:.2f}",
                str(v["palm_runs"]),
                runs,
                _accuracy(name, hands, lock),
            ]
        )
    header = [
        "variant",
        "ms/frame (mean)",
        "p99",
        "palm runs",
        "landmark runs / frames reused",
        "lockbox photos, gestures",
    ]
    return table(header, rows)


def end_to_end(results: dict[str, Any]) -> list[str]:
    e, t = results["end_to_end"], results["targets"]
    lat = e["latency_ms"]
    out = [
        f"End to end: real frames replayed at {e['fps_offered']:.0f} FPS into `gesture-edge run` "
        f"pinned to one core ({e['threads']} thread) → mosquitto → a subscriber: "
        f"frame→subscriber p50 {lat['p50']} ms, p99 {lat['p99']} ms (target < "
        f"{t['e2e_p99_ms_max']:.0f}; {e['messages']} messages), {e['fps_processed']} FPS "
        f"processed, {e['dropped_frames']} frames dropped, daemon CPU {e['cpu_percent']} %, RSS "
        f"{e['rss_mb']} MB (target ≤ {t['rss_mb_max']:.0f})."
    ]
    h = results.get("end_to_end_held")
    if h is not None:
        out.append(
            f"The same with a gesture held still (each frame {h['hold']} times, sensor noise): "
            f"daemon CPU {h['cpu_percent']} %, {pct(h['reused'])} of hand reads reused, p99 "
            f"{h['latency_ms']['p99']} ms, {h['dropped_frames']} frames dropped."
        )
    return out


def speed(root: Path) -> list[str]:
    """The Performance block: anchor, variants with accuracy, end to end."""
    results = json.loads((root / "bench/results.json").read_text())
    hands_path = root / "models/hand-models-int8.json"
    hands = json.loads(hands_path.read_text()) if hands_path.is_file() else None
    m = results["machine"]
    default = next(iter(results["variants"].values()))
    return [
        *anchor(results),
        "",
        *variants(results, hands),
        "",
        *end_to_end(results),
        "",
        f"Whole pipeline / its model invocations: {default['pipeline_over_models']:.2f} "
        f"(target ≤ {results['targets']['pipeline_over_models_max']}). Measured by "
        f"`{results['command']}` on {m['cpu']} ({m['cores']} cores), {results['rounds']} "
        f"interleaved rounds of {results['frames']['count']} frames; every stage and "
        "percentile: `bench/README.md`.",
    ]


def hand_int8(root: Path) -> list[str]:
    """int8 against float hand models on validation and lockbox frames (make eval-hand-int8)."""
    report = json.loads((root / "models/hand-models-int8.json").read_text())
    t = report["targets"]
    rows = []
    for size, v in report["variants"].items():
        for side in ("validation", "lockbox"):
            f, g = v["frames"][side], v["gestures"][side]
            rows.append(
                [
                    f"{size}, {side}",
                    f"{pct(f['landmark_error_mean'])} / {pct(f['landmark_error_p95'])}",
                    f"{pct(f['palm_recall_int8'])} / {pct(f['palm_recall_float'])}",
                    f"{f['palm_iou_mean']:.2f}",
                    pct(f["presence_agreement"]),
                    pct(f.get("gesture_agreement")),
                    f"{pct(g['accuracy_float'])} → {pct(g['accuracy_int8'])}, "
                    f"{pct(g['agreement'])}",
                ]
            )
    header = [
        "size, side",
        "landmark error mean / p95 (of hand size)",
        "palm recall int8 / float",
        "palm IoU",
        "presence agree",
        "gesture agree (frames)",
        "photos: accuracy float → int8, agree",
    ]
    return [
        *table(header, rows),
        "",
        f"Targets: landmark error ≤ {pct(t['landmark_error_mean_max'])} of the hand's size, "
        f"palm recall ≥ {pct(t['palm_recall_ratio_min'])} of float's, gesture agreement ≥ "
        f"{pct(t['gesture_agreement_min'])}, accuracy within "
        f"{t['lockbox_accuracy_drop_max_points']:.0f} point. Frames: the daemon's path (tracker "
        "crops of whole frames); photos: tight crops searched by the in-box finder. Measured by "
        f"`make eval-hand-int8` with `{report['classifier']}`.",
    ]
