"""Config rules that need more than one key, the machine, or the environment."""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path
from typing import Any

from edge.config.credentials import CREDENTIAL_NAME as CREDENTIAL_NAME  # re-exported
from edge.config.credentials import is_loopback, preview_token
from edge.config.credentials import mqtt_password as mqtt_password  # re-exported
from edge.config.paths import default_model_path, models_dir
from edge.config.profiles import STOP, command_for, command_table
from edge.model.artifact import ModelError, read_meta

# [locate] method = "body": MediaPipe's person detector, body landmarks and hand recrop models.
BODY_MODELS = ("pose_detection.tflite", "pose_landmark_full.tflite", "hand_recrop.tflite")


def resolve(s: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    """Fill defaults that depend on the machine: model paths, device id, password."""
    if not s["model"].path:
        path = default_model_path()
        if not path.is_file():
            errors.append(f"[model] path: not set and the default model {path} does not exist")
        s["model"] = dataclasses.replace(s["model"], path=str(path))
    model = Path(s["model"].path)  # its json is the model loader's to check (65, not 78)
    # Also for a fixed box: a landmark model searches the box with these hand models.
    # The hand models live beside the classifier (models/mediapipe/), else in models_dir().
    beside = model.parent / "mediapipe"
    mediapipe = beside if beside.is_dir() else models_dir() / "mediapipe"
    loc = s["locate"]
    names = in_precision(trained_with(model), loc.hand_precision)
    loc = dataclasses.replace(
        loc,
        palm_model=loc.palm_model or str(mediapipe / names["palm_model"]),
        landmark_model=loc.landmark_model or str(mediapipe / names["landmark_model"]),
    )
    loc = dataclasses.replace(
        loc,
        pose_detector_model=loc.pose_detector_model or str(mediapipe / BODY_MODELS[0]),
        pose_landmark_model=loc.pose_landmark_model or str(mediapipe / BODY_MODELS[1]),
        hand_recrop_model=loc.hand_recrop_model or str(mediapipe / BODY_MODELS[2]),
    )
    needed = [("palm_model", loc.palm_model), ("landmark_model", loc.landmark_model)]
    if loc.method == "body":
        needed += [
            ("pose_detector_model", loc.pose_detector_model),
            ("pose_landmark_model", loc.pose_landmark_model),
            ("hand_recrop_model", loc.hand_recrop_model),
        ]
    for key, path in needed:
        if loc.method != "fixed" and not Path(path).is_file():
            errors.append(f"[locate] {key}: {path} does not exist (make models)")
    s["locate"] = loc
    mq = s["mqtt"]
    if not mq.device_id:
        mq = dataclasses.replace(mq, device_id=socket.gethostname().split(".")[0] or "gesturepilot")
    s["mqtt"] = dataclasses.replace(mq, password=mqtt_password(mq.password_env, errors))
    pv = s["preview"]
    s["preview"] = dataclasses.replace(pv, token=preview_token(pv.token_env, errors))
    return s


def preview_rules(s: dict[str, Any], errors: list[str]) -> None:
    """Beyond loopback the preview shows the camera to a whole network: only with a token
    (checked even while `enabled = false`: `run --preview` turns it on)."""
    pv = s["preview"]
    if not is_loopback(pv.host) and not pv.token:
        errors.append(
            f"[preview] host = {pv.host!r} needs a token: anyone on that network would see the "
            "camera. Put a random one in /etc/gesturepilot/preview_token (make install writes it; "
            "systemd hands it over as LoadCredential=preview_token) or name an environment "
            "variable in [preview] token_env; or keep host = '127.0.0.1' and use "
            "ssh -L 8080:localhost:8080 pi@... (docs/security.md)"
        )


def login_rules(
    username: str, password_env: str, tls: tuple[str, str, str], errors: list[str]
) -> None:
    """Cross-key rules of a broker login: a password needs a username; a client certificate
    and key come together and need a CA (`tls` = (ca, cert, key))."""
    ca, cert, key = tls
    if password_env and not username:
        errors.append("[mqtt] password_env: a password needs a username")
    if bool(cert) != bool(key):
        errors.append("[mqtt] tls_cert: tls_cert and tls_key must be given together")
    if (cert or key) and not ca:
        errors.append("[mqtt] tls_ca: a client certificate needs tls_ca")


def trained_with(model: Path) -> dict[str, str]:
    """The MediaPipe hand models a landmark model's json says its landmarks came from
    (`source.landmarks_from`; the full models when it does not say)."""
    names = {
        "palm_model": "palm_detection_full.tflite",
        "landmark_model": "hand_landmark_full.tflite",
    }
    try:
        meta = json.loads(model.with_suffix(".json").read_text())
        told = meta.get("source", {}).get("landmarks_from", {})
    except (OSError, ValueError, AttributeError):
        return names
    for key in names:
        value = told.get(key) if isinstance(told, dict) else None
        if isinstance(value, str) and value.endswith(".tflite") and "/" not in value:
            names[key] = value
    return names


def in_precision(names: dict[str, str], precision: str) -> dict[str, str]:
    """Hand model file names turned to `precision` (`int8`: the `_int8.tflite` copies that
    `make models` writes; `float`: MediaPipe's own; `model`: as the classifier was trained)."""
    if precision == "model":
        return names
    floats = {k: v.removesuffix(".tflite").removesuffix("_int8") for k, v in names.items()}
    suffix = "_int8.tflite" if precision == "int8" else ".tflite"
    return {k: v + suffix for k, v in floats.items()}


def map_keys_are_labels(s: dict[str, Any], errors: list[str]) -> None:
    """Refuse `[commands.map]` keys that are no label of the model (a typo never maps).

    A model whose json cannot be read is left to the model loader, which names the problem.
    """
    try:
        meta = read_meta(s["model"].path)
    except ModelError:
        return
    for gesture in s["commands"].map:
        if gesture not in meta.labels:
            errors.append(
                f"[commands] map.{gesture}: {gesture!r} is not a label of the model "
                f"{meta.tflite_path.name} (its labels: {', '.join(meta.labels)})"
            )


def cross_field(s: dict[str, Any], errors: list[str]) -> None:
    cam, loc, sm, mq, safety = s["camera"], s["locate"], s["smoothing"], s["mqtt"], s["safety"]
    if cam.backend in ("video", "replay") and not cam.path:
        errors.append(f"[camera] path: required when backend = {cam.backend!r}")
    if loc.box:
        ok = len(loc.box) == 4 and all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in loc.box)
        if not ok or not (loc.box[0] < loc.box[2] and loc.box[1] < loc.box[3]):
            errors.append(
                "[locate] box: must be [x0, y0, x1, y1], fractions 0..1 with x0<x1, y0<y1"
            )
    if sm.exit > sm.enter:
        errors.append(f"[smoothing] exit: {sm.exit} must not exceed enter ({sm.enter})")
    for gesture, command in s["commands"].map.items():
        if not isinstance(command, str) or not _is_name(command, allow_empty=True):
            errors.append(
                f"[commands] map.{gesture}: command must be a plain name, not {command!r}"
            )
    levels = (("prefix", mq.prefix), ("device_id", mq.device_id), ("ha_prefix", mq.ha_prefix))
    for key, level in levels:
        if not _is_topic_level(level, allow_slash=key != "device_id"):
            errors.append(f"[mqtt] {key}: {level!r} is not a valid topic level")
    if not _is_topic_level(mq.ha_birth_topic, allow_slash=True):
        errors.append(
            f"[mqtt] ha_birth_topic: {mq.ha_birth_topic!r} is not a topic to subscribe to (one "
            "topic, no + or # wildcard, no leading or trailing /; Home Assistant's default is "
            "'homeassistant/status')"
        )
    if mq.password and not mq.password_env and not mq.username:
        errors.append("[mqtt] username: a password needs a username")
    login_rules(mq.username, mq.password_env, (mq.tls_ca, mq.tls_cert, mq.tls_key), errors)
    if safety.repeat_interval >= mq.command_expiry:
        errors.append(
            f"[safety] repeat_interval: {safety.repeat_interval} must be shorter than "
            f"[mqtt] command_expiry ({mq.command_expiry}) or held commands expire between repeats"
        )


def _is_name(text: str, allow_empty: bool = False) -> bool:
    return (allow_empty and text == "") or (text.replace("_", "").replace("-", "").isalnum())


def _is_topic_level(text: str, allow_slash: bool) -> bool:
    bad = set("+#\0") | (set() if allow_slash else {"/"})
    return (
        bool(text) and not (set(text) & bad) and not text.startswith("/") and not text.endswith("/")
    )


def operator_rules(s: dict[str, Any], errors: list[str]) -> None:
    """`[operator]` needs a hand detector, and its take-control gesture must be a label of the
    model that moves nothing (taking control must not itself drive the vehicle)."""
    op = s["operator"]
    if not op.enabled:
        return
    if s["locate"].method in ("fixed", "body"):
        why = (
            "a fixed box sees one region, not hands"
            if s["locate"].method == "fixed"
            else "the body path follows one person already: the one the person detector "
            "finds best; to pick an operator among several people use 'tracker'"
        )
        errors.append(
            f"[operator] enabled: needs [locate] method = 'detector' or 'tracker' ({why})"
        )
    if op.policy != "take_control":
        return
    try:
        labels = read_meta(s["model"].path).labels
    except ModelError:
        labels = None  # the model loader names the problem
    if labels is not None and op.take_control not in labels:
        errors.append(
            f"[operator] take_control: {op.take_control!r} is not a label of the model "
            f"(its labels: {', '.join(labels)})"
        )
    cmds = s["commands"]
    command = command_for(command_table(cmds.profile, cmds.map), op.take_control, cmds.mirror)
    if command not in (None, STOP):
        errors.append(
            f"[operator] take_control: {op.take_control!r} is the command {command!r} "
            f"([commands] profile {s['commands'].profile!r}); taking control must not move "
            "the vehicle: pick a gesture that maps to no command or to stop, or unmap it"
        )
