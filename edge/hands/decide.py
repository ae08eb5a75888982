"""Scores -> gesture, weighing a mistake's cost: a safe hand read as a motion is the worst."""

# A hand read as `up` when it shows `stop` drives the car into whatever it was stopped for; a
# missed `up` only makes the person hold it a moment longer. So a motion label (up, down, left,
# right) wins only with a score of at least `min_motion_score`, a margin of `motion_margin` over
# the best safe label (stop, none, fist), and, when the points are known, an index finger that is
# plainly stretched (its tip reaches at least `min_index_reach` times as far from the wrist as its
# middle joint: what every pointing row the model was trained on shows); otherwise the best safe
# label wins. Any top label below `reject_below` is an unfamiliar hand: `none` (open set). The
# scores handed on keep their sum: a motion that lost has its mass moved to the safe label that
# won, so the smoother downstream never averages a demoted motion back into a command.

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from edge.model.artifact import ModelError

MOTION = ("up", "down", "left", "right")
SAFE = ("stop", "none", "fist")
NONE = "none"
LIMITS = {"min_index_reach": 3.0}  # upper bound of each threshold; the others are in [0, 1]


@dataclass(frozen=True)
class DecisionRule:
    """The thresholds of the decision (`[decision]` in the config; the model json's defaults)."""

    motion_margin: float = 0.3
    min_motion_score: float = 0.6
    reject_below: float = 0.4
    min_index_reach: float = 1.1


def index_reach(points: np.ndarray) -> np.ndarray:
    """Index tip's distance from the wrist over its PIP joint's, for (N, 42) or (21, 2+) points."""
    pts = np.asarray(points, np.float64)
    pts = pts[:, :2][None] if pts.ndim == 2 and pts.shape[0] == 21 else pts.reshape(-1, 21, 2)
    tip = np.linalg.norm(pts[:, 8] - pts[:, 0], axis=-1)
    return np.asarray(tip / np.maximum(np.linalg.norm(pts[:, 6] - pts[:, 0], axis=-1), 1e-9))


def model_rule(meta: dict[str, Any]) -> DecisionRule:
    """The rule a model's json was calibrated with (`decision`), else the safe default.

    Raises:
        ModelError: `decision` is not a table of known thresholds within their ranges.
    """
    table = meta.get("decision")
    if table is None:
        return DecisionRule()
    known = {f.name for f in fields(DecisionRule)}
    if not isinstance(table, dict) or set(table) - known:
        raise ModelError(f"model json: `decision` must hold only {sorted(known)}, got {table!r}")
    values = {}
    for key, value in table.items():
        hi = LIMITS.get(key, 1.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= hi:
            raise ModelError(f"model json: decision.{key} must be in [0, {hi}], not {value!r}")
        values[key] = float(value)
    return DecisionRule(**values)


def with_overrides(rule: DecisionRule, **overrides: float | None) -> DecisionRule:
    """`rule` with the thresholds a config sets (None: keep the model's)."""
    return replace(rule, **{k: v for k, v in overrides.items() if v is not None})


class Decider:
    """Applies a `DecisionRule` to probability vectors in one model's label order."""

    def __init__(self, labels: tuple[str, ...] | list[str], rule: DecisionRule) -> None:
        self.labels, self.rule = tuple(labels), rule
        self._motion = np.array([lb in MOTION for lb in self.labels])
        self._safe = np.array([lb in SAFE for lb in self.labels])
        self._none = self.labels.index(NONE) if NONE in self.labels else None

    def decide(self, probs: np.ndarray, reach: np.ndarray | None = None) -> np.ndarray:
        """Decided scores, (N, L) or (L,): the winner is their argmax.

        Args:
            probs: the model's probabilities.
            reach: `index_reach` of each row's points, when known.

        A vocabulary with no safe label keeps its plain argmax (nothing to fall back on).
        """
        p = np.array(probs, dtype=np.float32, copy=True)
        flat = p.reshape(-1, len(self.labels))
        if self._safe.any():
            rows = np.arange(len(flat))
            top = flat.argmax(axis=1)
            best_safe = np.where(self._safe, flat, -1.0).argmax(axis=1)
            margin = flat[rows, top] - flat[rows, best_safe]
            weak = (flat[rows, top] < self.rule.min_motion_score) | (
                margin < self.rule.motion_margin
            )
            if reach is not None:
                weak |= np.asarray(reach).reshape(-1) < self.rule.min_index_reach
            for i in np.flatnonzero(self._motion[top] & weak):
                moved = flat[i, self._motion].sum()
                flat[i, self._motion] = 0.0
                flat[i, best_safe[i]] += moved
        if self._none is not None:
            for i in np.flatnonzero(flat.max(axis=1) < self.rule.reject_below):
                total = flat[i].sum()
                flat[i] = 0.0
                flat[i, self._none] = total
        return flat.reshape(p.shape)

    def labels_of(self, probs: np.ndarray, reach: np.ndarray | None = None) -> np.ndarray:
        """Decided label indices of (N, L) probabilities."""
        return np.asarray(self.decide(probs, reach).argmax(axis=-1))
