"""A Markdown report beside each model (NAME.md + NAME.png): what a person reads, not the JSON."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from convert.evaluate import plot_confusion
from convert.export import ModelKind, ParityError, Thresholds, export, rejected_path
from convert.figures import decision, headline, per_source
from convert.markdown import pct, pct2, table
from convert.split import FRAMES, LOCKBOX, PEOPLE, SESSIONS, SOURCES

log = logging.getLogger(__name__)


def _confusion_table(matrix: list[list[int]], labels: list[str]) -> list[str]:
    rows = [
        [f"**{name}**", *(str(v) for v in row)] for name, row in zip(labels, matrix, strict=True)
    ]
    return table(["true \\ predicted", *labels], rows)


HEADINGS = {  # the evaluation section's title: what its held-out split is
    FRAMES: "Held-out frames — **not** other people",
    PEOPLE: "Held-out people",
    SESSIONS: "Held-out sessions",
    SOURCES: "Held-out sources",
    LOCKBOX: "Evaluation split (validation sources)",
}
WARNING = (
    "> **Warning: held-out frames, not other people.** Some or all images have no group (no "
    "sub-folder per person or session, no `--group-pattern` match), so the split is random: "
    "neighbouring frames of one recording sit on both sides of it and every figure below is "
    "optimistic; none says how the model does on a person it has not seen. To measure that, "
    "put each person's (or session's) photos in a sub-folder of every class folder "
    "(`stop/alice/*.jpg`, `up/alice/*.jpg`, …), or pass `--group-pattern REGEX` whose first "
    "group names the person in each file name (keypoint CSVs: a `repo` column per recording)."
)


def split_kind(meta: dict[str, Any]) -> str | None:
    """What the held-out figures measure (`metrics.split_kind`, `convert.split`); a json from
    before it was recorded: the lockbox when it has leave-one-source-out figures, else unknown."""
    m = meta.get("metrics") or {}
    if m.get("split_kind"):
        return str(m["split_kind"])
    return LOCKBOX if m.get("leave_one_source_out") else None


def _across_people(meta: dict[str, Any], png: str) -> list[str]:
    """Landmark models: the lockbox (by source) and leave-one-source-out figures first."""
    lock = meta["metrics"]["lockbox"]
    lines = ["## Across people: lockbox and leave-one-source-out", "", *headline(meta), ""]
    if "decision" in meta and "choices" in meta.get("source", {}):
        lines += [*decision(meta), ""]
    lines += [
        "### Lockbox confusion matrix (int8; rows = true, columns = predicted)",
        "",
        f"![lockbox confusion matrix]({png})",
        "",
        *_confusion_table(lock["confusion"], meta["labels"]),
        "",
    ]
    if meta["metrics"].get("leave_one_source_out"):
        lines += ["### Leave-one-source-out, per source", "", *per_source(meta), ""]
    return lines


def parity_text(m: dict[str, Any]) -> str:
    """The report's parity sentence, from the checks the json records (each with its outcome)."""
    parity = m.get("parity")
    if not parity:
        return "No parity check recorded."
    checks = []
    if "min_agreement" in parity:
        agreement = parity.get("agreement", m["agreement"])
        ok = agreement >= parity["min_agreement"]
        checks.append(
            f"agreement {pct(agreement)} {'≥' if ok else '<'} {pct(parity['min_agreement'])}"
        )
    if "max_accuracy_drop_points" in parity:
        drop, limit = parity["accuracy_drop_points"], parity["max_accuracy_drop_points"]
        checks.append(f"accuracy drop {drop:.1f} {'≤' if drop <= limit else '>'} {limit:g} points")
    verdict = "passed" if parity.get("ok") else "FAILED"
    return f"Parity check {verdict} ({', '.join(checks) or 'no limits recorded'})."


def write_report(tflite_path: str | Path) -> Path:
    """Write NAME.md (and NAME.png, the int8 confusion matrix) from NAME.json.

    Args:
        tflite_path: the model; its json must hold metrics (from `convert.export.export`).

    Returns:
        The Markdown file's path.

    Raises:
        ValueError: the json has no metrics.
    """
    tflite_path = Path(tflite_path)
    meta: dict[str, Any] = json.loads(tflite_path.with_suffix(".json").read_text())
    m = meta.get("metrics") or {}
    if "int8" not in m:
        raise ValueError(f"{tflite_path.with_suffix('.json')}: no metrics to report")
    kind = split_kind(meta)
    lock = m.get("lockbox") if kind == LOCKBOX else None
    png = plot_confusion(
        (lock or m["int8"])["confusion"],
        meta["labels"],
        f"{meta['name']} (int8, {lock['size']} lockbox hands)"
        if lock
        else f"{meta['name']} (int8, {m['eval_size']} eval images)",
        tflite_path.with_suffix(".png"),
    )
    lines = [
        *_header(meta, WARNING if kind == FRAMES else None),
        *(_across_people(meta, png.name) if lock else []),
        *_evaluation(meta, png.name, kind),
        *_data(meta, kind),
    ]
    path = tflite_path.with_suffix(".md")
    path.write_text("\n".join(lines) + "\n")
    log.info("wrote %s and %s", path, png)
    return path


def _header(meta: dict[str, Any], warning: str | None) -> list[str]:
    """Title, the warning about the split if any, size and the input recipe."""
    inp, sizes = meta["input"], meta.get("sizes", {})
    float_size = (
        f" (float TFLite {sizes['float_tflite_bytes'] / 1024:.1f} KiB)"
        if sizes.get("float_tflite_bytes")
        else ""
    )
    return [
        f"# Model `{meta['name']}`",
        "",
        *([warning, ""] if warning else []),
        f"Created {meta['created']}; sha256 `{meta['sha256'][:16]}…`; "
        f"{meta['size_bytes'] / 1024:.1f} KiB int8{float_size}.",
        "",
        f"Labels: {', '.join(f'`{x}`' for x in meta['labels'])}. Input {inp['shape']} "
        f"{inp['color']}, float input = pixel × {inp['pixel_scale']:g} + "
        f"{inp['pixel_offset']:g}, int8 scale {inp['quantization']['scale']:g} zero point "
        f"{inp['quantization']['zero_point']}; crop margin {inp['crop_margin']:g}.",
        "",
    ]


def _unasked(m: dict[str, Any]) -> list[str]:
    """Landmark models: the safety figure of the evaluation split."""
    if "unasked_motion_rate" not in m.get("int8", {}):
        return []
    i = m["int8"]
    return [
        f"Unasked motion (`stop`/`none`/`fist` hands read as up/down/left/right, int8): "
        f"**{pct2(i['unasked_motion_rate'])}** ({i['unasked_motion_count']} of "
        f"{i['safe_hands']}).",
        "",
    ]


def _evaluation(meta: dict[str, Any], png: str, kind: str | None) -> list[str]:
    """Float vs int8 on the evaluation split, named after what it holds out: accuracy,
    parity, per class, confusion."""
    m, labels = meta["metrics"], meta["labels"]
    split = meta.get("source", {}).get("split", {})
    per_class = [
        [
            f"`{name}`",
            pct(v["precision"]),
            pct(v["recall"]),
            pct(v["f1"]),
            str(v["support"]),
            pct(m["float"]["per_class"][name]["f1"]),
        ]
        for name, v in m["int8"]["per_class"].items()
    ]
    return [
        f"## {HEADINGS.get(kind or '', 'Evaluation')}",
        "",
        f"On {m['eval_size']} held-out examples ({split.get('method', 'see source')}).",
        "",
        *table(
            ["", "float (Keras)", "int8 (TFLite, device code path)"],
            [
                ["accuracy", pct(m["float_accuracy"]), pct(m["int8_accuracy"])],
                ["weighted F1", pct(m["float_weighted_f1"]), pct(m["weighted_f1"])],
            ],
        ),
        "",
        f"Float-vs-int8 top-1 agreement: **{pct(m['agreement'])}**. " + parity_text(m),
        "",
        *_unasked(m),
        "### Per class (int8)",
        "",
        *table(["class", "precision", "recall", "F1", "support", "float F1"], per_class),
        "",
        "### Confusion matrix (int8; rows = true, columns = predicted)",
        "",
        f"![confusion matrix]({png})",
        "",
        *_confusion_table(m["int8"]["confusion"], labels),
        "",
        "### Confusion matrix (float)",
        "",
        *_confusion_table(m["float"]["confusion"], labels),
        "",
    ]


def _data(meta: dict[str, Any], kind: str | None) -> list[str]:
    """Where the data came from, how it was split, the notes and the training settings."""
    src = meta.get("source", {})
    split = src.get("split", {})
    lines = ["## Data", "", f"Source: {src.get('data', '?')}", ""]
    train_counts, eval_counts = split.get("train_counts", {}), split.get("eval_counts", {})
    if train_counts or eval_counts:
        lines += table(
            ["class", "train", "eval"],
            [
                [f"`{c}`", str(train_counts.get(c, 0)), str(eval_counts.get(c, 0))]
                for c in meta["labels"]
            ],
        )
        held = split.get("eval_groups", [])
        lines += [
            "",
            f"{split.get('train_groups', '?')} training groups, {len(held)} evaluation groups "
            f"({kind or 'how they were formed is not recorded'}); the json lists them "
            "(`source.split.eval_groups`).",
            "",
            f"<details><summary>The {len(held)} evaluation groups</summary>",
            "",
            *(f"- `{g}`" for g in held),
            "",
            "</details>",
            "",
        ]
    if split.get("validation"):
        lines += _selection(split["validation"], src.get("training") or {})
    lines += [f"- {note}" for note in src.get("notes", [])]
    if src.get("training"):
        lines += ["", "## Training", "", "```json", json.dumps(src["training"], indent=1), "```"]
    return lines


def _selection(val: dict[str, Any], training: dict[str, Any]) -> list[str]:
    """How the model was selected (validation groups) and whether it was refit."""
    used = f"; {val['size']} images from groups {', '.join(val['groups'])}" if val["size"] else ""
    lines = [f"Model selection (early stopping, LR decay, checkpoint): {val['method']}{used}.", ""]
    refit = training.get("refit_epochs_on_train_and_validation")
    if refit:
        lines += [
            f"Then refit: trained afresh on training + validation groups for {refit} epochs "
            "(the selected count, same learning-rate schedule); evaluation groups unseen.",
            "",
        ]
    return lines


def export_and_report(
    model: Any,
    labels: list[str],
    kind: ModelKind,
    out: Path,
    source: dict[str, Any],
    thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    """`convert.export.export`, then the report of whichever pair it wrote (kept or rejected).

    Raises:
        DataError: bad labels. ParityError: int8 fails the limits (the rejected pair and its
            report are still written).
    """
    try:
        meta = export(model, labels, kind, out, source, thresholds)
    except ParityError:
        _report_if_possible(rejected_path(out))
        raise
    _report_if_possible(out)
    return meta


def _report_if_possible(out: Path) -> None:
    try:
        write_report(out)
    except (ValueError, KeyError) as exc:
        log.warning("no report for %s: %s", out, exc)
