"""kill -9 of the daemon's process while it holds a command: each adapter (sim, GPIO car on
gpiozero's mock pins, Tello through djitellopy) stops. The kernel closes the killed process's
socket, so mosquitto publishes the Last Will (`status=offline`) at once and the vehicle stops on
it; the vehicle's own timeout is the bound (it covers a daemon that dies without its socket
closing: power loss, a cut link, where the Will waits 1.5 x keepalive). Prints the measured
kill-to-stop time per adapter; `make kill-to-stop` (devtools/kill_to_stop.py) records it for the
real daemon into bench/kill-to-stop.json."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from devtools import kill_to_stop as bench
from devtools.fake_tello import FakeTello, loopback_host
from devtools.scripted_frames import write_frame_sequence
from devtools.waiting import until
from subscribers.drone import Drone, connect_tello
from subscribers.gpio_car import GpioCar
from subscribers.sim_car import SimCar

HOLDER = textwrap.dedent(
    """
    import sys, time
    from edge.config import MqttConfig
    from edge.link.publisher import Publisher
    from edge.types import Command
    host, port, device, commands = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    pub = Publisher(MqttConfig(host=host, port=port, device_id=device, cmd_vel=True))
    pub.start()
    pub.wait_connected(10)
    while not pub.confirmed():
        time.sleep(0.02)
    for command in commands:  # then hold the last one, re-sent every 0.5 s like the daemon
        pub.command(Command(command, "g", 0.9, time.time()))
        time.sleep(0.3)
    print("holding", flush=True)
    while True:
        pub.command(Command(commands[-1], "g", 0.9, time.time(), "repeat"))
        time.sleep(0.5)
    """
)


def kill_to_stop(
    broker, device: str, commands: list[str], moving, stopped, how: int = signal.SIGKILL
) -> float:
    """Start a holder process, wait until the vehicle moves, signal it: seconds to stop."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, broker.host, str(broker.port), device, *commands],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        assert until(moving), "the vehicle never moved"
        time.sleep(1.2)  # a few repeats: the vehicle is being held, not just started
        assert moving()
        holder.send_signal(how)
        killed = time.monotonic()
        if how == signal.SIGKILL:
            holder.wait(5)
        assert until(stopped, 3.0), "the vehicle did not stop"
        return time.monotonic() - killed
    finally:
        if holder.poll() is None:
            holder.kill()


@pytest.fixture
def device() -> str:
    return f"kill-{uuid.uuid4().hex[:8]}"


def test_kill_9_of_the_daemon_stops_the_sim_car_within_its_timeout(broker, device):
    with SimCar(broker.host, broker.port, device, timeout=1.0) as car:
        took = kill_to_stop(
            broker,
            device,
            ["forward"],
            lambda: car.current == "forward",
            lambda: car.current == "stop",
        )
    print(f"sim: kill -9 -> stop in {took:.3f} s ({car.reason})")
    assert took <= 1.0 + 0.2


def test_kill_9_of_the_daemon_stops_every_gpio_pin_within_its_timeout(broker, device):
    pins = MockFactory(pin_class=MockPWMPin)
    levels = lambda: [pins.pin(n).state for n in (17, 18, 22, 23)]  # noqa: E731
    with GpioCar(broker.host, broker.port, device, timeout=1.0, pin_factory=pins) as car:
        took = kill_to_stop(
            broker, device, ["forward"], lambda: levels()[0] > 0, lambda: levels() == [0, 0, 0, 0]
        )
    print(f"car (gpiozero mock pins): kill -9 -> all pins 0 in {took:.3f} s ({car.reason})")
    assert took <= 1.0 + 0.2


def test_kill_9_of_the_daemon_lands_the_tello_within_its_timeout(broker, device):
    with FakeTello(loopback_host()) as tello:
        link = connect_tello(tello.host, tello.port)
        with Drone(broker.host, broker.port, device, timeout=0.8, drone=link, arm_time=0) as d:
            took = kill_to_stop(
                broker,
                device,
                ["takeoff", "up"],
                lambda: tello.rc == (0, 0, 30, 0),
                lambda: not tello.flying,
            )
    print(f"drone (djitellopy -> fake Tello): kill -9 -> land in {took:.3f} s ({d.reason})")
    assert took <= 0.8 + 0.3  # + djitellopy's rc spacing and the land round trip
    assert tello.sequence()[-2:] == ["rc 0 0 0 0", "land"]


def test_kill_9_of_the_daemon_stops_a_ros2_robot_within_its_cmd_vel_timeout(broker, device):
    # mqtt_client forwards Twists only; diff_drive_controller stops cmd_vel_timeout after the last
    watch = bench.CmdVelWatch(broker, device)
    try:
        took = kill_to_stop(broker, device, ["forward"], watch.moving, watch.stopped)
    finally:
        watch.close()
    print(f"cmd_vel: kill -9 -> no Twist for {bench.CMD_VEL_TIMEOUT} s after {took:.3f} s")
    assert took <= bench.CMD_VEL_TIMEOUT + 0.1


def test_kill_9_of_the_real_daemon_replaying_real_frames_stops_the_gpio_car(
    broker, device, datasets, tmp_path
):
    write_frame_sequence(datasets, tmp_path / "frames", [("up", 40)], seed=1)
    cfg = bench.daemon_config(tmp_path, broker, device, "car")
    exe = str(Path(sys.executable).with_name("gesture-edge"))
    with bench.vehicle("car", broker, device) as probe:
        took = bench.kill_to_stop([exe, "run", "--config", str(cfg)], probe)
    print(f"gesture-edge run: kill -9 -> all pins 0 in {took:.3f} s")
    assert took <= 1.0 + 0.2


def test_a_frozen_daemon_whose_socket_stays_open_stops_the_car_on_its_timeout(broker, device):
    # SIGSTOP: no more commands and no Last Will (the broker still sees a live socket)
    pins = MockFactory(pin_class=MockPWMPin)
    levels = lambda: [pins.pin(n).state for n in (17, 18, 22, 23)]  # noqa: E731
    with GpioCar(broker.host, broker.port, device, timeout=1.0, pin_factory=pins) as car:
        took = kill_to_stop(
            broker,
            device,
            ["left"],
            lambda: levels()[1] > 0,
            lambda: levels() == [0, 0, 0, 0],
            how=signal.SIGSTOP,
        )
    print(f"car, daemon frozen (SIGSTOP): all pins 0 in {took:.3f} s ({car.reason})")
    assert 0.5 - 0.1 <= took <= 1.0 + 0.2 and car.reason.startswith("no command for")


def test_the_kill_to_stop_table_in_the_docs_is_rendered_from_the_committed_json(repo_root):
    from convert.figures import BLOCK

    result = json.loads((repo_root / "bench/kill-to-stop.json").read_text())
    text = (repo_root / "docs" / "integrations.md").read_text()
    blocks = {m["name"]: m["body"] for m in BLOCK.finditer(text)}
    assert blocks["kill-to-stop"] == "\n".join(bench.readme_table(result)) + "\n"
    assert set(result["adapters"]) == {"sim", "car", "drone", "cmd_vel"}
