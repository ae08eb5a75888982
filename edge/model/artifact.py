"""The model artefact: NAME.tflite (full-integer int8) with NAME.json beside it (DESIGN.md)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = "gesturepilot-model/1"
KINDS = ("image", "landmarks")


class ModelError(ValueError):
    """A model artefact is missing, corrupt, or its json and tflite disagree."""


@dataclass(frozen=True)
class InputSpec:
    """How a crop or feature vector becomes the model's input tensor.

    For `image` models the device resizes an RGB (or BGR, per `color`) crop to `shape[1:3]`,
    computes `pixel * pixel_scale + pixel_offset` (the float model's input), then quantizes with
    the tensor's (scale, zero_point). For `landmarks` models `features` names the feature recipe.
    """

    shape: tuple[int, ...]
    color: str = "RGB"
    pixel_scale: float = 1.0
    pixel_offset: float = 0.0
    crop_margin: float = 0.0
    features: str | None = None


@dataclass(frozen=True)
class ModelMeta:
    """The parsed json of a model artefact."""

    path: Path
    labels: tuple[str, ...]
    kind: str
    input: InputSpec
    sha256: str
    raw: dict[str, Any]

    @property
    def tflite_path(self) -> Path:
        return self.path.with_suffix(".tflite")


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def meta_path_for(tflite_path: str | Path) -> Path:
    return Path(tflite_path).with_suffix(".json")


def read_meta(tflite_path: str | Path) -> ModelMeta:
    """Read and check the json beside a .tflite (not the tflite itself).

    Raises:
        ModelError: a file is missing, the json is malformed, or a required field is absent.
    """
    tflite_path = Path(tflite_path)
    json_path = meta_path_for(tflite_path)
    if not tflite_path.is_file():
        raise ModelError(f"model file not found: {tflite_path}")
    if not json_path.is_file():
        raise ModelError(f"model metadata not found: {json_path} (expected beside the .tflite)")
    try:
        raw = json.loads(json_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{json_path}: not valid JSON ({exc})") from exc
    try:
        labels = tuple(str(x) for x in raw["labels"])
        kind = raw["kind"]
        spec = raw["input"]
        input_spec = InputSpec(
            shape=tuple(int(x) for x in spec["shape"]),
            color=spec.get("color", "RGB"),
            pixel_scale=float(spec.get("pixel_scale", 1.0)),
            pixel_offset=float(spec.get("pixel_offset", 0.0)),
            crop_margin=float(spec.get("crop_margin", 0.0)),
            features=spec.get("features"),
        )
        sha = str(raw["sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{json_path}: missing or invalid field {exc}") from exc
    for table in ("metrics", "source", "landmarks_from", "input"):
        if table in raw and not isinstance(raw[table], dict):
            raise ModelError(f"{json_path}: `{table}` must be a table, not {raw[table]!r}")
    if kind not in KINDS:
        raise ModelError(f"{json_path}: kind must be one of {KINDS}, not {kind!r}")
    duplicates = sorted({x for x in labels if labels.count(x) > 1})
    if duplicates:
        raise ModelError(f"{json_path}: labels {duplicates} appear more than once in {labels}")
    if len(labels) < 2:
        raise ModelError(f"{json_path}: labels must be at least 2 names, got {labels}")
    if input_spec.color not in ("RGB", "BGR"):
        raise ModelError(f"{json_path}: input.color must be RGB or BGR, not {input_spec.color!r}")
    return ModelMeta(json_path, labels, kind, input_spec, sha, raw)


def check_against_tflite(
    meta: ModelMeta, input_details: dict[str, Any], output_details: dict[str, Any]
) -> None:
    """Refuse a json that does not describe the loaded tflite.

    Raises:
        ModelError: naming the first disagreement (sha256, input shape, dtype, label count).
    """
    actual = sha256_file(meta.tflite_path)
    if actual != meta.sha256:
        raise ModelError(
            f"{meta.path}: sha256 {meta.sha256[:12]}… does not match {meta.tflite_path.name} "
            f"({actual[:12]}…); the json belongs to another model"
        )
    in_shape = tuple(int(x) for x in input_details["shape"])
    if in_shape != meta.input.shape:
        raise ModelError(
            f"{meta.path}: input shape {list(meta.input.shape)} does not match the tflite's "
            f"{list(in_shape)}"
        )
    n_out = int(output_details["shape"][-1])
    if n_out != len(meta.labels):
        raise ModelError(
            f"{meta.path}: {len(meta.labels)} labels but the tflite has {n_out} outputs"
        )
    for role, det in (("input", input_details), ("output", output_details)):
        if det["dtype"].__name__ != "int8":
            raise ModelError(
                f"{meta.tflite_path}: {role} tensor is {det['dtype'].__name__}, expected int8 "
                "(a full-integer model from gesture-convert)"
            )


def write_meta(tflite_path: str | Path, meta: dict[str, Any]) -> Path:
    """Write NAME.json beside NAME.tflite, filling `sha256` and `format` from the file."""
    tflite_path = Path(tflite_path)
    out = dict(meta)
    out["format"] = FORMAT
    out["sha256"] = sha256_file(tflite_path)
    out["size_bytes"] = tflite_path.stat().st_size
    path = meta_path_for(tflite_path)
    path.write_text(json.dumps(out, indent=2, sort_keys=False) + "\n")
    return path
