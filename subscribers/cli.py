"""`gesture-edge subscribe --adapter sim|car|drone --config FILE`: the vehicle side as a service."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.exits import EX_OK, EX_RUNTIME
from subscribers.config import ADAPTERS, load_vehicle_config

if TYPE_CHECKING:
    from subscribers.base import SafeSubscriber
    from subscribers.config import VehicleConfig

log = logging.getLogger(__name__)


class AdapterUnavailable(RuntimeError):
    """The vehicle's library or hardware is missing or does not answer (exit 1, no traceback)."""


def add_parser(sub: Any) -> None:
    """Register `subscribe` on the `gesture-edge` subcommands."""
    p = sub.add_parser("subscribe", help="run the vehicle side: follow one daemon's commands")
    p.add_argument("--adapter", required=True, choices=ADAPTERS, help="what to drive")
    p.add_argument("--config", required=True, type=Path, help="vehicle TOML config file")


def cmd_subscribe(args: argparse.Namespace) -> int:
    """Run the adapter until SIGTERM/SIGINT, then stop the vehicle and exit 0.

    Raises:
        ConfigError: the config is invalid (`gesture-edge` exits 78).
    """
    cfg = load_vehicle_config(args.config, args.adapter)
    logging.basicConfig(
        level=args.log_level or cfg.log.level,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.set())
    try:
        vehicle = build(args.adapter, cfg)
    except AdapterUnavailable as exc:
        log.error("%s", exc)
        return EX_RUNTIME
    log.info(
        "%s adapter following %s/%s on %s:%d",
        args.adapter,
        cfg.mqtt.prefix,
        cfg.vehicle.device_id,
        cfg.mqtt.host,
        cfg.mqtt.port,
    )
    vehicle.start(wait=1.0)  # stopped until the first fresh command, broker or not
    try:
        stop.wait()
        log.info("signal received: stopping the vehicle")
    finally:
        vehicle.close()
    return EX_OK


def build(adapter: str, cfg: VehicleConfig) -> SafeSubscriber:
    """The SafeSubscriber for `adapter`, configured from `cfg` (not started).

    Raises:
        AdapterUnavailable: its library is not installed, or its hardware cannot be opened.
    """
    v, mq = cfg.vehicle, cfg.mqtt
    common: dict[str, Any] = {
        "prefix": mq.prefix,
        "timeout": v.timeout,
        "max_age": v.max_age,
        "max_skew": v.max_skew,
        "username": mq.username,
        "password": mq.password,
        "tls_ca": mq.tls_ca,
        "tls_cert": mq.tls_cert,
        "tls_key": mq.tls_key,
    }
    where = (mq.host, mq.port, v.device_id)
    if adapter == "sim":
        from subscribers.sim_car import SimCar

        return SimCar(*where, **common)
    if adapter == "car":
        return _car(cfg, where, common)
    return _drone(cfg, where, common)


def _car(cfg: VehicleConfig, where: tuple[str, int, str], common: dict[str, Any]) -> SafeSubscriber:
    try:
        from gpiozero.exc import GPIOZeroError

        from subscribers.gpio_car import GpioCar
    except ImportError as exc:
        raise AdapterUnavailable(f"car: gpiozero is not installed ({exc})") from exc
    c = cfg.car
    # gpiozero warns once per pin library it could not load: say it in the error, in one line
    with warnings.catch_warnings(record=True) as tried:
        warnings.simplefilter("always")
        try:
            return GpioCar(
                *where,
                left_pins=(c.left_pins[0], c.left_pins[1]),  # two pins: subscribers.config
                right_pins=(c.right_pins[0], c.right_pins[1]),
                speed=c.speed,
                pwm=c.pwm,
                **common,
            )
        except (GPIOZeroError, OSError) as exc:
            fallbacks = "; ".join(str(w.message) for w in tried)
            raise AdapterUnavailable(
                f"car: cannot open GPIO pins {c.left_pins} {c.right_pins} "
                f"([car] left_pins/right_pins): {type(exc).__name__}: {exc}"
                + (f" ({fallbacks}; on a Pi: apt install python3-lgpio)" if fallbacks else "")
            ) from exc
        finally:
            for w in tried:
                log.debug("gpiozero: %s", w.message)


def _drone(
    cfg: VehicleConfig, where: tuple[str, int, str], common: dict[str, Any]
) -> SafeSubscriber:
    from subscribers.drone import Drone, connect_tello

    d = cfg.drone
    try:
        tello = connect_tello(d.host, d.port)
    except ImportError as exc:
        raise AdapterUnavailable(f"drone: djitellopy is not installed ({exc})") from exc
    except Exception as exc:  # djitellopy.TelloException, OSError: no drone on that address
        raise AdapterUnavailable(
            f"drone: no Tello answers at {d.host}:{d.port} ([drone] host/port): {exc}"
        ) from exc
    return Drone(
        *where, drone=tello, speed=d.speed, failsafe=d.failsafe, arm_time=d.arm_time, **common
    )
