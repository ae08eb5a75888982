"""How a landmark classifier does as the device decides: accuracy, recall, and the safety figure.

The safety figure (`unasked_motion_rate`) is the share of hands that ask for no motion (`stop`,
`none`, `fist`) that come out as a motion gesture (up/down/left/right), with the worst such
(true, predicted) pair: the mistake that drives a car nobody asked to move.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from convert.evaluate import metrics
from edge.hands.classifier import NONE
from edge.hands.decide import MOTION, SAFE, Decider, DecisionRule, index_reach


def device_predictions(
    probs: np.ndarray,
    presence: np.ndarray,
    names: list[str],
    min_presence: float,
    rule: DecisionRule | None = None,
    points: np.ndarray | None = None,
) -> np.ndarray:
    """What the device answers: the decided label (the rule sees the points' index reach when
    given), or `none` where presence is too low."""
    reach = index_reach(points) if points is not None else None
    pred = (
        Decider(names, rule).labels_of(probs, reach) if rule is not None else probs.argmax(axis=1)
    )
    if NONE in names:
        pred = np.where(presence < min_presence, names.index(NONE), pred)
    return pred


def unasked_motion(y: np.ndarray, pred: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Share of safe hands (stop/none/fist) read as a motion, and the worst such pair."""
    safe = np.isin(np.array(names)[y], SAFE)
    motion = np.isin(np.array(names)[pred], MOTION)
    pairs: dict[tuple[str, str], int] = {}
    for t, p in zip(y[safe & motion], pred[safe & motion], strict=True):
        key = (names[t], names[p])
        pairs[key] = pairs.get(key, 0) + 1
    worst = max(pairs.items(), key=lambda kv: kv[1]) if pairs else None
    return {
        "unasked_motion_rate": round(float((safe & motion).sum() / max(1, safe.sum())), 5),
        "unasked_motion_count": int((safe & motion).sum()),
        "safe_hands": int(safe.sum()),
        "worst_unasked_pair": (
            {"true": worst[0][0], "predicted": worst[0][1], "count": worst[1]} if worst else None
        ),
    }


def scored(y: np.ndarray, pred: np.ndarray, names: list[str]) -> dict[str, Any]:
    """`metrics` plus per-class recall and the safety figure."""
    m = metrics(y, pred, names)
    recall = {k: v["recall"] for k, v in m["per_class"].items() if v["recall"] is not None}
    return {**m, "per_class_recall": recall, **unasked_motion(y, pred, names)}
