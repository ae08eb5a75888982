"""The daemon's TOML config: typed sections, unknown keys refused, errors name file and key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.config.rules import (
    cross_field,
    map_keys_are_labels,
    operator_rules,
    preview_rules,
    resolve,
)
from edge.config.sections import ConfigError as ConfigError  # re-exported: callers catch it here
from edge.config.sections import opt as opt
from edge.config.sections import parse_sections, read_toml, refuse
from edge.model.runtime import RUNTIME_NAMES

# Held-gesture reuse (edge.hands.still), chosen on the validation sessions (docs/daemon.md).
STILL_REUSE = 2
STILL_THRESHOLD = 8.0


@dataclass(frozen=True)
class CameraConfig:
    backend: str = opt("opencv", choices=("opencv", "picamera2", "video", "replay"))
    device: str = opt("0", int_ok=True)  # opencv: index, /dev/video* path or GStreamer pipeline
    path: str = opt("", path=True)  # video file, or replay folder / image file
    width: int = opt(640, 16, 8192)
    height: int = opt(480, 16, 8192)
    fps: float = opt(30.0, 0.1, 240)
    loop: bool = opt(False)  # replay/video: start again at the end instead of stopping
    # replay/video: deliver frames at the source's pace (video: the rate the file states, else
    # `fps`; replay: `fps`); false: as fast as the pipeline takes them (evaluation, benches).
    realtime: bool = opt(True)
    # > 1: a second stream `full_scale` times larger; hands are found in the small one and
    # cut from this one (a far hand keeps its detail). replay/video: the file's own pixels.
    full_scale: int = opt(1, 1, 4)
    hfov: float = opt(62.2, 20.0, 180.0)  # horizontal field of view, degrees (Pi Camera v2)


@dataclass(frozen=True)
class ModelConfig:
    path: str = opt("", path=True)  # empty: the shipped default model
    num_threads: int = opt(2, 1, 64)
    runtime: str = opt("auto", choices=("auto", *RUNTIME_NAMES))


@dataclass(frozen=True)
class LocateConfig:
    method: str = opt("fixed", choices=("fixed", "detector", "tracker", "body"))
    box: list[float] = opt([])  # noqa: RUF009 - fixed: [x0, y0, x1, y1] as fractions of the frame; empty: centred square
    palm_model: str = opt("", path=True)
    landmark_model: str = opt("", path=True)
    # unset hand models: the ones the classifier was trained with, in this precision
    hand_precision: str = opt("model", choices=("model", "int8", "float"))
    min_detection_score: float = opt(0.5, 0.0, 1.0)
    min_presence: float = opt(0.5, 0.0, 1.0)
    redetect_every: int = opt(90, 1, 10000)  # palm detector: a rare safety net (3 s at 30 FPS)
    # a held gesture: while the hand's crop stays still, reuse its last landmarks for up to
    # this many frames in a row (0: run the landmark model on every frame; edge.hands.still)
    still_reuse: int = opt(STILL_REUSE, 0, 30)
    still_threshold: float = opt(STILL_THRESHOLD, 0.0, 255.0)  # grey levels a crop may move
    # body: the person first (MediaPipe's pose models), then the hands they hold up
    pose_every: int = opt(10, 1, 300)  # frames between body landmark runs while followed
    max_hands: int = opt(2, 1, 2)  # raised hands read per frame
    pose_detector_model: str = opt("", path=True)
    pose_landmark_model: str = opt("", path=True)
    hand_recrop_model: str = opt("", path=True)


@dataclass(frozen=True)
class DecisionConfig:
    """How scores become a gesture (edge.hands.decide); unset keys keep the model's json values."""

    motion_margin: float | None = opt(None, 0.0, 1.0)  # a motion's lead over stop/none/fist
    min_motion_score: float | None = opt(None, 0.0, 1.0)  # a motion's own score
    reject_below: float | None = opt(None, 0.0, 1.0)  # top score below: `none` (unknown hand)
    min_index_reach: float | None = opt(None, 0.0, 3.0)  # a motion needs a stretched index


@dataclass(frozen=True)
class OperatorConfig:
    """One operator among several hands (edge.hands.operator); needs a detector or tracker."""

    enabled: bool = opt(False)
    policy: str = opt("take_control", choices=("take_control", "largest"))
    take_control: str = opt("peace")  # label held to take control (policy take_control)
    take_frames: int = opt(5, 1, 300)  # consecutive confident frames it must be held
    max_hands: int = opt(2, 2, 8)  # palms looked at per detection


@dataclass(frozen=True)
class SmoothingConfig:
    method: str = opt("window", choices=("window", "ema"))
    window: int = opt(5, 1, 100)
    alpha: float = opt(0.4, 0.01, 1.0)
    enter: float = opt(0.6, 0.0, 1.0)
    exit: float = opt(0.4, 0.0, 1.0)
    min_hold_frames: int = opt(3, 1, 100)
    min_confidence: float = opt(0.5, 0.0, 1.0)
    instant_stop: bool = opt(False)  # one confident stop/fist frame releases a held motion


@dataclass(frozen=True)
class CommandsConfig:
    profile: str = opt("car", choices=("car", "drone"))
    mirror: bool = opt(False)  # selfie-view camera: swap left and right
    map: dict[str, str] = opt({})  # noqa: RUF009 - gesture -> command overrides; "" unmaps a gesture


@dataclass(frozen=True)
class SafetyConfig:
    hold_timeout: float = opt(1.0, 0.05, 60)
    stall_timeout: float = opt(2.0, 0.1, 60)
    repeat_interval: float = opt(0.5, 0.05, 60)


@dataclass(frozen=True)
class MqttConfig:
    host: str = opt("localhost")
    port: int = opt(1883, 1, 65535)
    prefix: str = opt("gesturepilot")
    device_id: str = opt("")  # empty: the hostname
    keepalive: int = opt(5, 1, 3600)  # a dead link is noticed within 2 x keepalive
    command_expiry: int = opt(1, 1, 3600)
    event_expiry: int = opt(5, 1, 3600)  # Message Expiry of gesture and stats (both QoS 0)
    link_timeout: float = opt(1.5, 0.2, 60)  # no broker ack this long: commands dropped
    reconnect_max: float = opt(2.0, 0.5, 120)  # reconnect backoff cap, seconds
    qos: int = opt(1, 0, 2)  # status (online/offline); commands, gesture, stats go at QoS 0
    tls_ca: str = opt("", path=True)
    tls_cert: str = opt("", path=True)
    tls_key: str = opt("", path=True)
    username: str = opt("")
    password_env: str = opt("")
    cmd_vel: bool = opt(False)  # also publish <prefix>/<device_id>/cmd_vel (edge.link.cmd_vel)
    cmd_vel_linear: float = opt(0.2, 0.0, 10.0)  # m/s: forward / backward
    cmd_vel_vertical: float = opt(0.2, 0.0, 10.0)  # m/s: up / down
    cmd_vel_angular: float = opt(0.5, 0.0, 10.0)  # rad/s: left / right
    ha_discovery: bool = opt(False)  # Home Assistant discovery configs (edge.link.ha_discovery)
    ha_prefix: str = opt("homeassistant")  # Home Assistant's discovery prefix
    # where HA publishes its birth message: its own default whatever the discovery prefix
    ha_birth_topic: str = opt("homeassistant/status")
    password: str = field(default="", repr=False, metadata={"internal": True})


@dataclass(frozen=True)
class StatsConfig:
    interval: float = opt(10.0, 0.2, 3600)


@dataclass(frozen=True)
class PreviewConfig:
    enabled: bool = opt(False)
    host: str = opt("127.0.0.1")  # beyond loopback only with a token (docs/security.md)
    port: int = opt(8080, 1, 65535)
    token_env: str = opt("")  # empty: the systemd credential preview_token, if any
    token: str = field(default="", repr=False, metadata={"internal": True})


@dataclass(frozen=True)
class LogConfig:
    level: str = opt("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


SECTIONS: dict[str, type] = {
    "camera": CameraConfig,
    "model": ModelConfig,
    "locate": LocateConfig,
    "decision": DecisionConfig,
    "operator": OperatorConfig,
    "smoothing": SmoothingConfig,
    "commands": CommandsConfig,
    "safety": SafetyConfig,
    "mqtt": MqttConfig,
    "stats": StatsConfig,
    "preview": PreviewConfig,
    "log": LogConfig,
}


@dataclass(frozen=True)
class Config:
    camera: CameraConfig = field(default_factory=CameraConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    locate: LocateConfig = field(default_factory=LocateConfig)
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    operator: OperatorConfig = field(default_factory=OperatorConfig)
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    commands: CommandsConfig = field(default_factory=CommandsConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    stats: StatsConfig = field(default_factory=StatsConfig)
    preview: PreviewConfig = field(default_factory=PreviewConfig)
    log: LogConfig = field(default_factory=LogConfig)
    source: Path | None = None


def load_config(path: str | Path) -> Config:
    """Read, validate and resolve a TOML config file.

    Args:
        path: the TOML file. Relative paths inside it resolve against its directory.

    Returns:
        The validated Config, with paths absolute and defaults filled in.

    Raises:
        ConfigError: unreadable file, TOML syntax, unknown key, wrong type, out of range,
            missing file, or a cross-field rule; the message names the file and the keys.
    """
    path = Path(path)
    return parse_config(read_toml(path), path)


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    """Validate a parsed TOML table (see load_config); `source` names the file in errors."""
    errors: list[str] = []
    sections = parse_sections(data, SECTIONS, source, errors)
    if not errors:
        sections = resolve(sections, errors)
        cross_field(sections, errors)
        map_keys_are_labels(sections, errors)
        operator_rules(sections, errors)
        preview_rules(sections, errors)
    refuse(errors, source)
    return Config(**sections, source=source)
