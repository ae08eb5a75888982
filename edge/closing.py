"""`with` for the project's resources: `Closing` closes at the end, `Started` also starts first."""

from __future__ import annotations

from typing import TypeVar

C = TypeVar("C", bound="Closing")
S = TypeVar("S", bound="Started")


class Closing:
    """`with x:` gives `x` and calls `x.close()` at the end, whatever happened."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Started(Closing):
    """`with x:` calls `x.start()` first, then gives `x` and closes it at the end."""

    def start(self) -> object:
        raise NotImplementedError

    def __enter__(self: S) -> S:
        self.start()
        return self
