"""Gesture -> command names: `car` and `drone` profiles, config overrides, a mirror option."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # edge.config_rules imports this module for the operator check
    from edge.config import CommandsConfig

STOP = "stop"

# Directions are from the person's point of view (DESIGN.md); `stop` is the universal halt.
PROFILES: dict[str, dict[str, str]] = {
    "car": {
        "up": "forward",
        "down": "backward",
        "left": "left",
        "right": "right",
        "stop": STOP,
        "fist": STOP,
    },
    "drone": {
        "up": "up",
        "down": "down",
        "left": "left",
        "right": "right",
        "stop": STOP,  # hover in place
        "fist": "land",
        "peace": "takeoff",
    },
}

_MIRRORED = {"left": "right", "right": "left"}


class CommandMap:
    """Maps a smoothed gesture to a command name, or None for `none` and unmapped gestures."""

    def __init__(
        self, profile: str = "car", overrides: Mapping[str, str] | None = None, mirror: bool = False
    ) -> None:
        table = dict(PROFILES[profile])
        for gesture, command in (overrides or {}).items():
            if command:
                table[gesture] = command
            else:
                table.pop(gesture, None)
        self.table = table
        self.mirror = mirror

    @classmethod
    def from_config(cls, cfg: CommandsConfig) -> CommandMap:
        return cls(cfg.profile, cfg.map, cfg.mirror)

    def command_for(self, gesture: str) -> str | None:
        """The command for a gesture label; a mirrored camera swaps left and right first."""
        if self.mirror:
            gesture = _MIRRORED.get(gesture, gesture)
        return self.table.get(gesture)
