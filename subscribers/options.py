"""The command line every example subscriber shares, and running one until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import os
import time
from contextlib import AbstractContextManager
from typing import Any

PASSWORD_ENV = "GESTUREPILOT_MQTT_PASSWORD"  # never on the command line (ps shows it)


def connection_args(description: str | None, timeout: float) -> argparse.ArgumentParser:
    """The command-line options every example subscriber shares (broker, device, timeout)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument(
        "--device",
        required=True,
        type=_device_id,
        help="the device_id of the one daemon to follow (no wildcards)",
    )
    parser.add_argument(
        "--timeout", type=float, default=timeout, help="stop after this long without a command"
    )
    parser.add_argument("--username", default="", help=f"broker login (password: ${PASSWORD_ENV})")
    parser.add_argument("--tls-ca", default="", help="CA certificate: connect with TLS")
    parser.add_argument("--tls-cert", default="", help="client certificate (with --tls-key)")
    parser.add_argument("--tls-key", default="")
    parser.add_argument(
        "--max-age",
        type=float,
        default=0.5,
        help="drop a command arriving this much later than the fastest delivery seen (s)",
    )
    parser.add_argument(
        "--max-skew",
        type=float,
        default=300.0,
        help="refuse a ts this far from this machine's clock (s; clocks need not agree closer)",
    )
    return parser


def valid_device_id(text: str) -> bool:
    """One daemon's device id: a single topic level, never a wildcard."""
    return bool(text) and not set(text) & set("+#/\0")


def _device_id(text: str) -> str:
    if not valid_device_id(text):
        raise argparse.ArgumentTypeError(f"{text!r}: name one daemon's device_id (no wildcards)")
    return text


def connection_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """SafeSubscriber keyword arguments from `connection_args` options (and the environment)."""
    return {
        "timeout": args.timeout,
        "max_age": args.max_age,
        "max_skew": args.max_skew,
        "username": args.username,
        "password": os.environ.get(PASSWORD_ENV, ""),
        "tls_ca": args.tls_ca,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
    }


def serve(subscriber: AbstractContextManager[Any]) -> int:
    """Run a subscriber until Ctrl-C; it stops the vehicle on the way out."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with subscriber:
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0
