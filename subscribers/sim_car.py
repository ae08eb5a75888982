"""A simulated robot car: integrates the commands it receives and reports what it does."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from subscribers.base import STOP, SafeSubscriber, connection_args, connection_kwargs, serve

log = logging.getLogger(__name__)

SPEED = 0.5  # m/s
TURN_RATE = math.radians(90)  # rad/s
# command -> (speed factor, turn factor); left turns counter-clockwise seen from above.
MOTION = {"forward": (1, 0), "backward": (-1, 0), "left": (0, 1), "right": (0, -1), STOP: (0, 0)}


class SimCar(SafeSubscriber):
    """A car on a plane: `x`, `y` in metres, `heading` in radians; `actions` lists what it did."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.x = self.y = self.heading = 0.0
        self.motion = (0, 0)
        self.actions: list[tuple[str, str]] = []  # (command, why)
        self._since = time.monotonic()

    def _advance(self) -> None:
        now = time.monotonic()
        dt, self._since = now - self._since, now
        speed, turn = self.motion
        self.heading += turn * TURN_RATE * dt
        self.x += speed * SPEED * dt * math.cos(self.heading)
        self.y += speed * SPEED * dt * math.sin(self.heading)

    def act(self, command: str, message: dict[str, Any]) -> None:
        self._advance()
        if command not in MOTION:
            log.warning("car: unknown command %r, stopping", command)
            command = STOP
        self.motion = MOTION[command]
        why = str(message.get("reason", ""))
        if "seq" in message:  # from the daemon, not this subscriber's own safety stop
            why = f"daemon: {message.get('gesture')} {why}".strip()
        self.actions.append((command, why))
        log.info(
            "car: %-8s (%s)  at x=%+.2f m y=%+.2f m heading %+4.0f°",
            command.upper(),
            why,
            self.x,
            self.y,
            math.degrees(self.heading),
        )


def main(argv: list[str] | None = None) -> int:
    """`python -m subscribers.sim_car --host H --port P --device ID`: run until Ctrl-C."""
    args = connection_args(__doc__, timeout=1.0).parse_args(argv)
    return serve(
        SimCar(
            args.host,
            args.port,
            args.device,
            **connection_kwargs(args),
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
