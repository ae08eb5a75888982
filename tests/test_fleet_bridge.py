"""The docs' mosquitto bridge, run: telemetry reaches the central broker, commands stay home."""

from __future__ import annotations

import re
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.broker import Recorder

from devtools.localbroker import LocalBroker
from edge.config import parse_config
from edge.service import app
from subscribers.base import STOP, SafeSubscriber

HELD = (("up", 12), ("none", 8))  # looped: commands every repeat, a gesture change per cycle


def readme_bridge(repo_root: Path) -> str:
    """The bridge block of docs/integrations.md (README links it), as a user would copy it."""
    text = (repo_root / "docs" / "integrations.md").read_text()
    block = re.search(r"```\n( *connection site-a\n.*?)```", text, re.S)
    assert block, "docs/integrations.md has no mosquitto bridge block"
    return textwrap.dedent(block.group(1)).replace("\n  ", "\n").strip() + "\n"


class Obeying(SafeSubscriber):
    """A site vehicle that records what it executes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.done: list[tuple[float, str]] = []

    def act(self, command: str, message: dict[str, Any]) -> None:
        self.done.append((time.monotonic(), command))


@pytest.fixture
def site_and_central(repo_root: Path) -> Iterator[tuple[LocalBroker, LocalBroker]]:
    """Two mosquittos on loopback; the site one bridged to the central one by the docs' text."""
    # Like the session broker: QoS 0 is queued for offline sessions, so Message Expiry (not the
    # QoS) is what keeps old telemetry from a subscriber that comes back.
    central = LocalBroker(extra_conf="queue_qos0_messages true\n").start()
    # The docs' lines, pointed at the central test broker instead of central.example:8883
    # (TLS there is the deployment's; the topics and protocol lines are the ones under test).
    bridge = readme_bridge(repo_root).replace(
        "central.example:8883", f"{central.host}:{central.port}"
    )
    site = LocalBroker(extra_conf=bridge + "restart_timeout 1 2\n").start()
    yield site, central
    site.close()
    central.close()


def test_the_readme_bridge_carries_telemetry_out_and_keeps_commands_on_the_site(
    site_and_central, image_model, frames_factory
):
    site, central = site_and_central
    device = f"bridge-{uuid.uuid4().hex[:8]}"
    frames = frames_factory("bridge", HELD)
    cfg = parse_config(
        {
            "camera": {"backend": "replay", "path": str(frames), "fps": 20, "loop": True},
            "model": {"path": str(image_model)},
            "safety": {"hold_timeout": 0.5, "stall_timeout": 2.0, "repeat_interval": 0.2},
            "mqtt": {"host": site.host, "port": site.port, "device_id": device},
            "stats": {"interval": 0.5},
        }
    )
    far = Recorder(central, "gesturepilot/#")
    near = Recorder(site, f"gesturepilot/{device}/command")
    vehicle = Obeying(site.host, site.port, device, timeout=1.0).start()
    stop = threading.Event()
    daemon = threading.Thread(target=app.run, args=(cfg, stop), daemon=True)
    daemon.start()
    try:
        far.wait_for(lambda m: m.topic == f"gesturepilot/{device}/status", timeout=15)
        stats = far.wait_for(lambda m: m.topic.endswith(f"{device}/stats"), timeout=15)
        gesture = far.wait_for(lambda m: m.topic.endswith(f"{device}/gesture"), timeout=15)
        # Message Expiry survives the hop (mqttv50 bridge): the property arrives, counted down.
        assert stats.expiry is not None and 0 < stats.expiry <= 60
        assert gesture.expiry is not None and gesture.expiry > 0
        status = far.on("status")[0]
        assert status.payload == "online"
        near.wait_for(lambda m: m.json()["command"] == "forward", timeout=15)
        assert any(c == "forward" for _, c in vehicle.done)

        # The bridge goes down: the central broker dies. Nothing changes on the site.
        far.close()
        central.kill()
        cut = time.monotonic()
        time.sleep(3.0)
        during = [m for m in near.messages if m.at > cut]
        assert sum(m.json()["command"] == "forward" for m in during) >= 5
        assert vehicle.reason != "offline" and vehicle.accepted > 0
        moved = [t for t, c in vehicle.done if t > cut and c == "forward"]
        assert moved or vehicle.current == "forward", "the vehicle kept obeying its daemon"

        # And up again: telemetry flows to the central broker again, still no command there.
        central.start()
        far = Recorder(central, "gesturepilot/#")
        back = far.wait_for(lambda m: m.topic.endswith(f"{device}/stats"), timeout=20)
        assert back.expiry is not None and back.expiry > 0
        time.sleep(1.0)
        assert not [m for m in far.messages if m.topic.endswith("/command")]
    finally:
        stop.set()
        daemon.join(5)
        vehicle.close()
        near.close()
        far.close()
    assert not daemon.is_alive()
    assert vehicle.current == STOP
    # Commands never crossed: the central side saw every other topic but not one command.
    assert {m.topic.rsplit("/", 1)[1] for m in far.messages} <= {"status", "stats", "gesture"}


def test_an_expired_message_is_not_delivered_across_the_bridge(site_and_central):
    """Expiry is kept, not reset, by the hop: a stats message older than its expiry is dropped
    at the central broker for a subscriber whose session queued it."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    site, central = site_and_central
    device = f"expire-{uuid.uuid4().hex[:8]}"
    topic = f"gesturepilot/{device}/stats"
    # A persistent session on the central broker that is offline while the messages arrive.
    sub_id = f"central-{device}"
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 300
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=sub_id, protocol=mqtt.MQTTv5)
    got: list[tuple[str, int | None]] = []
    ready = threading.Event()
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
    sub.on_subscribe = lambda *a: ready.set()
    sub.on_message = lambda c, u, m: got.append(
        (m.payload.decode(), getattr(m.properties, "MessageExpiryInterval", None))
    )
    sub.connect(central.host, central.port, clean_start=False, properties=props)
    sub.loop_start()
    assert ready.wait(5)
    sub.disconnect()
    sub.loop_stop()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect(site.host, site.port)
    pub.loop_start()
    time.sleep(1.5)  # the bridge subscription is up (it reconnects within restart_timeout)
    for payload, expiry in (("short", 1), ("long", 60)):
        p = Properties(PacketTypes.PUBLISH)
        p.MessageExpiryInterval = expiry
        pub.publish(topic, payload, qos=1, properties=p).wait_for_publish(5)
    time.sleep(2.5)  # `short` expires while it waits in the offline session's queue
    pub.disconnect()
    pub.loop_stop()
    ready.clear()
    sub.connect(central.host, central.port, clean_start=False, properties=props)
    sub.loop_start()
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    sub.disconnect()
    sub.loop_stop()
    assert [p for p, _ in got] == ["long"]
    assert got[0][1] is not None and got[0][1] <= 58  # counted down across the hop
