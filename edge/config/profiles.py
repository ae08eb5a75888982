"""The gesture -> command tables of `[commands]`: car and drone profiles, overrides, mirror."""

from __future__ import annotations

from collections.abc import Mapping

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


def command_table(profile: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """A profile's gesture -> command table with the config's overrides ("" unmaps a gesture)."""
    table = dict(PROFILES[profile])
    for gesture, command in (overrides or {}).items():
        if command:
            table[gesture] = command
        else:
            table.pop(gesture, None)
    return table


def command_for(table: Mapping[str, str], gesture: str, mirror: bool = False) -> str | None:
    """The command for a gesture label, or None; a mirrored camera swaps left and right first.

    One rule for the daemon's CommandMap and the config check that taking control moves nothing.
    """
    if mirror:
        gesture = _MIRRORED.get(gesture, gesture)
    return table.get(gesture)
