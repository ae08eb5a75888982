"""The vehicle side's TOML config (`gesture-edge subscribe`): the daemon config's rules."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.config.rules import login_rules, mqtt_password
from edge.config.sections import opt, parse_sections, read_toml, refuse
from subscribers.options import valid_device_id

ADAPTERS = ("sim", "car", "drone")


@dataclass(frozen=True)
class VehicleSection:
    adapter: str = opt("", choices=("", *ADAPTERS))  # empty: whatever --adapter says
    device_id: str = opt("")  # the one daemon to follow; required
    timeout: float = opt(1.0, 0.05, 60)  # stop after this long without a command
    max_age: float = opt(0.5, 0.01, 60)  # drop a command this much later than the fastest
    max_skew: float = opt(300.0, 1, 86400)  # refuse a ts this far from this clock


@dataclass(frozen=True)
class BrokerSection:
    host: str = opt("localhost")
    port: int = opt(1883, 1, 65535)
    prefix: str = opt("gesturepilot")
    tls_ca: str = opt("", path=True)
    tls_cert: str = opt("", path=True)
    tls_key: str = opt("", path=True)
    username: str = opt("")
    password_env: str = opt("")
    password: str = field(default="", repr=False, metadata={"internal": True})


@dataclass(frozen=True)
class CarSection:
    left_pins: list[int] = opt([17, 18])  # noqa: RUF009 - [forward, backward] BCM pins
    right_pins: list[int] = opt([22, 23])  # noqa: RUF009
    speed: float = opt(0.6, 0.0, 1.0)  # scales every command's motor value
    pwm: bool = opt(True)


@dataclass(frozen=True)
class DroneSection:
    host: str = opt("192.168.10.1")  # the Tello's address (its own Wi-Fi)
    port: int = opt(8889, 1, 65535)  # its SDK command port
    speed: int = opt(30, 1, 100)  # percent of the rc range
    failsafe: str = opt("land", choices=("land", "hover"))  # on timeout, offline, link loss
    arm_time: float = opt(1.0, 0.0, 10.0)  # takeoff only after the gesture is held this long


@dataclass(frozen=True)
class LogSection:
    level: str = opt("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


SECTIONS: dict[str, type] = {
    "vehicle": VehicleSection,
    "mqtt": BrokerSection,
    "car": CarSection,
    "drone": DroneSection,
    "log": LogSection,
}


@dataclass(frozen=True)
class VehicleConfig:
    vehicle: VehicleSection = field(default_factory=VehicleSection)
    mqtt: BrokerSection = field(default_factory=BrokerSection)
    car: CarSection = field(default_factory=CarSection)
    drone: DroneSection = field(default_factory=DroneSection)
    log: LogSection = field(default_factory=LogSection)
    source: Path | None = None


def load_vehicle_config(path: str | Path, adapter: str) -> VehicleConfig:
    """Read and validate a vehicle config for `adapter` (sim, car, drone).

    Raises:
        ConfigError: unreadable file, TOML syntax, unknown section or key, wrong type, out of
            range, a missing file, or a cross-field rule; the message names the file and keys.
    """
    path = Path(path)
    return parse_vehicle_config(read_toml(path), adapter, path)


def parse_vehicle_config(
    data: dict[str, Any], adapter: str, source: Path | None = None
) -> VehicleConfig:
    """Validate a parsed TOML table (see load_vehicle_config)."""
    errors: list[str] = []
    sections = parse_sections(data, SECTIONS, source, errors)
    if not errors:
        _rules(sections, adapter, errors)
    refuse(errors, source)
    return VehicleConfig(**sections, source=source)


def _rules(s: dict[str, Any], adapter: str, errors: list[str]) -> None:
    v, mq, car = s["vehicle"], s["mqtt"], s["car"]
    if v.adapter and v.adapter != adapter:
        errors.append(f"[vehicle] adapter: {v.adapter!r}, but the command line says {adapter!r}")
    if not v.device_id:
        errors.append("[vehicle] device_id: required (the device_id of the one daemon to follow)")
    elif not valid_device_id(v.device_id):
        errors.append(f"[vehicle] device_id: {v.device_id!r} must name one daemon (no wildcards)")
    if not mq.prefix or set(mq.prefix) & set("+#\0") or mq.prefix.strip("/") != mq.prefix:
        errors.append(f"[mqtt] prefix: {mq.prefix!r} is not a valid topic prefix")
    for key in ("left_pins", "right_pins"):
        pins = getattr(car, key)
        if len(pins) != 2 or not all(isinstance(p, int) and 0 <= p <= 53 for p in pins):
            errors.append(f"[car] {key}: must be [forward, backward], two GPIO numbers 0..53")
    if len({*car.left_pins, *car.right_pins}) != len(car.left_pins) + len(car.right_pins):
        errors.append("[car] right_pins: a pin is used twice")
    if not car.pwm and car.speed != 1.0:
        errors.append(
            f"[car] speed: {car.speed} needs pwm = true (without PWM a motor is on or off: 1.0)"
        )
    login_rules(mq.username, mq.password_env, (mq.tls_ca, mq.tls_cert, mq.tls_key), errors)
    s["mqtt"] = dataclasses.replace(mq, password=mqtt_password(mq.password_env, errors))
