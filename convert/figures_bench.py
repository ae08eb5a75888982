"""README/docs blocks from `make bench` (bench/results.json) and the int8 hand-model report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def anchor(results: dict[str, Any]) -> list[str]:
    """Ours against MediaPipe's solutions.hands, per model size and core setting."""
    n = results["frames"]["count"]
    lines = [
        _row(
            [
                "setting (same frames, same model size)",
                "ours",
                "MediaPipe",
                "ours / MediaPipe",
                "target",
                f"hands found (of {n})",
            ]
        ),
        _row(["---"] * 6),
    ]
    for setting, a in results["anchor"].items():
        ours = results["variants"][a["ours"]]["frame_ms"]["mean"]
        theirs = results["variants"][a["mediapipe"]]["frame_ms"]["mean"]
        key = "per_core_ratio_max" if "1 core" in setting else "two_core_ratio_max"
        found = a["hands_found"]
        lines.append(
            _row(
                [
                    setting,
                    f"{ours:.2f} ms",
                    f"{theirs:.2f} ms",
                    f"**{a['ratio']:.2f}**",
                    f"≤ {results['targets'][key]}",
                    f"{found['ours']} vs {found['mediapipe']}",
                ]
            )
        )
    return lines


def variants(results: dict[str, Any], hands: dict[str, Any] | None) -> list[str]:
    """Every timed variant of ours with its per-frame time and, where known, its accuracy."""
    acc = results.get("accuracy", {})
    lock = acc.get("classifier", {})
    lines = [
        _row(["variant", "ms/frame (mean)", "p99", "palm runs", "lockbox photos, gestures"]),
        _row(["---"] * 5),
    ]
    for name, v in results["variants"].items():
        if "stages" not in v:
            continue
        accuracy = "–"
        if hands is not None:
            size = "full" if " full " in f" {name} " else "lite"
            g = hands["variants"].get(size, {}).get("gestures", {}).get("lockbox")
            if g is not None:
                accuracy = _pct(g["accuracy_float" if " float" in name else "accuracy_int8"])
        if "float classifier" in name:
            accuracy = f"classifier lockbox float {_pct(lock.get('lockbox_accuracy_float'))}"
        f = v["frame_ms"]
        lines.append(
            _row(
                [
                    f"{name} ({v['runtime']})",
                    f"{f['mean']:.2f}",
                    f"{f['p99']:.2f}",
                    str(v["palm_runs"]),
                    accuracy,
                ]
            )
        )
    return lines


def end_to_end(results: dict[str, Any]) -> list[str]:
    e = results["end_to_end"]
    lat = e["latency_ms"]
    t = results["targets"]
    return [
        f"End to end (`make bench`): real frames replayed at {e['fps_offered']:.0f} FPS into "
        f"`gesture-edge run` pinned to one core ({e['threads']} thread) → mosquitto → a "
        f"subscriber: frame→subscriber p50 {lat['p50']} ms, p99 {lat['p99']} ms "
        f"(target < {t['e2e_p99_ms_max']:.0f}; {e['messages']} messages), "
        f"{e['fps_processed']} FPS processed, {e['dropped_frames']} frames dropped, daemon CPU "
        f"{e['cpu_percent']} %, RSS {e['rss_mb']} MB (target ≤ {t['rss_mb_max']:.0f})."
    ]


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
        f"interleaved rounds of {results['frames']['count']} frames; every table and stage: "
        "[bench/README.md](bench/README.md).",
    ]


def hand_int8(root: Path) -> list[str]:
    """int8 against float hand models on validation and lockbox frames (make eval-hand-int8)."""
    report = json.loads((root / "models/hand-models-int8.json").read_text())
    t = report["targets"]
    lines = [
        _row(
            [
                "size, side",
                "landmark error mean / p95 (of hand size)",
                "palm recall int8 / float",
                "palm IoU",
                "presence agree",
                "gesture agree (frames)",
                "photos: accuracy float → int8, agree",
            ]
        ),
        _row(["---"] * 7),
    ]
    for size, v in report["variants"].items():
        for side in ("validation", "lockbox"):
            f, g = v["frames"][side], v["gestures"][side]
            lines.append(
                _row(
                    [
                        f"{size}, {side}",
                        f"{_pct(f['landmark_error_mean'])} / {_pct(f['landmark_error_p95'])}",
                        f"{_pct(f['palm_recall_int8'])} / {_pct(f['palm_recall_float'])}",
                        f"{f['palm_iou_mean']:.2f}",
                        _pct(f["presence_agreement"]),
                        _pct(f.get("gesture_agreement")),
                        f"{_pct(g['accuracy_float'])} → {_pct(g['accuracy_int8'])}, "
                        f"{_pct(g['agreement'])}",
                    ]
                )
            )
    lines += [
        "",
        f"Targets: landmark error ≤ {_pct(t['landmark_error_mean_max'])} of the hand's size, "
        f"palm recall ≥ {_pct(t['palm_recall_ratio_min'])} of float's, gesture agreement ≥ "
        f"{_pct(t['gesture_agreement_min'])}, accuracy within "
        f"{t['lockbox_accuracy_drop_max_points']:.0f} point; measured by `make eval-hand-int8` "
        f"with the classifier `{report['classifier']}`.",
    ]
    return lines
