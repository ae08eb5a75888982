"""Group-wise stratified train/eval split: no group (session, person) on both sides."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from convert.data import DataError, Dataset

log = logging.getLogger(__name__)

# What a held-out split measures (the json's `metrics.split_kind`, the report's headline, the
# device's log line). Only the reference's by-source split is a lockbox.
FRAMES = "held-out frames — not other people"
PEOPLE = "held-out people"
SESSIONS = "held-out sessions"
SOURCES = "held-out sources"
LOCKBOX = "held-out sources: lockbox and leave-one-source-out"
SPLIT_KINDS = (FRAMES, PEOPLE, SESSIONS, SOURCES, LOCKBOX)


def kind_of(grouped_by: tuple[str, ...]) -> str:
    """The one rule for what a split by these groups measures: any image that is its own group
    (or groups of unknown origin) -> frames; a box CSV's sessions -> sessions; sub-folders or
    `--group-pattern` -> people (the README asks for one sub-folder per person)."""
    if not grouped_by or "file" in grouped_by:
        return FRAMES
    return SESSIONS if "session" in grouped_by else PEOPLE


@dataclass
class Split:
    """A train/eval split and how it was made (recorded in the model's json)."""

    train: Dataset
    eval: Dataset
    method: str
    eval_groups: list[str]
    kind: str = FRAMES

    def describe(self) -> dict[str, object]:
        """The split as recorded in the model json: kind, method, sizes, groups, counts."""
        return {
            "kind": self.kind,
            "grouped_by": list(self.train.grouped_by),
            "method": self.method,
            "train_size": len(self.train),
            "eval_size": len(self.eval),
            "train_groups": len(set(self.train.groups.tolist())),
            "eval_groups": sorted(self.eval_groups),
            "train_counts": self.train.counts(),
            "eval_counts": self.eval.counts(),
        }


def _imbalance(eval_counts: np.ndarray, target: np.ndarray, totals: np.ndarray) -> float:
    if np.any((eval_counts >= totals) & (totals > 0)):  # a class would lose all training images
        return float("inf")
    return float(np.sum(((eval_counts - target) / np.maximum(target, 1.0)) ** 2))


def _local_search(per_group: np.ndarray, target: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Toggle one group in or out of eval while that improves the balance the most."""
    totals = per_group.sum(axis=0)
    current = per_group[chosen].sum(axis=0)
    score = _imbalance(current, target, totals)
    while True:
        deltas = np.where(chosen[:, None], -per_group, per_group)
        scores = [_imbalance(current + d, target, totals) for d in deltas]
        best = int(np.argmin(scores))
        if scores[best] >= score - 1e-9:
            return chosen
        chosen[best] = not chosen[best]
        current, score = current + deltas[best], scores[best]


def group_split(data: Dataset, eval_fraction: float = 0.3, seed: int = 0) -> Split:
    """Split by group so that each class gets about `eval_fraction` of its images in eval.

    Starts from a seeded random assignment of groups, then moves single groups in or out of
    eval while that brings the classes' eval shares closer to `eval_fraction` (squared
    relative error). Every class keeps at least
    one training image; a class left without eval images is logged.

    Args:
        data: the dataset (its `groups` say which images must stay together).
        eval_fraction: wanted share of each class in the evaluation split (0 < f < 1).
        seed: the visiting order; the same seed gives the same split.

    Returns:
        The split.

    Raises:
        DataError: fewer than 2 groups, or a bad fraction.
    """
    if not 0.0 < eval_fraction < 1.0:
        raise DataError(f"eval fraction must be between 0 and 1, not {eval_fraction}")
    classes = data.classes
    group_names = sorted(set(data.groups.tolist()))
    if len(group_names) < 2:
        raise DataError(f"{data.source}: only one group ({group_names}); cannot split by group")
    class_idx = {c: i for i, c in enumerate(classes)}
    per_group = np.zeros((len(group_names), len(classes)))
    g_index = {g: i for i, g in enumerate(group_names)}
    for g, lab in zip(data.groups.tolist(), data.labels.tolist(), strict=True):
        per_group[g_index[g], class_idx[lab]] += 1
    target = per_group.sum(axis=0) * eval_fraction
    # a seeded random start, then local search: different seeds give different good splits
    chosen = np.random.default_rng(seed).random(len(group_names)) < eval_fraction
    if not np.isfinite(_imbalance(per_group[chosen].sum(axis=0), target, per_group.sum(axis=0))):
        chosen[:] = False
    chosen = _local_search(per_group, target, chosen)
    eval_groups = [group_names[i] for i in np.flatnonzero(chosen)]
    in_eval = np.isin(data.groups, eval_groups)
    split = Split(
        data.subset(~in_eval),
        data.subset(in_eval),
        f"group-wise stratified, eval fraction {eval_fraction}, seed {seed}",
        eval_groups,
        kind_of(data.grouped_by),
    )
    missing = [c for c in classes if c not in split.eval.counts()]
    if missing:
        log.warning("no evaluation images for class(es) %s: their groups are too few", missing)
    log.info(
        "split: %d train / %d eval images, %d eval groups of %d (%s)",
        len(split.train),
        len(split.eval),
        len(eval_groups),
        len(group_names),
        split.kind,
    )
    return split
