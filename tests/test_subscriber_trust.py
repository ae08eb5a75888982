"""What a subscriber believes (DESIGN.md safety 7): freshness without synced clocks, seq, retained.

These call `SafeSubscriber.handle` directly with a clock the test steps, the same entry point
the MQTT thread calls; tests/test_faults_broker.py does the same through a real mosquitto.
"""

from __future__ import annotations

import json

import pytest

from edge.clock import SteppedClock
from subscribers.base import SafeSubscriber, connection_args
from subscribers.freshness import SETTLE
from subscribers.sim_car import SimCar

ROOT = "gesturepilot/car1"


class Daemon:
    """Writes the daemon's payloads with its own clock (`skew`: seconds its clock is ahead)."""

    def __init__(self, clock: SteppedClock, skew: float = 0.0, seq: int = 1_700_000_000_000):
        self.clock, self.skew, self.seq = clock, skew, seq

    def payload(self, command: str, age: float = 0.0, seq: int | None = None) -> bytes:
        """A command captured `age` seconds ago (by the daemon's clock)."""
        if seq is None:
            self.seq += 1
        return json.dumps(
            {
                "command": command,
                "gesture": "up",
                "confidence": 0.9,
                "seq": self.seq if seq is None else seq,
                "ts": self.clock.wall + self.skew - age,
                "reason": "gesture",
            }
        ).encode()


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def car(clock) -> SimCar:
    return SimCar("127.0.0.1", 1, "car1", clock=clock)  # never connected: handle() directly


def feed(car: SafeSubscriber, daemon: Daemon, command: str, seconds: float, every: float = 0.1):
    """The daemon holding `command`: one fresh message every `every` s for `seconds`."""
    for _ in range(round(seconds / every)):
        car.handle(f"{ROOT}/command", daemon.payload(command))
        daemon.clock.advance(every)


def executed(car: SimCar) -> list[str]:
    return [c for c, why in car.actions if why.startswith("daemon")]


@pytest.mark.parametrize("skew", [0.0, 40.0, -90.0], ids=["synced", "ahead-40s", "behind-90s"])
def test_a_burst_of_old_commands_after_a_hung_broker_never_moves_the_vehicle(clock, car, skew):
    daemon = Daemon(clock, skew)
    feed(car, daemon, "forward", 2.0)  # with unsynced clocks the offset settles in ~1 s
    assert car.current == "forward"
    car.stop("test: vehicle stopped before the hang")
    # the broker hangs 8 s, then releases every command written meanwhile within 15 ms
    burst = [daemon.payload(cmd, age=8.0 - i * 0.1) for i, cmd in enumerate(["left", "stop"] * 38)]
    for payload in burst:
        car.handle(f"{ROOT}/command", payload)
        clock.advance(0.0002)
    late = [json.loads(p)["command"] for p in burst if 8.0 - burst.index(p) * 0.1 <= 0.5]
    assert car.actions[-1][0] == "stop" and car.current in ("stop", *late)
    assert car.rejections["stale command dropped"] >= len(burst) - 6
    feed(car, daemon, "right", 0.3)  # fresh commands after the hang are obeyed at once
    assert car.current == "right"


def test_commands_older_than_max_age_are_dropped_at_start_up_with_synced_clocks(clock, car):
    car.handle(f"{ROOT}/command", Daemon(clock).payload("forward", age=5.0))
    assert car.current == "stop" and car.rejections["stale command dropped"] == 1


@pytest.mark.parametrize(
    "ts",
    ["NaN", "Infinity", "-Infinity", "0", "1e308", "1e400", "12345.6", "WALL+3600", "WALL-3600"],
)
def test_non_finite_1970_and_far_future_ts_are_rejected(clock, car, ts):
    value = repr(clock.wall + float(ts[4:])) if ts.startswith("WALL") else ts
    payload = f'{{"command": "forward", "seq": 5, "ts": {value}}}'.encode()
    for _ in range(30):  # not even a steady stream of them is adopted (max_skew, MIN_TS)
        car.handle(f"{ROOT}/command", payload.replace(b'"seq": 5', b'"seq": %d' % car.rejected))
        clock.advance(0.1)
    assert car.current == "stop" and car.accepted == 0 and car.rejected == 30


def test_retained_commands_are_ignored(clock, car):
    car.handle(f"{ROOT}/command", Daemon(clock).payload("forward"), retain=True)
    assert car.current == "stop" and car.rejections["retained command ignored"] == 1


def test_a_huge_seq_is_refused_and_a_forged_big_one_locks_nothing_out_for_long(clock, car):
    daemon = Daemon(clock)
    car.handle(f"{ROOT}/command", daemon.payload("left", seq=2**63 - 1))
    assert car.current == "stop" and car.rejections["malformed command ignored"] == 1
    car.handle(f"{ROOT}/command", daemon.payload("left", seq=2**52))  # plausible and fresh
    assert car.current == "left"
    start = clock.mono
    while car.current != "forward" and clock.mono - start < 5:
        feed(car, daemon, "forward", 0.5, every=0.5)  # the real daemon, lower seq
    assert car.current == "forward" and clock.mono - start <= SETTLE + 1.0


def test_a_forged_status_online_does_not_reset_the_sequence(clock, car):
    daemon = Daemon(clock)
    feed(car, daemon, "forward", 0.3)
    replay = daemon.payload("left", seq=daemon.seq - 2)  # an old message, replayed
    car.handle(f"{ROOT}/status", b"online")
    car.handle(f"{ROOT}/command", replay)
    assert car.current == "forward" and "command dropped" in car.rejections


def test_a_forged_status_offline_stops_but_the_next_fresh_command_drives_again(clock, car):
    daemon = Daemon(clock)
    feed(car, daemon, "forward", 0.2)
    car.handle(f"{ROOT}/status", b"offline")
    assert car.current == "stop" and car.reason == "daemon offline"
    feed(car, daemon, "forward", 0.1)
    assert car.current == "forward"


def test_a_daemon_clock_step_stops_the_vehicle_only_until_the_new_offset_settles(clock, car):
    daemon = Daemon(clock)
    feed(car, daemon, "forward", 1.0)
    daemon.skew = -60.0  # NTP sets the daemon's clock back a minute
    start = clock.mono
    while car.rejected == 0 or car.accepted <= 10:
        feed(car, daemon, "left", 0.1)
        assert clock.mono - start < SETTLE + 1.0
    assert car.current == "left"


@pytest.mark.parametrize("depth", [9, 1000, 100_000])
def test_deeply_nested_payloads_are_refused_before_json_parses_them(clock, car, depth):
    car.handle(f"{ROOT}/command", b"[" * depth + b"]" * depth)
    car.handle(f"{ROOT}/command", b'{"a":' * depth + b"1" + b"}" * depth)
    assert car.errors == 0 and car.rejections["malformed command ignored"] == 2
    feed(car, Daemon(clock), "forward", 0.1)
    assert car.current == "forward"


def test_oversized_payloads_are_refused_unparsed(clock, car):
    big = json.loads(Daemon(clock).payload("forward"))
    big["pad"] = "x" * 10_000
    car.handle(f"{ROOT}/command", json.dumps(big).encode())
    assert car.current == "stop" and car.rejections["malformed command ignored"] == 1


def test_an_exception_in_act_is_caught_logged_and_counted(clock, caplog):
    class Broken(SafeSubscriber):
        def act(self, command, message):
            raise RuntimeError("motor driver fell off")

    sub = Broken("127.0.0.1", 1, "car1", clock=clock)
    sub.handle(f"{ROOT}/command", Daemon(clock).payload("forward"))
    assert sub.errors == 1 and "motor driver fell off" in caplog.text


@pytest.mark.parametrize("device", ["+", "#", "cars/1", ""])
def test_a_device_id_is_required_and_never_a_wildcard(device):
    with pytest.raises(ValueError, match="no wildcards"):
        SimCar("127.0.0.1", 1, device)
    with pytest.raises(TypeError):
        SimCar("127.0.0.1", 1)  # type: ignore[call-arg]
    with pytest.raises(SystemExit):
        connection_args(None, timeout=1.0).parse_args(["--host", "h"])  # --device missing


@pytest.fixture
def fake_tello():
    from devtools.fake_tello import FakeTello, loopback_host

    with FakeTello(loopback_host()) as tello:
        yield tello


def reference_vehicles(clock: SteppedClock, tello) -> list[SafeSubscriber]:
    """The three reference vehicles on their real libraries: gpiozero's mock PWM pins, and
    djitellopy connected to a fake Tello on loopback."""
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from subscribers.drone import Drone, connect_tello
    from subscribers.gpio_car import GpioCar

    pins = MockFactory(pin_class=MockPWMPin)
    return [
        SimCar("127.0.0.1", 1, "car1", clock=clock),
        GpioCar("127.0.0.1", 1, "car1", clock=clock, pin_factory=pins),
        Drone("127.0.0.1", 1, "car1", clock=clock, drone=connect_tello(tello.host, tello.port)),
    ]


def test_no_reference_subscriber_executes_a_command_older_than_max_age(
    clock, monkeypatch, fake_tello
):
    for vehicle in reference_vehicles(clock, fake_tello):
        ages: list[float] = []
        real_act = vehicle.act

        def act(command, message, real_act=real_act, ages=ages):
            if "seq" in message:
                ages.append(clock.wall - message["ts"])
            real_act(command, message)

        monkeypatch.setattr(vehicle, "act", act)
        daemon = Daemon(clock)
        names = ["up", "left", "stop", "right"]
        for i in range(20):
            vehicle.handle(f"{ROOT}/command", daemon.payload(names[i % 4]))
            clock.advance(0.1)
        for i in range(80):  # a hung broker's burst: 8 s of commands in one go
            vehicle.handle(f"{ROOT}/command", daemon.payload(names[i % 4], age=8.0 - i * 0.1))
        assert ages and max(ages) <= vehicle.max_age, (type(vehicle).__name__, max(ages))
        if hasattr(vehicle, "left"):
            vehicle.left.close()
            vehicle.right.close()
