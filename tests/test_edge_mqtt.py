"""The Publisher: nothing is queued while disconnected, a refused connection is not a connection."""

from __future__ import annotations

import socket
import time
import uuid

from fixtures.broker import Recorder

from devtools.localbroker import LocalBroker, free_port
from edge.config import MqttConfig
from edge.link.publisher import Publisher
from edge.types import Command
from subscribers.sim_car import SimCar


def cmd(name: str) -> Command:
    return Command(command=name, gesture="up", confidence=0.9, ts=time.time())


def test_publishes_while_disconnected_are_dropped_and_counted_never_queued(recorder_factory):
    port = free_port()
    device = f"mq-{uuid.uuid4().hex[:8]}"
    pub = Publisher(MqttConfig(host="127.0.0.1", port=port, device_id=device))
    pub.start()
    try:
        assert not pub.wait_connected(0.3)
        assert pub.command(cmd("forward")) is False
        assert pub.gesture("up", 0.9, time.time()) is False
        assert pub.dropped == 2
        seq_before = pub.seq
        with LocalBroker(port=port) as broker:
            rec = Recorder(broker, f"gesturepilot/{device}/#")
            assert pub.wait_connected(10), "the publisher reconnects by itself"
            rec.wait_for(lambda m: m.topic.endswith("/status") and m.payload == "online")
            assert pub.command(cmd("left")) is True
            got = rec.wait_for(lambda m: m.topic.endswith("/command"))
            time.sleep(0.3)
            commands = [m.json() for m in rec.on("command")]
            assert [c["command"] for c in commands] == ["left"]  # "forward" was never queued
            assert commands[0]["seq"] == seq_before + 1 and got.expiry == 1
            pub.stats({"fps": 1.0})
            stats = rec.wait_for(lambda m: m.topic.endswith("/stats")).json()
            assert stats["publishes_dropped"] == 2
            pub.close()
            rec.wait_for(lambda m: m.topic.endswith("/status") and m.payload == "offline")
            rec.close()
    finally:
        pub.close()


def test_a_refused_connection_is_not_marked_connected_and_the_password_is_not_logged(caplog):
    caplog.set_level("DEBUG")
    with LocalBroker(anonymous=False) as broker:  # no password file: every login is refused
        cfg = MqttConfig(
            host=broker.host,
            port=broker.port,
            device_id="refused",
            username="car1",
            password="pw-very-secret",
        )
        pub = Publisher(cfg)
        pub.start()
        try:
            time.sleep(1.0)
            assert not pub.connected
            assert pub.command(cmd("forward")) is False and pub.dropped == 1
            assert "refused" in caplog.text.lower()
        finally:
            pub.close()
    assert "pw-very-secret" not in caplog.text
    assert "car1" in caplog.text  # the user name is fine to log


def test_tls_with_a_client_certificate(pki, caplog):
    conf = (
        f"cafile {pki / 'ca.crt'}\ncertfile {pki / 'server.crt'}\nkeyfile {pki / 'server.key'}\n"
        "require_certificate true\n"
    )
    with LocalBroker(extra_conf=conf) as broker:
        cfg = MqttConfig(
            host="127.0.0.1",
            port=broker.port,
            device_id="tls",
            tls_ca=str(pki / "ca.crt"),
            tls_cert=str(pki / "client.crt"),
            tls_key=str(pki / "client.key"),
        )
        pub = Publisher(cfg)
        pub.start()
        try:
            assert pub.wait_connected(10), caplog.text
            assert pub.command(cmd("forward"))
        finally:
            pub.close()
        # without the client certificate the broker refuses the TLS handshake
        pub = Publisher(MqttConfig(host="127.0.0.1", port=broker.port, tls_ca=str(pki / "ca.crt")))
        pub.start()
        try:
            assert not pub.wait_connected(1.5)
        finally:
            pub.close()


def test_the_daemon_and_subscriber_sockets_send_small_messages_at_once(broker):
    """No Nagle on either client (a command right after a gesture event once waited ~40 ms
    for an ACK, `make bench`); set again on every connect, TLS or not."""
    pub = Publisher(MqttConfig(host=broker.host, port=broker.port, device_id="nodelay"))
    with pub:
        sub = SimCar(broker.host, broker.port, "nodelay", timeout=1.0).start()
        try:
            assert pub.wait_connected(10)
            deadline = time.monotonic() + 10
            while sub._client.socket() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            for client in (pub._client, sub._client):
                sock = client.socket()
                assert sock is not None
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        finally:
            sub.close()
