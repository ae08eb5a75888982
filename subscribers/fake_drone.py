"""A stand-in for a drone SDK (the shape of djitellopy's `Tello`) for machines without a drone.

It keeps the state a real drone would report: flying or not, height, and the last rc command.
"""

from __future__ import annotations


class TelloException(Exception):
    pass


class Tello:
    def __init__(self, host: str = "192.168.10.1") -> None:
        self.host = host
        self.connected = False
        self.is_flying = False
        self.height_cm = 0
        self.rc = (0, 0, 0, 0)  # left_right, forward_backward, up_down, yaw, each -100..100
        self.log: list[str] = []

    def connect(self) -> None:
        self.connected = True
        self.log.append("connect")

    def _need(self, flying: bool | None = None) -> None:
        if not self.connected:
            raise TelloException("not connected")
        if flying is not None and self.is_flying != flying:
            raise TelloException("drone is " + ("landed" if flying else "flying"))

    def takeoff(self) -> None:
        self._need(flying=False)
        self.is_flying, self.height_cm = True, 80
        self.log.append("takeoff")

    def land(self) -> None:
        self._need(flying=True)
        self.is_flying, self.height_cm, self.rc = False, 0, (0, 0, 0, 0)
        self.log.append("land")

    def send_rc_control(
        self, left_right: int, forward_backward: int, up_down: int, yaw: int
    ) -> None:
        self._need()
        for v in (left_right, forward_backward, up_down, yaw):
            if not -100 <= v <= 100:
                raise TelloException("rc values must be within -100..100")
        self.rc = (left_right, forward_backward, up_down, yaw)
        self.log.append(f"rc {self.rc}")

    def end(self) -> None:
        self.connected = False
        self.log.append("end")
