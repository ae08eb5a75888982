"""`gesture-edge classify`: image files, folders or keypoint rows -> a label and score each."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path

from edge.cameras import CameraError
from edge.cameras.replay import image_files
from edge.config import Config, load_config, parse_config
from edge.config.paths import default_model_path
from edge.exits import EX_DATAERR, EX_OK, EX_RUNTIME, EX_USAGE
from edge.hands.classifier import LandmarkClassifier
from edge.hands.features import mirror
from edge.hands.keypoints import KeypointError, read_keypoints, read_label_names
from edge.model.artifact import ModelError, read_meta
from edge.model.crops import read_rgb
from edge.pipeline.classify import Classifier, build_classifier
from edge.pipeline.locate import Locator, LocatorUnavailable, build_locator, crop_region
from edge.types import Frame, HandRegion

log = logging.getLogger("edge")


def run(args: argparse.Namespace) -> int:
    """`classify`: image files/folders (or `--keypoints` rows), one line or JSON object each."""
    model = args.model or (None if args.config else default_model_path())
    if model is not None and not model.is_file():
        raise ModelError(
            f"model file not found: {model}" + ("" if args.model else " (use --model)")
        )
    if model is not None:
        read_meta(model)  # a missing or broken json is the model's fault, not a config's
    cfg = load_config(args.config) if args.config else parse_config({"model": {"path": str(model)}})
    cfg = _with_model(cfg, args.model, args.runtime)
    if args.keypoints is not None:
        return _classify_keypoints(args, cfg)
    if not args.paths:
        log.error("give image files or folders, or --keypoints FILE.csv")
        return EX_USAGE
    return _classify_images(args, cfg)


def _classify_images(args: argparse.Namespace, cfg: Config) -> int:
    """`classify PATH...`: locate (or take `--crops` whole) and classify every image."""

    classifier = build_classifier(cfg)
    try:
        files = image_files(args.paths)
    except CameraError as exc:
        log.error("%s", exc)
        return EX_USAGE
    if not files:
        log.error("no image files in %s", ", ".join(map(str, args.paths)))
        return EX_USAGE
    try:
        locator = None if args.crops else build_locator(cfg, crop_margin=classifier.crop_margin)
    except LocatorUnavailable as exc:
        log.error("%s", exc)
        return EX_RUNTIME
    failures = sum(not _classify_image(path, classifier, locator, args.json) for path in files)
    classifier.close()
    if locator is not None:
        locator.close()
    return EX_RUNTIME if failures else EX_OK


def _classify_image(
    path: Path, classifier: Classifier, locator: Locator | None, as_json: bool
) -> bool:
    """Print one image's label and score (the whole image is the crop without a locator);
    False when it cannot be read."""

    try:
        rgb = read_rgb(str(path))
    except ValueError as exc:
        log.error("%s", exc)
        return False
    frame = Frame(image=rgb, ts=0.0)
    region: HandRegion | None
    if locator is None:
        region = crop_region(rgb.shape[1], rgb.shape[0], classifier.crop_margin)
    else:
        region = locator.locate(frame)
    pred = classifier.classify(frame, region) if region is not None else None
    label, score = (pred.label, pred.score) if pred else ("none", 0.0)
    if as_json:
        print(json.dumps({"path": str(path), "label": label, "score": round(score, 4)}))
    else:
        print(f"{label:>8} {score:.2f}  {path}")
    return True


def _classify_keypoints(args: argparse.Namespace, cfg: Config) -> int:
    """`classify --keypoints`: one {"row", "label", "score"} per CSV row (row = its line)."""

    try:
        names = read_label_names(args.keypoint_labels) if args.keypoint_labels else None
        rows = read_keypoints(args.keypoints, names)
    except KeypointError as exc:
        log.error("%s", exc)
        return EX_DATAERR
    classifier = build_classifier(cfg)
    try:
        if not isinstance(classifier, LandmarkClassifier):
            log.error("--keypoints needs a landmark model (kind: landmarks): %s", cfg.model.path)
            return EX_DATAERR
        points = mirror(rows.x) if args.mirrored else rows.x
        for line, x, truth in zip(rows.lines, points, rows.labels, strict=True):
            pred = classifier.classify_points(x.reshape(21, 2))
            out = {"row": int(line), "label": pred.label, "score": round(pred.score, 4)}
            if args.json:
                print(json.dumps(out))
            else:
                print(f"{pred.label:>8} {pred.score:.2f}  row {line} ({truth})")
    finally:
        classifier.close()
    return EX_OK


def _with_model(cfg: Config, model: Path | None, runtime: str | None) -> Config:
    """`cfg` with the model path and runtime given on the command line, when given."""
    section = cfg.model
    if model is not None:
        section = dataclasses.replace(section, path=str(model.resolve()))
    if runtime:
        section = dataclasses.replace(section, runtime=runtime)
    return cfg if section is cfg.model else dataclasses.replace(cfg, model=section)
