"""`make kill-to-stop`: kill -9 the real daemon while it holds a command; seconds until each
vehicle side stops (sim car, GPIO car on gpiozero's mock pins, Tello through djitellopy, ROS 2
cmd_vel) -> bench/kill-to-stop.json.

The daemon is `gesture-edge run` on a local mosquitto, replaying real subhih-hands frames of a
held gesture (`up`; the drone's first `peace` takes off) through the shipped tracker and model.
The vehicles stop on the Last Will (`status=offline`), which mosquitto sends as soon as the
kernel closes the killed process's socket; their own timeout is the bound. ROS has no process
here: cmd_vel is the time until `diff_drive_controller` would stop, i.e. the last Twist that
reached the broker's subscriber plus its `cmd_vel_timeout` (0.5 s), measured on real messages.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devtools.localbroker import LocalBroker
from devtools.scripted_frames import write_frame_sequence
from devtools.waiting import until

log = logging.getLogger(__name__)

CMD_VEL_TIMEOUT = 0.5  # s, diff_drive_controller's default
STEP = 0.005  # polling period while timing kill -> stop
REPEAT = 0.2  # the daemon's [safety] repeat_interval: below cmd_vel_timeout, as README says
Probe = tuple[Callable[[], bool], Callable[[], bool]]  # (moving, stopped)


def daemon_config(folder: Path, broker: LocalBroker, device: str, profile: str) -> Path:
    """A daemon config replaying `folder` (looped) with cmd_vel on."""
    path = folder / f"{device}.toml"
    path.write_text(
        f'[camera]\nbackend = "replay"\npath = "{folder / "frames"}"\nfps = 10\nloop = true\n'
        f'[locate]\nmethod = "tracker"\n[commands]\nprofile = "{profile}"\n'
        f"[safety]\nrepeat_interval = {REPEAT}\n[stats]\ninterval = 60\n"
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\ndevice_id = "{device}"\n'
        "cmd_vel = true\n"
    )
    return path


def kill_to_stop(args: list[str], probe: Probe, hold: float = 1.2, start: float = 60.0) -> float:
    """Start `args` (a daemon), wait until the vehicle moves and has been held `hold` s,
    kill -9 it: seconds from the kill until `stopped()`."""
    moving, stopped = probe
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not until(moving, start, STEP):
            raise RuntimeError("the vehicle never moved")
        time.sleep(hold)  # a few repeats: held, not just started
        if not moving():
            raise RuntimeError("the vehicle stopped before the kill")
        proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        proc.wait(5)
        if not until(stopped, 5.0, STEP):
            raise RuntimeError("the vehicle did not stop")
        return time.monotonic() - killed
    finally:
        if proc.poll() is None:
            proc.kill()


class CmdVelWatch:
    """A ROS 2 robot behind mqtt_client, as far as it can be without ROS: the arrival time of
    each Twist; stopped once a zero Twist arrived or none for CMD_VEL_TIMEOUT."""

    def __init__(self, broker: LocalBroker, device: str) -> None:
        self.last: float | None = None
        self.zero = False
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        topic = f"gesturepilot/{device}/cmd_vel"
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic)
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        twist = json.loads(msg.payload)
        self.zero = not any(v for part in twist.values() for v in part.values())
        self.last = time.monotonic()

    def moving(self) -> bool:
        return self.last is not None and not self.zero and not self.stopped()

    def stopped(self) -> bool:
        return self.zero or (
            self.last is not None and time.monotonic() - self.last > CMD_VEL_TIMEOUT
        )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def vehicle(name: str, broker: LocalBroker, device: str) -> Iterator[Probe]:
    """The vehicle side `name` following `device`, as (moving, stopped)."""
    if name == "cmd_vel":
        watch = CmdVelWatch(broker, device)
        try:
            yield watch.moving, watch.stopped
        finally:
            watch.close()
        return
    with _subscriber(name, broker, device) as probe:
        yield probe


@contextmanager
def _subscriber(name: str, broker: LocalBroker, device: str) -> Iterator[Probe]:
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from devtools.fake_tello import FakeTello, loopback_host
    from subscribers.drone import Drone, connect_tello
    from subscribers.gpio_car import GpioCar
    from subscribers.sim_car import SimCar

    where = (broker.host, broker.port, device)
    if name == "sim":
        with SimCar(*where, timeout=1.0) as car:
            yield (lambda: car.current == "forward"), (lambda: car.current == "stop")
    elif name == "car":
        pins = MockFactory(pin_class=MockPWMPin)
        levels = lambda: [pins.pin(n).state for n in (17, 18, 22, 23)]  # noqa: E731
        with GpioCar(*where, timeout=1.0, pin_factory=pins):
            yield (lambda: levels()[0] > 0), (lambda: levels() == [0, 0, 0, 0])
    else:
        with FakeTello(loopback_host()) as tello:
            link = connect_tello(tello.host, tello.port)
            with Drone(*where, timeout=0.8, drone=link, arm_time=0):
                yield (lambda: tello.rc == (0, 0, 30, 0)), (lambda: not tello.flying)


ADAPTERS = {"sim": "car", "car": "car", "drone": "drone", "cmd_vel": "car"}  # -> daemon profile


def measure(datasets: Path, repeats: int) -> dict[str, Any]:
    """Every adapter `repeats` times against one local broker; seconds per kill."""
    exe = str(Path(sys.executable).with_name("gesture-edge"))
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, LocalBroker() as broker:
        folders = {}
        for profile, script in (("car", [("up", 40)]), ("drone", [("peace", 12), ("up", 300)])):
            folders[profile] = Path(tmp) / profile
            write_frame_sequence(datasets, folders[profile] / "frames", script, seed=1)
        for name, profile in ADAPTERS.items():
            times = []
            for _ in range(repeats):
                device = f"kill-{uuid.uuid4().hex[:8]}"
                cfg = daemon_config(folders[profile], broker, device, profile)
                ctx: AbstractContextManager[Probe] = vehicle(name, broker, device)
                with ctx as probe:
                    times.append(kill_to_stop([exe, "run", "--config", str(cfg)], probe))
            out[name] = summary(times)
            log.info("%s: kill -9 -> stop %s", name, out[name])
    return out


def summary(times: list[float]) -> dict[str, Any]:
    ms = [round(t * 1000, 1) for t in times]
    return {"runs_ms": ms, "median_ms": round(statistics.median(ms), 1), "max_ms": max(ms)}


STOPS_ON = {
    "sim": ("sim car", "the Last Will (`status` offline); its own timeout 1.0 s otherwise"),
    "car": ("GPIO car (gpiozero mock pins, all 0)", "the Last Will; its own timeout 1.0 s"),
    "drone": ("Tello (djitellopy -> fake Tello, `land`)", "the Last Will; its own timeout 0.8 s"),
    "cmd_vel": ("ROS 2 robot (cmd_vel via mqtt_client)", "no Twist for `cmd_vel_timeout` 0.5 s"),
}


def readme_table(result: dict[str, Any]) -> list[str]:
    """The README's kill-to-stop table, from bench/kill-to-stop.json."""
    runs = {len(a["runs_ms"]) for a in result["adapters"].values()}
    rows = [
        "| vehicle side | stops on | median | worst of " + "/".join(map(str, sorted(runs))) + " |",
        "|---|---|---|---|",
    ]
    for name, a in result["adapters"].items():
        what, why = STOPS_ON[name]
        rows.append(f"| {what} | {why} | {a['median_ms']:.0f} ms | {a['max_ms']:.0f} ms |")
    return rows


def write_readme(readme: Path, result: dict[str, Any]) -> None:
    """Render the `<!-- figures:kill-to-stop -->` block of `readme` from `result`."""
    from convert.figures import render

    readme.write_text(render(readme.read_text(), {"kill-to-stop": lambda: readme_table(result)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("bench/kill-to-stop.json"))
    parser.add_argument("--readme", type=Path, help="render its table from --out, measure nothing")
    args = parser.parse_args(argv)
    if args.readme:
        write_readme(args.readme, json.loads(args.out.read_text()))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result = {
        "what": "kill -9 of `gesture-edge run` holding a gesture -> the vehicle side stopped",
        "command": "make kill-to-stop",
        "vehicle_timeouts_s": {"sim": 1.0, "car": 1.0, "drone": 0.8, "cmd_vel": CMD_VEL_TIMEOUT},
        "daemon_repeat_interval_s": REPEAT,
        "host": os.uname().machine,
        "adapters": measure(args.datasets, args.repeats),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    write_readme(Path("README.md"), result)
    print(json.dumps(result["adapters"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
