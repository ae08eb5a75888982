"""The one exporter for every model kind: quantize, measure float and int8, enforce parity."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from convert.data import DataError
from convert.quantize import float_tflite_size, to_int8_tflite, write_tflite
from edge.model.artifact import write_meta
from edge.model.runtime import load_interpreter

log = logging.getLogger(__name__)

REJECTED = ".rejected"


class ParityError(RuntimeError):
    """The int8 model disagrees with the float model more than allowed."""


@dataclass(frozen=True)
class Thresholds:
    """The parity limits: both are enforced, for every model kind."""

    min_agreement: float = 0.98  # float-vs-int8 top-1 agreement
    max_accuracy_drop: float = 2.0  # percentage points


class ModelKind(Protocol):
    """What the exporter needs of one kind of model (`convert.images`, `convert.landmarks`)."""

    kind: ClassVar[str]  # the json's `kind`
    parity: ClassVar[Thresholds]  # the kind's default limits

    def calibration(self) -> tuple[np.ndarray, dict[str, Any]]:
        """Float inputs for the representative dataset, and `to_int8_tflite` options."""
        ...

    def input_block(self, tensor: dict[str, Any]) -> dict[str, Any]:
        """The json's `input`, given the int8 input tensor's shape, dtype and quantization."""
        ...

    def extra_meta(self) -> dict[str, Any]:
        """Further top-level json keys of this kind (e.g. the landmark `decision`)."""
        ...

    def measure(self, model: Any, tflite: Path, labels: list[str], name: str) -> dict[str, Any]:
        """The json's `metrics` of float and int8 (`metrics_block` keys at least); a model
        that scores every input alike is warned about under `name`."""
        ...


def check_output(model: Any, labels: list[str]) -> None:
    """Raises DataError when the model's output size differs from the label count."""
    n_out = int(model.output_shape[-1])
    if n_out != len(labels):
        raise DataError(
            f"the model has {n_out} outputs but {len(labels)} labels were given ({labels})"
        )


def export(
    model: Any,
    labels: list[str],
    kind: ModelKind,
    out: str | Path,
    source: dict[str, Any],
    thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    """Quantize `model` to NAME.tflite, measure float and int8 as `kind` says, write NAME.json.

    The pair is staged as NAME.rejected.{tflite,json} and moved to NAME.* only when parity
    holds (`publish_if_parity`).

    Args:
        model: a Keras model whose input is what `kind.calibration()` gives.
        labels: output class names, in order.
        kind: the model kind (inputs, json blocks, how it is measured).
        out: NAME.tflite path (NAME.json is written beside it).
        source: what the model was made from (data, split, counts, settings).
        thresholds: parity limits (default: the kind's).

    Returns:
        The json dict that was written.

    Raises:
        DataError: output size differs from the label count, or a label is unknown.
        ParityError: agreement or accuracy drop break the limits; the pair is then kept as
            NAME.rejected.{tflite,json} and an existing NAME.tflite is left as it was.
    """
    check_output(model, labels)
    final = Path(out).with_suffix(".tflite")
    staged = rejected_path(final)
    inputs, options = kind.calibration()
    log.info("quantizing (calibration: %d training inputs)", len(inputs))
    data = to_int8_tflite(model, inputs, **options)
    write_tflite(data, staged)
    write_meta(staged, artefact_meta(kind, labels, staged, source, {}, {}))  # TFLiteModel reads it
    m = kind.measure(model, staged, labels, final.name)
    if source.get("split", {}).get("kind"):  # what the held-out figures measure (convert.split)
        m["split_kind"] = source["split"]["kind"]
    sizes = {"float_tflite_bytes": float_tflite_size(model), "int8_tflite_bytes": len(data)}
    log.info(
        "%s: float accuracy %.3f, int8 accuracy %.3f, agreement %.3f on %d; "
        "%.1f KiB float -> %.1f KiB int8",
        final.name,
        m["float_accuracy"],
        m["int8_accuracy"],
        m["agreement"],
        m["eval_size"],
        sizes["float_tflite_bytes"] / 1024,
        sizes["int8_tflite_bytes"] / 1024,
    )
    meta = artefact_meta(kind, labels, staged, source, m, sizes)
    return publish_if_parity(staged, final, meta, thresholds or kind.parity)


def parity(metrics: dict[str, Any], thresholds: Thresholds) -> dict[str, Any]:
    """The one parity rule, from the json's own figures: agreement and accuracy drop."""
    agreement = float(metrics["agreement"])
    drop = 100.0 * (float(metrics["float_accuracy"]) - float(metrics["int8_accuracy"]))
    return {
        "ok": agreement >= thresholds.min_agreement and drop <= thresholds.max_accuracy_drop,
        "min_agreement": thresholds.min_agreement,
        "max_accuracy_drop_points": thresholds.max_accuracy_drop,
        "agreement": round(agreement, 4),
        "accuracy_drop_points": round(drop, 2),
    }


def publish_if_parity(
    staged: Path, final: Path, meta: dict[str, Any], thresholds: Thresholds
) -> dict[str, Any]:
    """Record `parity` of `meta["metrics"]` in the json, then move the staged pair to `final`.

    Raises:
        ParityError: the rule fails; the staged pair stays (NAME.rejected.*), `final` untouched.
    """
    check = parity(meta["metrics"], thresholds)
    meta["metrics"]["parity"] = check
    write_meta(staged, meta)
    if not check["ok"]:
        raise ParityError(
            f"int8 model fails parity: agreement {check['agreement']:.3f} (min "
            f"{thresholds.min_agreement}), accuracy drop {check['accuracy_drop_points']:.1f} "
            f"points (max {thresholds.max_accuracy_drop}); kept for inspection as {staged} "
            f"({final} untouched)"
        )
    for suffix in (".md", ".png"):  # a stale report of an earlier rejected attempt
        staged.with_suffix(suffix).unlink(missing_ok=True)
    staged.with_suffix(".json").replace(final.with_suffix(".json"))
    staged.replace(final)
    log.info("wrote %s (%.1f KiB) and its json", final, final.stat().st_size / 1024)
    return meta


def rejected_path(tflite_path: Path) -> Path:
    """Where a model that fails the parity check is kept: NAME.rejected.tflite."""
    return tflite_path.with_name(f"{tflite_path.stem}{REJECTED}.tflite")


def tensor_info(tflite_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Shape, dtype and (scale, zero_point) of a model's input and output, for its json."""
    interpreter, _ = load_interpreter(tflite_path, 1, None)
    out = []
    for det in (interpreter.get_input_details()[0], interpreter.get_output_details()[0]):
        scale, zero = det["quantization"]
        out.append(
            {
                "shape": [int(x) for x in det["shape"]],
                "dtype": det["dtype"].__name__,
                "quantization": {"scale": float(scale), "zero_point": int(zero)},
            }
        )
    return out[0], out[1]


def artefact_meta(
    kind: ModelKind,
    labels: list[str],
    tflite: Path,
    source: dict[str, Any],
    metrics: dict[str, Any],
    sizes: dict[str, int],
) -> dict[str, Any]:
    """The model json (DESIGN.md) of a staged .tflite; `write_meta` adds its sha256."""
    in_info, out_info = tensor_info(tflite)
    return {
        "name": tflite.stem.removesuffix(REJECTED),
        "labels": list(labels),
        "kind": kind.kind,
        "input": kind.input_block(in_info),
        "output": out_info,
        **kind.extra_meta(),
        "metrics": metrics,
        "sizes": sizes,
        "source": source,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def metrics_block(
    m_float: dict[str, Any], m_int8: dict[str, Any], agreement: float
) -> dict[str, Any]:
    """The json's `metrics` (DESIGN.md) from the float and int8 evaluations of one split."""
    return {
        "float_accuracy": m_float["accuracy"],
        "int8_accuracy": m_int8["accuracy"],
        "agreement": round(agreement, 4),
        "per_class_f1": {k: v["f1"] for k, v in m_int8["per_class"].items()},
        "weighted_f1": m_int8["weighted_f1"],
        "float_weighted_f1": m_float["weighted_f1"],
        "eval_size": m_int8["size"],
        "confusion": m_int8["confusion"],
        "float": m_float,
        "int8": m_int8,
    }


def agreement_of(p_float: np.ndarray, p_int8: np.ndarray) -> float:
    """Share of inputs where float and int8 give the same class (1.0 for no inputs)."""
    return float(np.mean(p_float == p_int8)) if len(p_float) else 1.0
