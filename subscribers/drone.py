"""A Tello driven by gestures through djitellopy: rc velocities, armed takeoff, failsafe landing."""

from __future__ import annotations

import argparse
import importlib
import logging
import time
from typing import Any

from subscribers.base import STOP, SafeSubscriber, connection_args, connection_kwargs, serve

log = logging.getLogger(__name__)

SPEED = 30  # percent of the rc range
KEEPALIVE = 5.0  # s: a Tello lands by itself after 15 s without a command; re-send the rc
FAILSAFES = ("land", "hover")
# daemon stops that mean the daemon itself is failing, not a released gesture
DAEMON_FAILSAFE_REASONS = ("stall", "shutdown")


def rc_table(speed: int) -> dict[str, tuple[int, int, int, int]]:
    """command -> (left_right, forward_backward, up_down, yaw); left is the person's left."""
    return {
        "up": (0, 0, speed, 0),
        "down": (0, 0, -speed, 0),
        "left": (-speed, 0, 0, 0),
        "right": (speed, 0, 0, 0),
        "forward": (0, speed, 0, 0),
        "backward": (0, -speed, 0, 0),
        STOP: (0, 0, 0, 0),  # hover
    }


RC = rc_table(SPEED)


def connect_tello(host: str = "192.168.10.1", port: int = 8889) -> Any:
    """A connected `djitellopy.Tello` (SDK mode entered; its state packets arriving).

    `port` is the drone's command port (8889 on a real Tello; another one for a fake Tello on
    this machine, whose own 8889 djitellopy binds).

    Raises:
        ImportError: djitellopy is not installed.
        djitellopy.TelloException: the drone did not answer `command` or sends no state.
    """
    djitellopy = importlib.import_module("djitellopy")  # only here: the rest runs anywhere
    tello_cls = djitellopy.Tello
    tello_cls.LOGGER.removeHandler(tello_cls.HANDLER)  # our handlers, not its own
    tello_cls.LOGGER.setLevel(logging.WARNING)
    tello = tello_cls(host=host, retry_count=1)
    tello.address = (host, port)
    tello.connect()
    return tello


class Drone(SafeSubscriber):
    """Flies a Tello (any object with djitellopy's `Tello` methods and `is_flying`).

    - `takeoff` only after the takeoff command has been held for `arm_time` seconds (the
      daemon repeats a held command; a release or a timeout in between disarms);
    - `land` lands; motion commands send rc velocities, only while flying; `stop` hovers;
    - every failsafe (the subscriber's timeout, `status` offline, the broker link lost, the
      daemon's own stall/shutdown stop) lands, or hovers when `failsafe="hover"`;
    - shutdown of this process always lands: nobody flies the drone after it.
    """

    def __init__(
        self,
        *args: Any,
        drone: Any = None,
        speed: int = SPEED,
        failsafe: str = "land",
        arm_time: float = 1.0,
        keepalive: float = KEEPALIVE,
        **kwargs: Any,
    ) -> None:
        if failsafe not in FAILSAFES:
            raise ValueError(f"failsafe {failsafe!r}: one of {', '.join(FAILSAFES)}")
        super().__init__(*args, **kwargs)
        self.drone = drone if drone is not None else connect_tello()
        self.rc = rc_table(speed)
        self.failsafe = failsafe
        self.arm_time = arm_time
        self._arming_since: float | None = None
        self.keepalive = keepalive
        self._last_rc = float("-inf")  # time.monotonic(): djitellopy's spacing is real time
        self._rc_sent: tuple[float, tuple[int, int, int, int]] | None = None  # (clock, values)

    def act(self, command: str, message: dict[str, Any]) -> None:
        self._arming_since = None
        d = self.drone
        if command == "takeoff":
            if d.is_flying:  # already up: hover, never keep the last motion
                self._send_rc(self.rc[STOP])
            else:
                self._arming_since = self._clock.monotonic()
                log.info("drone: arming, takeoff after %.1f s held", self.arm_time)
                self.tick(self._arming_since)
            return
        if command == "land":
            self._land("land command")
            return
        if command == STOP and self._is_failsafe(message):
            reason = str(message.get("reason", ""))
            if self.failsafe == "land" or (reason == "shutdown" and "seq" not in message):
                self._land(reason)
                return
        if command not in self.rc:
            log.warning("unknown command %r: hovering", command)
            command = STOP
        if d.is_flying:
            self._send_rc(self.rc[command])
        log.info("drone: %s (%s)", command, "flying" if d.is_flying else "on the ground")

    def tick(self, now: float) -> None:
        armed = self._arming_since is not None and now - self._arming_since >= self.arm_time
        if armed and self.current == "takeoff" and not self.drone.is_flying:
            self._arming_since = None
            log.info("drone: takeoff (gesture held %.1f s)", self.arm_time)
            self.drone.takeoff()
            self._rc_sent = (now, self.rc[STOP])
        sent = self._rc_sent
        if sent is not None and self.drone.is_flying and now - sent[0] >= self.keepalive:
            self._send_rc(sent[1])  # the same velocity again: the drone must not time out

    def close(self) -> None:
        super().close()  # lands (a shutdown stop)
        end = getattr(self.drone, "end", None)
        if end is not None:
            end()

    @staticmethod
    def _is_failsafe(message: dict[str, Any]) -> bool:
        if "seq" not in message:  # this subscriber's own stop: timeout, offline, link, shutdown
            return True
        return message.get("reason") in DAEMON_FAILSAFE_REASONS

    def _send_rc(self, values: tuple[int, int, int, int]) -> None:
        # djitellopy silently drops an rc sent within TIME_BTW_RC_CONTROL_COMMANDS (1 ms) of the
        # previous one (or of its construction): a stop right after a motion would be lost
        gap = 2 * float(getattr(self.drone, "TIME_BTW_RC_CONTROL_COMMANDS", 0.0))
        wait = self._last_rc + gap - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.drone.send_rc_control(*values)
        self._last_rc = time.monotonic()
        self._rc_sent = (self._clock.monotonic(), values)

    def _land(self, why: str) -> None:
        d = self.drone
        if d.is_flying:
            self._send_rc(self.rc[STOP])
            d.land()
            log.info("drone: landed (%s)", why)


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.partition(":")
    if not host or (port and not port.isdigit()) or not 0 < int(port or 8889) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: HOST or HOST:PORT")
    return host, int(port or 8889)


def main(argv: list[str] | None = None) -> int:
    """`python -m subscribers.drone --host H --device ID [--tello HOST[:PORT]]`."""
    parser = connection_args(__doc__, timeout=0.8)
    parser.add_argument(
        "--tello", type=_address, default=("192.168.10.1", 8889), help="the drone's HOST[:PORT]"
    )
    parser.add_argument("--failsafe", choices=FAILSAFES, default="land")
    parser.add_argument("--arm-time", type=float, default=1.0)
    args = parser.parse_args(argv)
    try:
        tello = connect_tello(*args.tello)
    except Exception as exc:  # ImportError, djitellopy.TelloException, OSError
        parser.exit(1, f"no Tello at {args.tello[0]}:{args.tello[1]}: {exc}\n")
    return serve(
        Drone(
            args.host,
            args.port,
            args.device,
            **connection_kwargs(args),
            drone=tello,
            failsafe=args.failsafe,
            arm_time=args.arm_time,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
