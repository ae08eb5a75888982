"""A two-motor car on a Raspberry Pi's GPIO (gpiozero.Motor per side), driven safely."""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any

from subscribers.base import STOP, SafeSubscriber, connection_args, connection_kwargs, serve

log = logging.getLogger(__name__)

# command -> (left motor, right motor), -1..1; turning on the spot.
WHEELS = {
    "forward": (1.0, 1.0),
    "backward": (-1.0, -1.0),
    "left": (-1.0, 1.0),
    "right": (1.0, -1.0),
    STOP: (0.0, 0.0),
}


def _gpiozero() -> ModuleType:
    return importlib.import_module("gpiozero")  # only here: the rest runs on any machine


class GpioCar(SafeSubscriber):
    """Left and right motors on (forward, backward) GPIO pins; `speed` scales every command.

    `pin_factory` is a gpiozero pin factory (default: gpiozero's own choice, i.e. the Pi's
    GPIO, or `GPIOZERO_PIN_FACTORY`); tests pass gpiozero's `MockFactory(pin_class=MockPWMPin)`.
    """

    def __init__(
        self,
        *args: Any,
        left_pins: tuple[int, int] = (17, 18),
        right_pins: tuple[int, int] = (22, 23),
        speed: float = 0.6,
        pwm: bool = True,
        pin_factory: Any = None,
        **kwargs: Any,
    ) -> None:
        gz = _gpiozero()
        self.left = gz.Motor(*left_pins, pwm=pwm, pin_factory=pin_factory)
        try:
            self.right = gz.Motor(*right_pins, pwm=pwm, pin_factory=pin_factory)
        except Exception:
            self.left.close()
            raise
        self.speed = speed
        super().__init__(*args, **kwargs)

    def act(self, command: str, message: dict[str, Any]) -> None:
        if command not in WHEELS:
            log.warning("unknown command %r: stopping", command)
        left, right = WHEELS.get(command, WHEELS[STOP])
        for motor, value in ((self.left, left), (self.right, right)):
            if value > 0:
                motor.forward(value * self.speed)
            elif value < 0:
                motor.backward(-value * self.speed)
            else:
                motor.stop()
        log.info(
            "motors: %s (left %+.1f, right %+.1f)", command, left * self.speed, right * self.speed
        )

    def close(self) -> None:
        super().close()  # stops the motors first
        self.left.close()
        self.right.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m subscribers.gpio_car --host H --device ID` on the Pi that drives the motors."""
    parser = connection_args(__doc__, timeout=1.0)
    parser.add_argument("--speed", type=float, default=0.6)
    args = parser.parse_args(argv)
    return serve(
        GpioCar(
            args.host,
            args.port,
            args.device,
            **connection_kwargs(args),
            speed=args.speed,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
