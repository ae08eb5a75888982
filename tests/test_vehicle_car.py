"""The GPIO car through gpiozero's own MockFactory/MockPWMPin: pin values per command, and every
failsafe (timeout, status offline, shutdown) drives every pin to 0. Commands come from the real
Publisher through a real mosquitto."""

from __future__ import annotations

import time
import uuid

import pytest
from gpiozero import Motor
from gpiozero.pins.mock import MockFactory, MockPWMPin

from devtools.waiting import until as wait_until
from edge.config import MqttConfig
from edge.link.publisher import Publisher
from edge.types import Command
from subscribers.cli import build
from subscribers.config import parse_vehicle_config
from subscribers.gpio_car import GpioCar

LEFT, RIGHT = (17, 18), (22, 23)
PINS = (*LEFT, *RIGHT)


def until(predicate, timeout: float = 3.0) -> bool:
    return wait_until(predicate, timeout)


@pytest.fixture
def pins() -> MockFactory:
    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.reset()


def levels(factory: MockFactory) -> tuple[float, ...]:
    """The PWM duty of (left fwd, left back, right fwd, right back), as a motor driver sees it."""
    return tuple(round(float(factory.pin(n).state), 3) for n in PINS)


@pytest.fixture
def device() -> str:
    return f"car-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def publisher(broker, device):
    pub = Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device))
    pub.start()
    assert pub.wait_connected(10) and until(pub.confirmed, 5)
    yield pub
    pub.close()


def send(pub: Publisher, command: str) -> None:
    assert pub.command(Command(command, "g", 0.9, time.time()))


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("forward", (0.5, 0, 0.5, 0)),
        ("backward", (0, 0.5, 0, 0.5)),
        ("left", (0, 0.5, 0.5, 0)),  # spins counter-clockwise: left wheels back, right forward
        ("right", (0.5, 0, 0, 0.5)),
    ],
)
def test_each_command_sets_the_gpio_pins_of_both_motors(
    broker, device, publisher, pins, command, expected
):
    car = GpioCar(broker.host, broker.port, device, timeout=5, speed=0.5, pin_factory=pins)
    with car:
        assert levels(pins) == (0, 0, 0, 0)  # stopped at start-up
        send(publisher, command)
        assert until(lambda: levels(pins) == expected), levels(pins)
        send(publisher, "stop")
        assert until(lambda: levels(pins) == (0, 0, 0, 0)), levels(pins)


def test_the_car_stops_every_pin_on_its_own_timeout(broker, device, publisher, pins):
    with GpioCar(broker.host, broker.port, device, timeout=0.4, pin_factory=pins) as car:
        send(publisher, "forward")
        assert until(lambda: levels(pins) == (0.6, 0, 0.6, 0))
        start = time.monotonic()
        assert until(lambda: levels(pins) == (0, 0, 0, 0))
        assert 0.3 < time.monotonic() - start < 1.0 and car.reason.startswith("no command for")


def test_the_car_stops_every_pin_when_the_daemon_goes_offline(broker, device, pins):
    pub = Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device))
    with GpioCar(broker.host, broker.port, device, timeout=30, pin_factory=pins) as car:
        pub.start()
        assert pub.wait_connected(10) and until(pub.confirmed, 5)
        send(pub, "left")
        assert until(lambda: levels(pins) == (0, 0.6, 0.6, 0))
        pub.close()  # status=offline
        assert until(lambda: levels(pins) == (0, 0, 0, 0)) and car.reason == "daemon offline"


def test_shutdown_stops_the_motors_and_releases_the_pins(broker, device, publisher, pins):
    car = GpioCar(broker.host, broker.port, device, timeout=30, pin_factory=pins)
    with car:
        send(publisher, "backward")
        assert until(lambda: levels(pins) == (0, 0.6, 0, 0.6))
    assert levels(pins) == (0, 0, 0, 0)
    assert car.left.closed and car.right.closed
    Motor(*LEFT, pin_factory=pins).close()  # free for the next user


def test_the_subscribe_adapter_builds_the_car_from_the_config_pins(broker, device, pins):
    from gpiozero import Device

    cfg = parse_vehicle_config(
        {
            "vehicle": {"device_id": device},
            "mqtt": {"host": broker.host, "port": broker.port},
            "car": {"left_pins": [5, 6], "right_pins": [13, 19], "speed": 0.25},
        },
        "car",
    )
    old, Device.pin_factory = Device.pin_factory, pins  # what GPIOZERO_PIN_FACTORY would pick
    try:
        car = build("car", cfg)
        with car:
            car.act("forward", {})
            assert [round(pins.pin(n).state, 2) for n in (5, 6, 13, 19)] == [0.25, 0, 0.25, 0]
        assert [pins.pin(n).state for n in (5, 6, 13, 19)] == [0, 0, 0, 0]
    finally:
        Device.pin_factory = old
