"""JSON Schemas of the MQTT payloads (DESIGN.md contract) and a validator for what they use."""

# The schemas (`command`, `gesture`, `stats`, `status`, `cmd_vel`) are package data, read with
# importlib.resources, so an installed wheel carries them. The validator covers exactly the
# keywords they use (type, enum, const, required, properties, additionalProperties, minimum,
# maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, pattern, items, local
# `$ref`), with Draft 2020-12 semantics; the tests check it agrees with the `jsonschema`
# package, which the device does not need.

from __future__ import annotations

import json
import math
import operator
import re
from functools import cache
from importlib import resources
from typing import Any

NAMES = ("command", "gesture", "stats", "status", "cmd_vel")
KEYWORDS = {
    "$schema", "$id", "$defs", "$ref", "title", "description", "type", "enum", "const",
    "required", "properties", "additionalProperties", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "items",
}  # fmt: skip


class SchemaError(ValueError):
    """A schema uses a keyword this validator does not implement (a packaging bug)."""


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one payload, e.g. `schema("command")`.

    Raises:
        KeyError: `name` is not one of NAMES.
    """
    if name not in NAMES:
        raise KeyError(f"no schema {name!r} (known: {', '.join(NAMES)})")
    text = resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    _check_keywords(loaded, name)
    return loaded


def errors(name: str, value: Any) -> list[str]:
    """Why `value` (a decoded payload) fails the schema `name`; empty when it is valid."""
    root = schema(name)
    out: list[str] = []
    _validate(value, root, root, "$", out)
    return out


def is_valid(name: str, value: Any) -> bool:
    return not errors(name, value)


def _check_keywords(node: Any, where: str) -> None:
    if not isinstance(node, dict):
        return
    unknown = set(node) - KEYWORDS
    if unknown:
        raise SchemaError(f"{where}: unsupported keyword(s) {sorted(unknown)}")
    for key in ("properties", "$defs"):
        for child, sub in node.get(key, {}).items():
            _check_keywords(sub, f"{where}.{child}")
    for key in ("items", "additionalProperties"):
        _check_keywords(node.get(key), f"{where}.{key}")


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind == "integer":  # 2020-12: a number with a zero fractional part is an integer
        return isinstance(value, int) or (math.isfinite(value) and value.is_integer())
    return kind == "number"


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise SchemaError(f"only local $ref is supported, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    if not isinstance(node, dict):
        raise SchemaError(f"$ref {ref!r} does not name a schema")
    return node


def _validate(value: Any, node: Any, root: dict[str, Any], path: str, out: list[str]) -> None:
    if node is True or node == {}:
        return
    if node is False:
        out.append(f"{path}: not allowed")
        return
    if "$ref" in node:
        _validate(value, _resolve(node["$ref"], root), root, path, out)
    kinds = node.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_type_ok(value, k) for k in kinds):
            out.append(f"{path}: {_short(value)} is not of type {' or '.join(kinds)}")
            return
    if "enum" in node and not any(_same(value, v) for v in node["enum"]):
        out.append(f"{path}: {_short(value)} is not one of {node['enum']}")
    if "const" in node and not _same(value, node["const"]):
        out.append(f"{path}: {_short(value)} is not {node['const']!r}")
    if _type_ok(value, "number"):
        _bounds(value, node, path, out)
    if isinstance(value, str):
        _text(value, node, path, out)
    if isinstance(value, dict):
        _object(value, node, root, path, out)
    if isinstance(value, list) and "items" in node:
        for i, item in enumerate(value):
            _validate(item, node["items"], root, f"{path}[{i}]", out)


def _bounds(value: float, node: dict[str, Any], path: str, out: list[str]) -> None:
    for key, ok in (
        ("minimum", operator.ge),
        ("maximum", operator.le),
        ("exclusiveMinimum", operator.gt),
        ("exclusiveMaximum", operator.lt),
    ):
        if key in node and not ok(value, node[key]):
            out.append(f"{path}: {_short(value)} fails {key} {node[key]}")


def _text(value: str, node: dict[str, Any], path: str, out: list[str]) -> None:
    length = len(value)  # code points, as JSON Schema counts
    if "minLength" in node and length < node["minLength"]:
        out.append(f"{path}: shorter than {node['minLength']}")
    if "maxLength" in node and length > node["maxLength"]:
        out.append(f"{path}: longer than {node['maxLength']}")
    if "pattern" in node and not re.search(node["pattern"], value):
        out.append(f"{path}: {_short(value)} does not match {node['pattern']!r}")


def _object(
    value: dict[str, Any], node: dict[str, Any], root: dict[str, Any], path: str, out: list[str]
) -> None:
    for key in node.get("required", ()):
        if key not in value:
            out.append(f"{path}: {key!r} is required")
    props = node.get("properties", {})
    extra = node.get("additionalProperties", True)
    for key, item in value.items():
        if key in props:
            _validate(item, props[key], root, f"{path}.{key}", out)
        elif extra is False:
            out.append(f"{path}: unexpected key {_short(key)}")
        else:
            _validate(item, extra, root, f"{path}.{key}", out)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
