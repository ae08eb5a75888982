"""The reference subscribers' own safety (DESIGN.md chain step 6), against a real broker."""

from __future__ import annotations

import json
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devtools.fake_tello import FakeTello, loopback_host
from devtools.waiting import until as wait_until
from subscribers.drone import Drone, connect_tello
from subscribers.gpio_car import GpioCar
from subscribers.sim_car import SimCar


class Daemon:
    """Plays the daemon's side by publishing raw messages (also malformed ones)."""

    def __init__(self, broker, device: str) -> None:
        self.root = f"gesturepilot/{device}"
        self.seq = 0
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def command(self, command: str, seq: int | None = None) -> None:
        self.seq = self.seq + 1 if seq is None else seq
        payload = {
            "command": command,
            "gesture": "up",
            "confidence": 0.9,
            "seq": self.seq,
            "ts": time.time(),
        }
        self.raw("command", json.dumps(payload))

    def raw(self, name: str, payload: str, retain: bool = False) -> None:
        self.client.publish(f"{self.root}/{name}", payload, qos=1, retain=retain).wait_for_publish(
            2
        )

    def close(self) -> None:
        self.raw("status", "", retain=True)  # clear the retained status
        self.client.disconnect()
        self.client.loop_stop()


def until(predicate, timeout: float = 3.0) -> bool:
    return wait_until(predicate, timeout)


@pytest.fixture
def device() -> str:
    return f"sub-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def daemon(broker, device):
    d = Daemon(broker, device)
    yield d
    d.close()


@pytest.fixture
def car(broker, device):
    c = SimCar(broker.host, broker.port, device, timeout=0.4).start()
    yield c
    c.close()


def test_car_is_stopped_at_start_up_and_moves_on_the_first_fresh_command(car, daemon):
    assert car.current == "stop" and car.reason == "start-up" and car.actions == []
    daemon.command("forward")
    assert until(lambda: car.current == "forward")
    assert car.actions[0][0] == "forward"


def test_car_stops_on_its_own_timeout_when_commands_stop_coming(car, daemon):
    daemon.command("left")
    assert until(lambda: car.current == "left")
    start = time.monotonic()
    assert until(lambda: car.current == "stop", timeout=2.0)
    assert 0.3 < time.monotonic() - start < 1.0
    assert car.reason.startswith("no command for")


def test_car_stops_when_the_daemon_goes_offline(broker, device, daemon):
    with SimCar(broker.host, broker.port, device, timeout=30) as car:
        daemon.command("forward")
        assert until(lambda: car.current == "forward")
        daemon.raw("status", "offline", retain=True)
        assert until(lambda: car.current == "stop")
        assert car.reason == "daemon offline"


def test_malformed_commands_are_ignored_with_a_warning(car, daemon, caplog):
    caplog.set_level("WARNING", logger="subscribers.base")
    for bad in (
        "not json",
        "[1, 2]",
        '{"command": "forward"}',
        '{"command": 3, "seq": 1, "ts": 1}',
    ):
        daemon.raw("command", bad)
    assert until(lambda: car.rejected == 4)
    assert car.current == "stop" and car.actions == []
    assert caplog.text.count("malformed command ignored") == 4


def test_duplicate_and_out_of_order_seq_are_dropped(broker, device, daemon, caplog):
    caplog.set_level("WARNING", logger="subscribers.base")
    with SimCar(broker.host, broker.port, device, timeout=30) as car:
        daemon.command("forward", seq=10)
        daemon.command("left", seq=10)  # duplicate
        daemon.command("right", seq=9)  # out of order
        daemon.command("backward", seq=11)
        assert until(lambda: car.accepted == 2 and car.rejected == 2)
        assert [c for c, _ in car.actions] == ["forward", "backward"]
        assert "seq 10 after 10 dropped" in caplog.text and "seq 9 after 10" in caplog.text
        # anyone can publish `status online`: it resets nothing, an old seq stays dropped
        daemon.raw("status", "online", retain=True)
        daemon.command("left", seq=1)
        assert until(lambda: car.rejected == 3)
        assert car.current == "backward"


def test_stale_commands_are_dropped_with_max_age(broker, device, daemon):
    with SimCar(broker.host, broker.port, device, timeout=30, max_age=0.5) as car:
        old = {
            "command": "forward",
            "gesture": "up",
            "confidence": 1,
            "seq": 1,
            "ts": time.time() - 5,
        }
        daemon.raw("command", json.dumps(old))
        assert until(lambda: car.rejected == 1)
        assert car.current == "stop"


def test_gpio_car_drives_both_motors_and_stops_them(broker, device, daemon):
    from gpiozero import Motor
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    pins = MockFactory(pin_class=MockPWMPin)
    car = GpioCar(broker.host, broker.port, device, timeout=0.4, pin_factory=pins, speed=0.5)
    with car:
        daemon.command("left")
        assert until(lambda: car.left.value == -0.5 and car.right.value == 0.5)
        assert until(lambda: car.left.value == 0 and car.right.value == 0)  # timeout stop
    assert car.left.closed and car.right.closed
    Motor(17, 18, pin_factory=pins).close()  # pins released for the next user


def test_drone_takes_off_moves_hovers_on_a_released_gesture_and_lands(broker, device, daemon):
    with FakeTello(loopback_host()) as tello:
        link = connect_tello(tello.host, tello.port)
        with Drone(broker.host, broker.port, device, timeout=5, drone=link, arm_time=0) as drone:
            daemon.command("takeoff")
            assert until(lambda: tello.flying)
            daemon.command("up")
            assert until(lambda: tello.rc == (0, 0, 30, 0))
            daemon.command("stop")  # the daemon's stop: hover
            assert until(lambda: tello.rc == (0, 0, 0, 0)) and tello.flying
            assert drone.current == "stop"
            daemon.command("land")
            assert until(lambda: not tello.flying)
        hover = "rc 0 0 0 0"
        assert tello.sequence() == ["command", "takeoff", "rc 0 0 30 0", hover, hover, "land"]
