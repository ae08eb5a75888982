"""A blocking capture call moved onto its own thread, keeping only the newest frame."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from edge.types import Frame

log = logging.getLogger(__name__)


class FrameGrabber:
    """Calls `grab()` in a loop on a daemon thread; `read(timeout)` returns the newest frame.

    A driver read can block for seconds when a camera hangs; on this thread it cannot delay
    SIGTERM handling or stall detection. Frames the consumer had no time for are skipped (the
    newest one wins, no stale queue) and the skip shows as a gap in `Frame.index`.
    `grab` returns an image (converted by `convert` only when read) or None on a failed read.
    """

    def __init__(
        self,
        grab: Callable[[], np.ndarray | None],
        convert: Callable[[np.ndarray], np.ndarray] = lambda image: image,
        name: str = "camera-grabber",
    ) -> None:
        self._grab = grab
        self._convert = convert
        self._cond = threading.Condition()
        self._latest: tuple[np.ndarray, float, int] | None = None
        self._taken = -1
        self._count = 0
        self.failed = 0  # reads that returned no image (skipped)
        self._running = True
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._running:
            image = self._grab()
            ts = time.time()
            if image is None:
                self.failed += 1
                time.sleep(0.02)  # a failed read: do not spin
                continue
            with self._cond:
                self._latest = (image, ts, self._count)
                self._count += 1
                self._cond.notify_all()

    def read(self, timeout: float) -> Frame | None:
        """The newest frame not yet returned, or None if none arrives within `timeout`."""
        with self._cond:
            fresh = self._cond.wait_for(
                lambda: self._latest is not None and self._latest[2] > self._taken, timeout
            )
            if not fresh or self._latest is None:
                return None
            image, ts, index = self._latest
            self._taken = index
        return Frame(image=self._convert(image), ts=ts, index=index)

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop grabbing; False when the grab call is still blocked after `timeout`."""
        self._running = False
        self._thread.join(timeout)
        return not self._thread.is_alive()
