"""Figures of `make bench` from the raw per-frame seconds: percentiles, ratios, accuracy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODEL_STAGES = ("invoke_palm", "invoke_landmarks", "invoke_classifier")
TARGETS = {
    "per_core_ratio_max": 0.67,
    "two_core_ratio_max": 0.4,
    "pipeline_over_models_max": 1.5,
    "e2e_p99_ms_max": 33.0,
    "e2e_dropped_max": 0,
    "rss_mb_max": 150.0,
}


class Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def pinned(self) -> bool: ...

    @property
    def mediapipe(self) -> bool: ...


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds, dtype=np.float64) * 1000
    if not len(ms):
        return {}
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {
        "mean": round(float(ms.mean()), 3),
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "p99": round(float(p99), 3),
    }


def variant_figures(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One variant over its rounds: per-frame and per-stage ms, hands found, palm runs."""
    frames = [s for r in runs for s in _frame(r)]
    out: dict[str, Any] = {
        "frame_ms": percentiles(frames),
        "frame_ms_mean_per_round": [round(1000 * float(np.mean(_frame(r))), 3) for r in runs],
        "hands_found": min(int(r["hands_found"]) for r in runs),
        "frames": int(runs[0]["frames"]),
    }
    if isinstance(runs[0]["seconds"], dict):
        n = sum(int(r["frames"]) for r in runs)
        stages = {}
        for name in runs[0]["seconds"]:
            if name == "frame":
                continue
            calls = [s for r in runs for s in r["seconds"][name]]
            stages[name] = {
                **percentiles(calls),
                "calls": len(calls),
                "ms_per_frame": round(1000 * sum(calls) / n, 3),
            }
        out["stages"] = stages
        out["palm_runs"] = int(runs[0]["palm_runs"])
        out["landmark_runs"] = int(round(stages["landmarks"]["calls"] / len(runs)))
        out["reused_share"] = round(sum(int(r.get("reused_reads", 0)) for r in runs) / n, 3)
        out["runtime"] = runs[0]["runtime"]
        models = sum(stages[s]["ms_per_frame"] for s in MODEL_STAGES if s in stages)
        out["model_invocations_ms_per_frame"] = round(models, 3)
        out["pipeline_over_models"] = round(out["frame_ms"]["mean"] / models, 3) if models else None
    else:
        out["version"] = runs[0].get("version")
    return out


def _frame(run: dict[str, Any]) -> list[float]:
    seconds = run["seconds"]
    return list(seconds["frame"] if isinstance(seconds, dict) else seconds)


def anchor(raw: dict[str, list[dict]], ours: str, theirs: str) -> dict[str, Any]:
    """Ours / MediaPipe per frame (mean), per round (adjacent in time) and its median."""
    a, b = raw[ours], raw[theirs]
    pairs = list(zip(a, b, strict=True))
    per_round = [float(np.mean(_frame(x)) / np.mean(_frame(y))) for x, y in pairs]
    p50s = [float(np.median(_frame(x)) / np.median(_frame(y))) for x, y in pairs]
    return {
        "ours": ours,
        "mediapipe": theirs,
        "ratio": round(float(np.median(per_round)), 3),
        "ratio_per_round": [round(r, 3) for r in per_round],
        "ratio_p50": round(float(np.median(p50s)), 3),
        "hands_found": {
            "ours": min(x["hands_found"] for x in a),
            "mediapipe": min(y["hands_found"] for y in b),
        },
    }


def summarize(variants: Sequence[Named], raw: dict[str, list[dict]]) -> dict[str, Any]:
    """`variants` (figures per variant) and `anchor` (each ours/MediaPipe pair)."""
    figures = {v.name: variant_figures(raw[v.name]) for v in variants}
    pairs = {}
    for v in variants:
        if v.mediapipe:
            ours = v.name.replace("mediapipe ", "ours ").replace(", ", " int8, ", 1)
            if ours in raw:
                pairs[v.name.removeprefix("mediapipe ")] = anchor(raw, ours, v.name)
    return {"targets": TARGETS, "variants": figures, "anchor": pairs}


def accuracy_beside(models: Path) -> dict[str, Any]:
    """Accuracy of each variant from the committed model json (speed and accuracy in one table)."""
    out: dict[str, Any] = {}
    meta = json.loads((models / "gestures-landmarks.json").read_text())
    lock = meta["metrics"]["lockbox"]
    out["classifier"] = {
        "lockbox_accuracy_int8": lock.get("accuracy"),
        "lockbox_accuracy_float": lock.get("float_accuracy"),
        "hand_models": meta["source"].get("landmarks_from"),
    }
    hands = models / "hand-models-int8.json"
    if hands.is_file():
        report = json.loads(hands.read_text())
        out["hand_models"] = {
            size: {
                "lockbox_gestures": v["gestures"]["lockbox"],
                "lockbox_frames": v["frames"]["lockbox"],
            }
            for size, v in report["variants"].items()
        }
    return out
