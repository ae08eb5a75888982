"""The camera protocol and its two errors, which every backend and the loop share."""

from __future__ import annotations

from typing import Protocol

from edge.types import Frame


class CameraError(RuntimeError):
    """The camera source cannot be opened or read."""


class EndOfStream(Exception):
    """A finite source (replay, video file) has no more frames."""


class Camera(Protocol):
    """A source of RGB frames stamped with their capture time.

    `open()` raises CameraError when the source cannot be opened. `read()` returns the next
    frame, None when no frame arrived within `timeout` seconds (the loop decides what a stall
    means), and raises EndOfStream at the end of a finite source. A frame that cannot be
    decoded is skipped and counted in `unreadable`, never an error: only "no frame at all for
    stall_timeout" is a stall. `close()` is idempotent.
    """

    @property
    def unreadable(self) -> int:
        """Frames skipped because they could not be read or decoded."""
        ...

    def open(self) -> None: ...

    def read(self, timeout: float) -> Frame | None: ...

    def close(self) -> None: ...
