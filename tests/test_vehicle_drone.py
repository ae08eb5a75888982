"""The drone through the real djitellopy against a fake Tello on loopback (devtools.fake_tello,
the SDK's UDP text protocol): the exact SDK command sequence for an armed takeoff, motion, landing
or hovering on every failsafe. Commands come from the real Publisher through a real mosquitto."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import time
import uuid

import pytest

from devtools.fake_tello import FakeTello, loopback_host
from devtools.waiting import until as wait_until
from edge.config import MqttConfig
from edge.link.publisher import Publisher
from edge.types import Command
from subscribers.cli import build
from subscribers.config import parse_vehicle_config
from subscribers.drone import Drone, connect_tello


def until(predicate, timeout: float = 3.0) -> bool:
    return wait_until(predicate, timeout)


@pytest.fixture
def tello():
    with FakeTello(loopback_host()) as fake:
        yield fake


@pytest.fixture
def device() -> str:
    return f"drone-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def publisher(broker, device):
    pub = Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device))
    pub.start()
    assert pub.wait_connected(10) and until(pub.confirmed, 5)
    yield pub
    pub.close()


def send(pub: Publisher, command: str) -> None:
    assert pub.command(Command(command, "g", 0.9, time.time()))


def drone(broker, device, tello, **kw) -> Drone:
    return Drone(
        broker.host, broker.port, device, drone=connect_tello(tello.host, tello.port), **kw
    )


def test_a_takeoff_gesture_released_before_the_arming_time_never_takes_off(
    broker, device, publisher, tello
):
    with drone(broker, device, tello, timeout=2, arm_time=0.6):
        send(publisher, "takeoff")
        time.sleep(0.3)
        send(publisher, "stop")
        time.sleep(0.6)
    assert tello.sequence() == ["command"]  # connect only: no takeoff, nothing to land


def test_takeoff_only_after_the_gesture_is_held_for_arm_time_then_rc_and_land(
    broker, device, publisher, tello
):
    with drone(broker, device, tello, timeout=0.5, arm_time=0.6) as d:
        start = time.monotonic()
        while "takeoff" not in tello.sequence() and time.monotonic() - start < 3:
            send(publisher, "takeoff")  # the daemon repeats a held command
            time.sleep(0.15)
        took_off = tello.wait_for("takeoff").at - start
        assert 0.6 <= took_off < 1.5, took_off  # never early; late only under load
        send(publisher, "up")
        tello.wait_for("rc 0 0 30 0")
        send(publisher, "land")
        tello.wait_for("land")
        assert until(lambda: not d.drone.is_flying)
    assert tello.sequence() == ["command", "takeoff", "rc 0 0 30 0", "rc 0 0 0 0", "land"]


def fly(pub: Publisher, tello: FakeTello, command: str) -> None:
    send(pub, "takeoff")
    tello.wait_for("takeoff")
    send(pub, command)


def test_the_drone_lands_on_its_own_timeout_by_default(broker, device, publisher, tello):
    with drone(broker, device, tello, timeout=0.4, arm_time=0.0) as d:
        fly(publisher, tello, "left")
        tello.wait_for("rc -30 0 0 0")
        landed = tello.wait_for("land").at
        assert d.reason.startswith("no command for") and not tello.flying
        assert landed - tello.wait_for("rc -30 0 0 0").at < 1.0
    assert tello.sequence() == ["command", "takeoff", "rc -30 0 0 0", "rc 0 0 0 0", "land"]


def test_with_failsafe_hover_the_timeout_hovers_and_shutdown_still_lands(
    broker, device, publisher, tello
):
    with drone(broker, device, tello, timeout=0.4, arm_time=0.0, failsafe="hover") as d:
        fly(publisher, tello, "right")
        tello.wait_for("rc 30 0 0 0")
        assert until(lambda: tello.sequence()[-1] == "rc 0 0 0 0")
        time.sleep(0.3)
        assert tello.flying and d.reason.startswith("no command for")
    assert tello.sequence() == ["command", "takeoff", "rc 30 0 0 0", "rc 0 0 0 0", "land"]


def test_the_drone_lands_when_the_daemon_goes_offline(broker, device, tello):
    pub = Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device))
    with drone(broker, device, tello, timeout=30, arm_time=0.0) as d:
        pub.start()
        assert pub.wait_connected(10) and until(pub.confirmed, 5)
        fly(pub, tello, "up")
        tello.wait_for("rc 0 0 30 0")
        pub.close()  # status=offline
        tello.wait_for("land")
        assert d.reason == "daemon offline"
    assert tello.sequence() == ["command", "takeoff", "rc 0 0 30 0", "rc 0 0 0 0", "land"]


def test_the_subscribe_adapter_connects_djitellopy_to_the_configured_drone(
    broker, device, publisher, tello
):
    cfg = parse_vehicle_config(
        {
            "vehicle": {"device_id": device, "timeout": 0.5},
            "mqtt": {"host": broker.host, "port": broker.port},
            "drone": {"host": tello.host, "port": tello.port, "speed": 50, "arm_time": 0.0},
        },
        "drone",
    )
    with build("drone", cfg):
        fly(publisher, tello, "down")
        tello.wait_for("rc 0 0 -50 0")
    assert tello.sequence()[:3] == ["command", "takeoff", "rc 0 0 -50 0"]
    assert tello.sequence()[-1] == "land"


def test_the_drone_lands_when_its_broker_link_is_lost(own_broker, device, tello):
    pub = Publisher(MqttConfig(host=own_broker.host, port=own_broker.port, device_id=device))
    with drone(own_broker, device, tello, timeout=30, arm_time=0.0) as d:
        pub.start()
        try:
            assert pub.wait_connected(10) and until(pub.confirmed, 5)
            fly(pub, tello, "forward")
            tello.wait_for("rc 0 30 0 0")
            own_broker.kill()  # mosquitto crashes: the link drops before any timeout
            tello.wait_for("land")
            assert d.reason == "broker connection lost"
        finally:
            pub.close()
    assert tello.sequence() == ["command", "takeoff", "rc 0 30 0 0", "rc 0 0 0 0", "land"]


def test_a_hovering_drone_gets_its_rc_again_before_the_tellos_own_15_s_auto_land(
    broker, device, publisher, tello
):
    with drone(broker, device, tello, timeout=30, arm_time=0.0, keepalive=0.3):
        fly(publisher, tello, "stop")  # the daemon's stop: hover, then silence
        time.sleep(1.0)
        assert tello.flying
    hovering = tello.sequence()[2:-2]  # after command, takeoff; before the final rc and land
    assert len(hovering) >= 2 and set(hovering) == {"rc 0 0 0 0"}, tello.sequence()


def test_takeoff_while_flying_hovers_instead_of_keeping_the_last_motion(
    broker, device, publisher, tello
):
    with drone(broker, device, tello, timeout=30, arm_time=0.0):
        fly(publisher, tello, "up")
        tello.wait_for("rc 0 0 30 0")
        send(publisher, "takeoff")
        assert until(lambda: tello.rc == (0, 0, 0, 0)) and tello.flying
    assert tello.sequence().count("takeoff") == 1


def test_djitellopy_is_installed_beside_headless_opencv_only():
    # djitellopy requires the GUI opencv-python; make venv installs it with --no-deps, as
    # `make install VEHICLE=drone` does, so one cv2 (the headless one) is installed
    assert importlib.metadata.version("opencv-python-headless")
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("opencv-python")
    # and it works without it: what it imports (av, numpy) is there
    subprocess.run([sys.executable, "-c", "import djitellopy.tello"], check=True)
