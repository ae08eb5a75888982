"""The safety chain under a broker that hangs, dies and comes back (own mosquitto per test)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fixtures.broker import Recorder
from paho.mqtt.enums import CallbackAPIVersion

from devtools.waiting import until
from edge.config import MqttConfig
from edge.link.publisher import Publisher
from edge.types import Command
from subscribers.sim_car import SimCar

MAX_AGE = 0.5  # SafeSubscriber's default


class TimedCar(SimCar):
    """A simulated car that notes how old each daemon command was when it executed it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.executed: list[tuple[str, float]] = []  # (command, age in s at execution)

    def act(self, command: str, message: dict[str, Any]) -> None:
        if "seq" in message:
            self.executed.append((command, time.time() - message["ts"]))
        super().act(command, message)


def publisher(broker, device: str, **cfg: Any) -> Publisher:
    pub = Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device, **cfg))
    pub.start()
    assert pub.wait_connected(5)
    return pub


def cmd(name: str) -> Command:
    return Command(command=name, gesture="up", confidence=0.9, ts=time.time())


@pytest.fixture
def device() -> str:
    return f"fault-{uuid.uuid4().hex[:8]}"


class Driver:
    """The daemon's loop in miniature: a changing command every 0.1 s on its own thread."""

    def __init__(self, pub: Publisher) -> None:
        self.pub = pub
        self.unconfirmed_at: float | None = None  # monotonic
        self.disconnected_at: float | None = None
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        names = ["forward", "left", "stop", "right"]
        i = 0
        while not self._halt.wait(0.1):
            self.pub.command(cmd(names[i % 4]))
            i += 1
            now = time.monotonic()
            if self.unconfirmed_at is None and not self.pub.confirmed():
                self.unconfirmed_at = now
            if self.disconnected_at is None and not self.pub.connected:
                self.disconnected_at = now

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(2)


def test_a_hung_broker_never_makes_the_car_execute_a_stale_command(own_broker, device, caplog):
    caplog.set_level("INFO")
    keepalive = 2
    pub = publisher(own_broker, device, keepalive=keepalive)
    car = TimedCar(own_broker.host, own_broker.port, device, timeout=1.0)  # default max_age
    car.start()
    driver = Driver(pub)
    try:
        assert until(lambda: len(car.executed) >= 5, 5)
        paused = time.monotonic()
        own_broker.pause()  # SIGSTOP: sockets open, nothing read or answered
        time.sleep(5.0)
        own_broker.resume()
        resumed = time.monotonic()
        before = len(car.executed)
        assert until(lambda: len(car.executed) > before + 3, 8), "car obeys again after the hang"
        back = time.monotonic() - resumed
    finally:
        driver.stop()
        car.close()
        pub.close()
    stale = [(c, round(age, 2)) for c, age in car.executed if age > MAX_AGE]
    assert stale == [], f"stale commands executed: {stale}"
    assert driver.unconfirmed_at is not None and driver.unconfirmed_at - paused <= 2.5
    assert driver.disconnected_at is not None
    # paho drops it within 2 x keepalive, checked as often as packets go out (a probe: 0.5 s)
    assert driver.disconnected_at - paused <= 2 * keepalive + 1.0
    assert pub.dropped_unconfirmed >= 10 and pub.link.losses >= 1
    assert "MQTT link unconfirmed" in caplog.text
    print(
        f"hang: unconfirmed after {driver.unconfirmed_at - paused:.2f} s, link lost after "
        f"{driver.disconnected_at - paused:.2f} s, car obeys {back:.2f} s after resume, "
        f"{pub.dropped_unconfirmed} commands dropped, stale rejected "
        f"{car.rejections['stale command dropped']}"
    )


def test_a_burst_released_by_a_hung_broker_is_dropped_by_the_car(own_broker, device):
    # A publisher that keeps writing into the hung broker's socket (the daemon before link
    # probes, or any other): on resume mosquitto delivers seconds of commands in one burst.
    writer = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    writer.connect(own_broker.host, own_broker.port, keepalive=30)
    writer.loop_start()
    car = TimedCar(own_broker.host, own_broker.port, device, timeout=1.0)  # default max_age
    car.start()
    names = ["forward", "left", "stop", "right"]
    seq = 1_000

    def send(n: int) -> None:
        nonlocal seq
        for _ in range(n):
            seq += 1
            payload = {"command": names[seq % 4], "seq": seq, "ts": time.time(), "gesture": "x"}
            writer.publish(f"gesturepilot/{device}/command", json.dumps(payload), qos=0)
            time.sleep(0.1)

    try:
        send(10)
        assert car.executed
        own_broker.pause()
        send(30)  # 3 s of commands into the hung broker
        own_broker.resume()
        assert until(lambda: car.rejections["stale command dropped"] >= 20, 5)
        before = len(car.executed)
        send(5)
        assert until(lambda: len(car.executed) > before, 2), "fresh commands obeyed again"
    finally:
        writer.disconnect()
        writer.loop_stop()
        car.close()
    stale = [(c, round(age, 2)) for c, age in car.executed if age > MAX_AGE]
    assert stale == [], f"stale commands executed: {stale}"


OUTAGES = (0.5, 1.0, 1.5, 2.5, 3.5)  # s; with the old 1-2-4-8 s backoff the last cost 3.5 s


def test_broker_kill_and_restart_five_times_reconnects_within_2_s_of_its_return(own_broker, device):
    pub = publisher(own_broker, device)
    car = TimedCar(own_broker.host, own_broker.port, device, timeout=1.0).start()
    delays = []
    try:
        for outage in OUTAGES:
            own_broker.kill()
            assert until(lambda: not pub.connected, 2)
            time.sleep(outage)
            own_broker.start()
            back = time.monotonic()
            assert pub.wait_connected(5)
            delays.append(time.monotonic() - back)
            assert until(lambda: car._client.is_connected(), 5)
            time.sleep(0.3)  # the car re-subscribes
            want = "left" if car.current != "left" else "right"
            assert until(lambda w=want: pub.command(cmd(w)) and car.current == w, 3)
    finally:
        car.close()
        pub.close()
    print(f"reconnect delays after the broker's return: {[round(d, 2) for d in delays]} s")
    assert max(delays) <= 2.5 and pub.reconnects == len(OUTAGES)


def test_gesture_and_stats_expire_and_are_never_resent_after_a_reconnect(own_broker, device):
    pub = publisher(own_broker, device)
    rec = Recorder(own_broker, f"gesturepilot/{device}/#")
    try:
        assert pub.gesture("up", 0.9, time.time()) and pub.stats({"fps": 1.0})
        gesture = rec.wait_for(lambda m: m.topic.endswith("/gesture"), 3)
        stats = rec.wait_for(lambda m: m.topic.endswith("/stats"), 3)
        assert (gesture.expiry, stats.expiry) == (5, 5) and (gesture.qos, stats.qos) == (0, 0)
        own_broker.pause()
        old_ts = time.time()
        pub.gesture("left", 0.9, old_ts)  # written into the hung socket, or dropped
        own_broker.kill()  # the broker dies with it unread
        own_broker.start()
        assert pub.wait_connected(5)
        time.sleep(1.5)
        late = [m for m in rec.on("gesture") if m.json()["ts"] == old_ts]
        assert late == [], "a gesture from before the outage was delivered after it"
    finally:
        rec.close()
        pub.close()


def test_a_retained_command_never_drives_a_car_that_starts_later(own_broker, device):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(own_broker.host, own_broker.port)
    client.loop_start()
    payload = {"command": "forward", "seq": 7, "ts": time.time(), "gesture": "up"}
    topic = f"gesturepilot/{device}/command"
    client.publish(topic, json.dumps(payload), qos=1, retain=True).wait_for_publish(2)
    with TimedCar(own_broker.host, own_broker.port, device, timeout=5.0) as car:
        assert until(lambda: car.rejected >= 1, 3)
        payload.update(seq=8, ts=time.time())  # retained while the car listens: still ignored
        client.publish(topic, json.dumps(payload), qos=1, retain=True).wait_for_publish(2)
        assert until(lambda: car.rejected >= 2, 3)
        assert car.current == "stop" and car.rejections["retained command ignored"] == 2
    client.disconnect()
    client.loop_stop()


def test_a_replayed_command_and_a_100000_deep_payload_leave_the_car_obeying(own_broker, device):
    pub = publisher(own_broker, device)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(own_broker.host, own_broker.port)
    client.loop_start()
    seen: list[bytes] = []
    client.on_message = lambda c, u, m: seen.append(m.payload)
    client.subscribe(f"gesturepilot/{device}/command")
    with TimedCar(own_broker.host, own_broker.port, device, timeout=5.0) as car:
        time.sleep(0.2)
        assert until(lambda: pub.command(cmd("forward")) and car.current == "forward", 3)
        time.sleep(0.3)  # every forward sent is in
        car.stop("test")
        topic = f"gesturepilot/{device}/command"
        client.publish(topic, seen[-1], qos=1).wait_for_publish(2)  # replayed as captured
        client.publish(topic, b"[" * 100_000, qos=1).wait_for_publish(2)
        assert until(lambda: car.rejected >= 2, 3)
        assert car.current == "stop" and car.errors == 0
        assert until(lambda: pub.command(cmd("left")) and car.current == "left", 3)
    client.disconnect()
    client.loop_stop()
    pub.close()
