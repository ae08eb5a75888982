"""Gesture -> command names: the stage applying the `[commands]` table (edge.config.profiles)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from edge.config.profiles import PROFILES as PROFILES  # re-exported: the profiles' one home
from edge.config.profiles import STOP as STOP
from edge.config.profiles import command_for, command_table

if TYPE_CHECKING:
    from edge.config import CommandsConfig


class CommandMap:
    """Maps a smoothed gesture to a command name, or None for `none` and unmapped gestures."""

    def __init__(
        self, profile: str = "car", overrides: Mapping[str, str] | None = None, mirror: bool = False
    ) -> None:
        self.table = command_table(profile, overrides)
        self.mirror = mirror

    @classmethod
    def from_config(cls, cfg: CommandsConfig) -> CommandMap:
        return cls(cfg.profile, cfg.map, cfg.mirror)

    def command_for(self, gesture: str) -> str | None:
        """The command for a gesture label; a mirrored camera swaps left and right first."""
        return command_for(self.table, gesture, self.mirror)
