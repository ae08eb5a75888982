"""The decision rule of a landmark classifier, chosen on validation (`make reference-landmarks`)."""

# Every rule of a small grid is scored on the validation rows (plus their pointing rows turned to
# every direction, so left/right/down are measured too) and on the hard views of their safe
# hands (palms with the fingers together, side-on fists); the chosen rule lets no hard view drive,
# reads at most MAX_UNASKED of the everyday safe hands as a motion, and has the best mean
# per-class recall. What it costs against plain argmax is recorded beside it.

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from convert.data import encode_labels
from convert.landmarks.evaluate import device_predictions, scored
from convert.landmarks.points import Landmarks, hard_views, join, pointing_views
from edge.hands.decide import MOTION, DecisionRule
from edge.hands.features import expand

MAX_UNASKED = 0.002  # validation: at most 1 safe hand in 500 read as a motion
MARGINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
MIN_SCORES = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9)
REJECTS = (0.3, 0.4, 0.5, 0.6)


@dataclass(frozen=True)
class Calibration:
    """What the decision rule is chosen on: validation rows plus their pointing rows turned to
    every direction (`everyday`), and the hard safe views that must never drive (`hard`)."""

    everyday: Landmarks
    hard: Landmarks
    p_everyday: np.ndarray
    p_hard: np.ndarray


def calibration_sets(model: Any, val: Landmarks) -> Calibration:
    everyday = join([val, pointing_views(val)], "validation + turned pointing")
    hard = hard_views(val)
    predict = lambda d: np.asarray(model.predict(expand(d.x), verbose=0))  # noqa: E731
    return Calibration(everyday, hard, predict(everyday), predict(hard))


def calibrate(
    cal: Calibration, names: list[str], min_presence: float
) -> tuple[DecisionRule, dict[str, Any]]:
    """The decision rule chosen on validation: among the rules under which no hard view drives
    and at most MAX_UNASKED of the everyday safe hands do, the one with the best mean per-class
    recall (so a missed motion counts as much as any other class); the safest if none is."""
    rows = []
    for margin, low, reject in itertools.product(MARGINS, MIN_SCORES, REJECTS):
        rule = DecisionRule(margin, low, reject)
        every = _rates(cal.p_everyday, cal.everyday, names, min_presence, rule)
        hard = _rates(cal.p_hard, cal.hard, names, min_presence, rule)
        rows.append((rule, every, hard))
    ok = [r for r in rows if r[1]["unasked"] <= MAX_UNASKED and r[2]["unasked"] == 0]
    best = (
        max(ok, key=lambda r: (r[1]["balanced"], r[0].motion_margin))
        if ok
        else min(rows, key=lambda r: (r[2]["unasked"] + r[1]["unasked"], -r[1]["balanced"]))
    )
    plain = _rates(cal.p_everyday, cal.everyday, names, min_presence, None)
    plain_hard = _rates(cal.p_hard, cal.hard, names, min_presence, None)
    every, hard = best[1], best[2]
    cost = {
        "chosen_on": "validation sources (+ their pointing turned to every direction, + hard "
        "views: palms with the fingers together, side-on fists)",
        "criterion": f"no hard view drives, unasked motion <= {MAX_UNASKED}, then the best mean "
        "per-class recall",
        "feasible": bool(ok),
        "validation_accuracy": every["accuracy"],
        "validation_balanced_accuracy": every["balanced"],
        "validation_unasked_motion_rate": every["unasked"],
        "validation_motion_recall": every["motion_recall"],
        "hard_views": len(cal.hard),
        "hard_views_unasked_motion_rate": hard["unasked"],
        "plain_argmax": {
            "accuracy": plain["accuracy"],
            "balanced_accuracy": plain["balanced"],
            "unasked_motion_rate": plain["unasked"],
            "motion_recall": plain["motion_recall"],
            "hard_views_unasked_motion_rate": plain_hard["unasked"],
        },
        "missed_motion_cost_points": round(
            100 * (plain["motion_recall"] - every["motion_recall"]), 2
        ),
    }
    return best[0], cost


def _rates(
    probs: np.ndarray,
    part: Landmarks,
    names: list[str],
    min_presence: float,
    rule: DecisionRule | None,
) -> dict[str, float]:
    """Accuracy, mean per-class recall, unasked-motion rate and motion recall of one rule
    (None: plain argmax)."""
    y = encode_labels(part.labels, names)
    pred = device_predictions(probs, part.presence, names, min_presence, rule, part.x)
    s = scored(y, pred, names)
    motion = np.isin(part.labels, MOTION)
    recall = float(np.mean(pred[motion] == y[motion])) if motion.any() else 1.0
    recalls = list(s["per_class_recall"].values())
    return {
        "accuracy": s["accuracy"],
        "balanced": round(float(np.mean(recalls)), 4) if recalls else 0.0,
        "unasked": s["unasked_motion_rate"],
        "motion_recall": round(recall, 4),
    }
