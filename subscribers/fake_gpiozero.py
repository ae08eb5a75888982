"""A stand-in for `gpiozero` (the `Motor` part of its API) for machines without GPIO pins.

Each Motor records its `value` (-1..1) and the history of calls, like a motor driver would see.
"""

from __future__ import annotations

PINS_IN_USE: set[str] = set()


class GPIOPinInUse(Exception):
    pass


class Motor:
    """gpiozero.Motor(forward, backward, enable=None, pwm=True)."""

    def __init__(
        self,
        forward: int | str,
        backward: int | str,
        enable: int | str | None = None,
        pwm: bool = True,
    ) -> None:
        pins = {str(forward), str(backward)} | ({str(enable)} if enable is not None else set())
        if pins & PINS_IN_USE:
            raise GPIOPinInUse(f"pin(s) {sorted(pins & PINS_IN_USE)} already in use")
        PINS_IN_USE.update(pins)
        self._pins = pins
        self.value = 0.0
        self.history: list[float] = []
        self.closed = False

    def _set(self, value: float) -> None:
        if self.closed:
            raise RuntimeError("motor is closed")
        self.value = value
        self.history.append(value)

    def forward(self, speed: float = 1.0) -> None:
        if not 0 <= speed <= 1:
            raise ValueError("forward speed must be between 0 and 1")
        self._set(speed)

    def backward(self, speed: float = 1.0) -> None:
        if not 0 <= speed <= 1:
            raise ValueError("backward speed must be between 0 and 1")
        self._set(-speed)

    def stop(self) -> None:
        self._set(0.0)

    @property
    def is_active(self) -> bool:
        return self.value != 0

    def close(self) -> None:
        if not self.closed:
            PINS_IN_USE.difference_update(self._pins)
            self.closed = True
