"""Which hand drives: the raised hands' predictions -> the one the vehicle obeys (DESIGN.md)."""

# Only raised hands reach this rule (a resting hand is never read). A hand whose gesture maps to
# no command (`none`, an unmapped shape) neither drives nor blocks. A halt (`stop`, `fist`, or
# any gesture mapped to the stop command) on either hand wins. Two hands asking for different
# commands give `stop`: the vehicle cannot do both, and guessing is the one thing it must not do.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.pipeline.commands import STOP, CommandMap
from edge.types import Prediction

HALTS = ("stop", "fist")


@dataclass(frozen=True)
class Choice:
    """The rule's answer: the prediction that drives and the hand it came from.

    `hand` indexes the predictions given (None: no hand, or two hands in conflict); `conflict`
    says two raised hands asked for different commands (the prediction is then a `stop`).
    """

    prediction: Prediction | None
    hand: int | None
    conflict: bool = False


def _halt(p: Prediction, commands: CommandMap) -> bool:
    return p.label in HALTS or commands.command_for(p.label) == STOP


def _stop_like(p: Prediction, commands: CommandMap) -> Prediction:
    """A `stop` in `p`'s label order, as sure as `p` (the label mapped to stop, else `none`)."""
    halting = [lb for lb in p.labels if commands.command_for(lb) == STOP]
    label = "stop" if "stop" in halting else (halting[0] if halting else "none")
    scores = np.zeros_like(p.scores)
    if label in p.labels:
        scores[p.labels.index(label)] = p.score
    return Prediction(label=label, score=p.score, scores=scores, labels=p.labels, ts=p.ts)


def choose(predictions: Sequence[Prediction], commands: CommandMap) -> Choice:
    """The gesture the vehicle obeys among the raised hands' predictions.

    Args:
        predictions: one per raised hand, in the locator's order.
        commands: the command map (what each gesture does).

    Returns:
        The `Choice`: no hand -> no prediction; one hand -> its own; two -> the rule above.
    """
    if not predictions:
        return Choice(None, None)
    if len(predictions) == 1:
        return Choice(predictions[0], 0)
    active = [i for i, p in enumerate(predictions) if commands.command_for(p.label) is not None]
    if not active:
        best = max(range(len(predictions)), key=lambda i: predictions[i].score)
        return Choice(predictions[best], best)
    halts = [i for i in active if _halt(predictions[i], commands)]
    if halts:
        best = max(halts, key=lambda i: predictions[i].score)
        return Choice(predictions[best], best)
    asked = {commands.command_for(predictions[i].label) for i in active}
    if len(asked) == 1:
        best = max(active, key=lambda i: predictions[i].score)
        return Choice(predictions[best], best)
    surest = max((predictions[i] for i in active), key=lambda p: p.score)
    return Choice(_stop_like(surest, commands), None, conflict=True)
