"""A drone driven by gestures: rc velocity commands, `stop` hovers, safety stops hover too."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from subscribers.base import STOP, SafeSubscriber, connection_args, connection_kwargs, serve

log = logging.getLogger(__name__)

SPEED = 30  # percent of the rc range
# command -> (left_right, forward_backward, up_down, yaw); left is the person's left.
RC = {
    "up": (0, 0, SPEED, 0),
    "down": (0, 0, -SPEED, 0),
    "left": (-SPEED, 0, 0, 0),
    "right": (SPEED, 0, 0, 0),
    STOP: (0, 0, 0, 0),  # hover
}


class Drone(SafeSubscriber):
    """Hovers on `stop`, on the subscriber's timeout and when the daemon goes offline.

    `takeoff` and `land` act only on a state change; velocities apply only while flying.
    `drone` is any object with djitellopy's Tello methods (connect, takeoff, land,
    send_rc_control); by default a real `djitellopy.Tello`.
    """

    def __init__(self, *args: Any, drone: Any = None, **kwargs: Any) -> None:
        self.drone = drone or importlib.import_module("djitellopy").Tello()
        self.drone.connect()
        super().__init__(*args, **kwargs)

    def act(self, command: str, message: dict[str, Any]) -> None:
        d = self.drone
        if command == "takeoff":
            if not d.is_flying:
                d.takeoff()
            return
        if command == "land":
            if d.is_flying:
                d.send_rc_control(*RC[STOP])
                d.land()
            return
        if command not in RC:
            log.warning("unknown command %r: hovering", command)
            command = STOP
        if d.is_flying:
            d.send_rc_control(*RC[command])
        log.info("drone: %s (%s)", command, "flying" if d.is_flying else "on the ground")


def main(argv: list[str] | None = None) -> int:
    """`python -m subscribers.drone --host H --device ID [--fake]`."""
    parser = connection_args(__doc__, timeout=0.8)
    parser.add_argument("--fake", action="store_true", help="use subscribers.fake_drone (no drone)")
    args = parser.parse_args(argv)
    drone = None
    if args.fake:
        from subscribers.fake_drone import Tello

        drone = Tello()
    return serve(
        Drone(
            args.host,
            args.port,
            args.device,
            **connection_kwargs(args),
            drone=drone,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
