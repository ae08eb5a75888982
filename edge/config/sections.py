"""Typed TOML sections: a dataclass per section, every key checked, unknown keys refused."""

# Types, ranges, choices and paths are checked; one error names the file and every problem.
# The daemon's config (`edge.config`) and the vehicle's (`subscribers.config`) are built on it.

from __future__ import annotations

import copy
import dataclasses
import sys
import types
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 (JetPack 6)
    import tomli as tomllib


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file and every offending key."""


T = TypeVar("T")


def opt(default: T, lo: float | None = None, hi: float | None = None, **meta: Any) -> T:
    """A config field: default, inclusive range, `choices`, `path` (resolve + must exist).

    Typed as its default, so the checker follows each value from the TOML to its stage.
    """
    meta.update(lo=lo, hi=hi)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.copy(default), metadata=meta)
    return field(default=default, metadata=meta)


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's table.

    Raises:
        ConfigError: unreadable file or TOML syntax, naming the file.
    """
    try:
        return tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc


def parse_sections(
    data: dict[str, Any], known: dict[str, type], source: Path | None, errors: list[str]
) -> dict[str, Any]:
    """Every section of `known` from a parsed TOML table, checked key by key; unknown sections
    and keys, wrong types and ranges go to `errors`. Relative paths resolve against `source`."""
    base = source.resolve().parent if source else Path.cwd()
    sections: dict[str, Any] = {}
    for name in data:
        if name not in known:
            errors.append(f"[{name}]: unknown section (known: {', '.join(known)})")
    for name, cls in known.items():
        table = data.get(name, {})
        if not isinstance(table, dict):
            errors.append(f"{name}: must be a table [{name}]")
            table = {}
        sections[name] = _section(cls, name, table, base, errors)
    return sections


def refuse(errors: list[str], source: Path | None) -> None:
    """Raise one ConfigError naming the file and every problem, if there are any.

    Raises:
        ConfigError: `errors` is not empty.
    """
    if errors:
        where = str(source) if source else "<config>"
        raise ConfigError(f"{where}: invalid configuration\n  " + "\n  ".join(errors))


def _section(cls: type, name: str, table: dict[str, Any], base: Path, errors: list[str]) -> Any:
    hints = get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in table:
        if key not in known:
            hint = " (use password_env or a systemd credential)" if key == "password" else ""
            errors.append(f"[{name}] {key}: unknown key{hint} (known: {', '.join(known)})")
    values = {}
    for key, f in known.items():
        if key not in table:
            continue
        value, problem = _check(table[key], hints[key], f.metadata, base)
        if problem:
            errors.append(f"[{name}] {key}: {problem}")
        else:
            values[key] = value
    return cls(**values)


def _check(value: Any, kind: Any, meta: Mapping[str, Any], base: Path) -> tuple[Any, str | None]:
    if get_origin(kind) in (Union, types.UnionType):  # `float | None`: checked as the float
        (kind,) = [k for k in get_args(kind) if k is not type(None)]
    kind = get_origin(kind) or kind  # `list[float]`, `dict[str, str]`: the container's type
    if (
        kind is str
        and meta.get("int_ok")
        and isinstance(value, int)
        and not isinstance(value, bool)
    ):
        value = str(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is bool and not isinstance(value, bool):
        return value, f"must be true or false, not {value!r}"
    if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, kind)):
        return value, f"must be {'an integer' if kind is int else 'a number'}, not {value!r}"
    if kind is not bool and not isinstance(value, kind):
        return value, f"must be a {kind.__name__}, not {value!r}"
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return value, f"{value!r} out of range [{lo}, {hi}]"
    choices = meta.get("choices")
    if choices and value not in choices:
        return value, f"{value!r} is not one of {', '.join(map(repr, choices))}"
    if meta.get("path") and value:
        resolved = (base / Path(value).expanduser()).resolve()
        if not resolved.exists():
            return value, f"{resolved} does not exist"
        value = str(resolved)
    return value, None
