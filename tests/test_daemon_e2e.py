"""The daemon as a real process: real frames in, real MQTT out, through a real mosquitto."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devtools.demo import dump_toml
from devtools.localbroker import free_port
from edge.config.paths import models_dir
from edge.config.rules import trained_with

GESTURE_EDGE = Path(sys.executable).with_name("gesture-edge")

# The odd single frames (`right` in a gap, `left` inside `up`) must change nothing.
SCRIPT = (
    ("none", 6),
    ("up", 7),
    ("left", 1),
    ("up", 7),
    ("none", 6),
    ("right", 1),
    ("none", 6),
    ("left", 14),
    ("none", 10),
    ("stop", 12),
    ("none", 10),
    ("down", 14),
    ("none", 10),
)
EXPECTED = ["forward", "stop", "left", "stop", "backward", "stop"]
# The same story in whole camera frames for the shipped pipeline (hand tracker + default model):
# gaps are frames with no hand or with a hand that makes no command (3 or 4 fingers).
FRAMES_SCRIPT = (
    ("nohand", 6),
    ("up", 7),
    ("left", 1),
    ("up", 7),
    ("none", 6),
    ("right", 1),
    ("nohand", 6),
    ("left", 14),
    ("none", 10),
    ("stop", 12),
    ("nohand", 10),
    ("down", 14),
    ("none", 10),
)


class Daemon:
    """`gesture-edge run` in a subprocess, its log in a file."""

    def __init__(self, tmp: Path, broker, frames: Path, **sections: dict) -> None:
        self.device = f"e2e-{uuid.uuid4().hex[:8]}"
        cfg = {
            "camera": {"backend": "replay", "path": str(frames), "fps": 20},
            "model": {"path": str(models_dir() / "gestures-image.tflite")},
            "safety": {"hold_timeout": 1.0, "stall_timeout": 2.0, "repeat_interval": 0.5},
            "mqtt": {"host": broker.host, "port": broker.port, "device_id": self.device},
            "stats": {"interval": 1.0},
        }
        for name, values in sections.items():
            cfg.setdefault(name, {}).update(values)
        self.config = tmp / f"{self.device}.toml"
        self.config.write_text(dump_toml(cfg))
        self.log_path = tmp / f"{self.device}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def root(self) -> str:
        return f"gesturepilot/{self.device}"

    def start(self, **env: str) -> Daemon:
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(
                [GESTURE_EDGE, "run", "--config", self.config],
                stderr=log,
                stdout=log,
                env={**os.environ, **env},
            )
        return self

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout)

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def scripted(frames_factory) -> Path:
    return frames_factory("e2e", SCRIPT)


@pytest.fixture(scope="module")
def up_frames(frames_factory) -> Path:
    return frames_factory("up", (("up", 12),), seed=1)


def shipped_pipeline(model: Path, mediapipe: Path) -> dict[str, dict]:
    """Config sections for the shipped pipeline: landmark model + hand tracker with the hand
    models the model's json says it was trained with (the config's defaults)."""
    names = trained_with(model)
    return {
        "model": {"path": str(model)},
        "locate": {
            "method": "tracker",
            "palm_model": str(mediapipe / names["palm_model"]),
            "landmark_model": str(mediapipe / names["landmark_model"]),
        },
    }


def collapse(values: list[str]) -> list[str]:
    return [k for k, _ in itertools.groupby(values)]


def test_replayed_gestures_become_the_expected_commands_in_order(
    tmp_path, broker, scripted, recorder_factory, daemons
):
    d = Daemon(tmp_path, broker, scripted)
    daemons.append(d)
    rec = recorder_factory(f"{d.root}/#")
    assert d.start().wait() == 0, d.log  # a finite replay ends the daemon cleanly
    commands = [m.json() for m in rec.on("command")]
    # the last command is the shutdown stop; everything before it is what the frames decided
    assert commands[-1]["command"] == "stop" and commands[-1]["reason"] == "shutdown"
    decided = commands[:-1]
    assert collapse([c["command"] for c in decided]) == EXPECTED, d.log
    assert "right" not in [c["command"] for c in decided]  # the single odd frames did nothing
    # every move ends with a stop on release, and held moves repeat
    moves = [c for c in decided if c["command"] != "stop"]
    assert any(c["reason"] == "repeat" for c in moves)
    for c, nxt in itertools.pairwise(decided):
        if c["command"] != "stop" and nxt["command"] != c["command"]:
            assert (nxt["command"], nxt["reason"]) == ("stop", "release")
    seqs = [c["seq"] for c in commands]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert all(m.expiry == 1 for m in rec.on("command"))
    assert all(a["ts"] <= b["ts"] for a, b in itertools.pairwise(commands))
    gestures = collapse([m.json()["gesture"] for m in rec.on("gesture")])
    assert [g for g in gestures if g != "none"] == ["up", "left", "stop", "down"]
    stats = [m.json() for m in rec.on("stats")]
    assert stats and stats[-1]["fps"] > 0 and "classify" in stats[-1]["latency_ms"]
    assert stats[-1]["runtime"] and stats[-1]["model"].endswith(".tflite")
    assert [m.payload for m in rec.on("status")] == ["online", "offline"]


def test_the_shipped_pipeline_turns_whole_replayed_frames_into_the_expected_commands(
    tmp_path,
    broker,
    whole_frames_factory,
    default_model,
    mediapipe_models,
    recorder_factory,
    daemons,
):
    frames = whole_frames_factory("e2e-frames", FRAMES_SCRIPT)
    d = Daemon(
        tmp_path,
        broker,
        frames,
        **shipped_pipeline(default_model, mediapipe_models),
    )
    daemons.append(d)
    rec = recorder_factory(f"{d.root}/#")
    assert d.start().wait() == 0, d.log
    commands = [m.json() for m in rec.on("command")]
    assert (commands[-1]["command"], commands[-1]["reason"]) == ("stop", "shutdown")
    decided = [c["command"] for c in commands[:-1]]
    assert collapse(decided) == EXPECTED, d.log
    assert "right" not in decided  # the single odd frames did nothing
    gestures = collapse([m.json()["gesture"] for m in rec.on("gesture")])
    assert [g for g in gestures if g != "none"] == ["up", "left", "stop", "down"]
    stats = rec.on("stats")[-1].json()
    assert stats["model"].endswith(default_model.name)
    assert stats["latency_ms"]["locate"]["p50"] > 0.5  # the tracker ran


def test_deadman_stops_a_held_gesture_once_when_confident_frames_end(
    tmp_path,
    broker,
    whole_frames_factory,
    default_model,
    mediapipe_models,
    recorder_factory,
    daemons,
):
    # The hand leaves the frame: with the hand tracker there is no hand, so no prediction at
    # all (a fixed box would still classify the background, and any model may misread some).
    script = (("nohand", 4), ("up", 12), ("nohand", 30))
    frames = whole_frames_factory("deadman", script, seed=2)
    # exit = 0 keeps the smoothed gesture held forever: only the deadman can stop it
    d = Daemon(
        tmp_path,
        broker,
        frames,
        **shipped_pipeline(default_model, mediapipe_models),
        smoothing={"exit": 0.0},
        safety={"hold_timeout": 0.5, "repeat_interval": 0.2},
    )
    daemons.append(d)
    rec = recorder_factory(f"{d.root}/command")
    assert d.start().wait() == 0, d.log
    commands = [(m.json()["command"], m.json()["reason"]) for m in rec.on("command")]
    assert commands[0] == ("forward", "gesture")
    assert commands[-2:] == [("stop", "deadman"), ("stop", "shutdown")]
    assert set(commands[1:-2]) <= {("forward", "repeat")}


def wait_for_status(rec, status: str, timeout: float = 15) -> None:
    rec.wait_for(lambda m: m.topic.endswith("/status") and m.payload == status, timeout)


def test_status_online_retained_preview_serves_and_sigterm_exits_offline_within_1s(
    tmp_path, broker, up_frames, recorder_factory, daemons
):
    port = free_port()
    d = Daemon(
        tmp_path, broker, up_frames, camera={"loop": True}, preview={"enabled": True, "port": port}
    )
    daemons.append(d)
    live = recorder_factory(f"{d.root}/#")
    sock_path = Path(tempfile.mkdtemp(prefix="gp-")) / "notify"  # AF_UNIX paths are short
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(sock_path))
    notify.settimeout(5)
    d.start(NOTIFY_SOCKET=str(sock_path))
    live.wait_for(lambda m: m.topic.endswith("/command") and m.json()["command"] == "forward")
    assert notify.recv(4096).startswith(b"READY=1")  # after the first processed frame
    assert notify.recv(4096).startswith(b"WATCHDOG=1")  # fed per frame
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/frame.jpg", timeout=5) as resp:
        assert resp.read(3) == b"\xff\xd8\xff"  # the preview observer sees the frames
    late = recorder_factory(f"{d.root}/status")
    retained = late.wait_for(lambda m: True, timeout=5)
    assert (retained.payload, retained.retain) == ("online", True)
    start = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    assert d.wait(5) == 0
    assert time.monotonic() - start < 1.0
    wait_for_status(live, "offline", timeout=2)
    notes = []
    notify.settimeout(0.5)
    with contextlib.suppress(TimeoutError):
        while True:
            notes.append(notify.recv(4096))
    notify.close()
    assert notes[-1].startswith(b"STOPPING=1")
    last = live.on("command")[-1].json()
    assert (last["command"], last["reason"]) == ("stop", "shutdown")
    after = recorder_factory(f"{d.root}/status")
    retained = after.wait_for(lambda m: True, timeout=5)
    assert (retained.payload, retained.retain) == ("offline", True)


def test_last_will_turns_status_offline_after_kill_9(
    tmp_path, broker, up_frames, recorder_factory, daemons
):
    d = Daemon(tmp_path, broker, up_frames, camera={"loop": True})
    daemons.append(d)
    live = recorder_factory(f"{d.root}/status")
    d.start()
    wait_for_status(live, "online")
    os.kill(d.proc.pid, signal.SIGKILL)
    d.proc.wait()
    wait_for_status(live, "offline", timeout=5)  # the broker publishes the Last Will
    assert "stop" not in [m.payload for m in live.messages]


def test_a_subscriber_that_reconnects_late_gets_no_stale_command(
    tmp_path, broker, up_frames, recorder_factory, daemons
):
    def session(clean: bool) -> tuple[mqtt.Client, list]:
        got: list = []
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="late-" + d.device, protocol=mqtt.MQTTv5
        )
        c.on_message = lambda cl, u, msg: got.append(msg)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 300  # keep the subscription (and its queue) while away
        c.connect(broker.host, broker.port, clean_start=clean, properties=props)
        c.loop_start()
        return c, got

    d = Daemon(tmp_path, broker, up_frames, camera={"loop": True})
    daemons.append(d)
    client, _ = session(clean=True)
    client.subscribe(f"{d.root}/command", qos=1)
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()  # away: the broker queues for this persistent session
    watch = recorder_factory(f"{d.root}/command")
    d.start()
    watch.wait_for(lambda m: m.json()["command"] == "forward")
    os.kill(d.proc.pid, signal.SIGKILL)  # no shutdown stop: the last command is a "forward"
    d.proc.wait()
    time.sleep(2.0)  # longer than command_expiry (1 s)
    client, got = session(clean=False)
    time.sleep(1.0)
    client.disconnect()
    client.loop_stop()
    assert watch.on("command"), "the daemon published commands while the subscriber was away"
    assert got == [], f"stale commands delivered: {[m.payload for m in got]}"


def test_queued_commands_do_reach_a_subscriber_that_reconnects_in_time(
    tmp_path, broker, up_frames, recorder_factory, daemons
):
    """The control for the test above: without expiry elapsing, the queue would deliver."""
    d = Daemon(tmp_path, broker, up_frames, camera={"loop": True}, mqtt={"command_expiry": 30})
    daemons.append(d)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 300
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="intime-" + d.device, protocol=mqtt.MQTTv5
    )
    got: list = []
    client.on_message = lambda cl, u, msg: got.append(msg)
    client.connect(broker.host, broker.port, clean_start=True, properties=props)
    client.loop_start()
    client.subscribe(f"{d.root}/command", qos=1)
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()
    watch = recorder_factory(f"{d.root}/command")
    d.start()
    watch.wait_for(lambda m: m.json()["command"] == "forward")
    os.kill(d.proc.pid, signal.SIGKILL)
    d.proc.wait()
    time.sleep(2.0)
    client.connect(broker.host, broker.port, clean_start=False, properties=props)
    client.loop_start()
    time.sleep(1.0)
    client.disconnect()
    client.loop_stop()
    assert [m.payload for m in got], (
        "the broker queued nothing; the expiry test would prove nothing"
    )


def test_daemon_runs_with_the_hand_tracker_on_full_frames(
    tmp_path, broker, datasets, mediapipe_models, recorder_factory, daemons
):
    frames = tmp_path / "full"
    frames.mkdir()
    for p in sorted((datasets / "subhih-hands" / "images").glob("2_pic*.jpg"))[:20]:
        (frames / p.name).write_bytes(p.read_bytes())
    d = Daemon(tmp_path, broker, frames, locate={"method": "tracker"}, stats={"interval": 0.5})
    daemons.append(d)
    rec = recorder_factory(f"{d.root}/stats")
    assert d.start().wait() == 0, d.log
    stats = rec.on("stats")[-1].json()
    assert stats["frames"] == 20 and stats["latency_ms"]["locate"]["p50"] > 0.5, stats
    assert "ERROR" not in d.log
