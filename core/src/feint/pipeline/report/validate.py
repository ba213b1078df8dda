"""A small JSON Schema validator (the subset ``schema.json`` uses), so core needs no ``jsonschema``.

Supported keywords: ``type``, ``enum``, ``const``, ``properties``, ``required``,
``additionalProperties``, ``items``, ``minimum``, ``maximum``, ``minItems``, ``$ref`` (to
``#/$defs/...``), ``allOf``, ``anyOf``, ``oneOf``.  Unknown keywords (``description``...) are
ignored, as the specification says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["load_schema", "validate"]

SCHEMA_PATH = Path(__file__).with_name("schema.json")

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def load_schema() -> dict:
    """The report schema shipped with feint-core."""
    return json.loads(SCHEMA_PATH.read_text())


def validate(instance: Any, schema: dict | None = None) -> list[str]:
    """Return the list of violations (``"$.attacks[0].success_rate: 1.5 > maximum 1"``); empty if valid."""
    schema = load_schema() if schema is None else schema
    errors: list[str] = []
    _check(instance, schema, schema, "$", errors)
    return errors


def _resolve(ref: str, root: dict) -> dict:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _check(v: Any, s: dict, root: dict, path: str, errors: list[str]) -> None:
    if "$ref" in s:
        _check(v, _resolve(s["$ref"], root), root, path, errors)
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(_TYPES[t](v) for t in types):
            errors.append(f"{path}: {v!r:.60} is not of type {' or '.join(types)}")
            return
    if "const" in s and v != s["const"]:
        errors.append(f"{path}: {v!r:.60} is not {s['const']!r}")
    if "enum" in s and v not in s["enum"]:
        errors.append(f"{path}: {v!r:.60} is not one of {s['enum']}")
    if _TYPES["number"](v):
        if "minimum" in s and v < s["minimum"]:
            errors.append(f"{path}: {v} < minimum {s['minimum']}")
        if "maximum" in s and v > s["maximum"]:
            errors.append(f"{path}: {v} > maximum {s['maximum']}")
    if isinstance(v, dict):
        props = s.get("properties", {})
        for key in s.get("required", []):
            if key not in v:
                errors.append(f"{path}: required property {key!r} is missing")
        for key, value in v.items():
            if key in props:
                _check(value, props[key], root, f"{path}.{key}", errors)
            elif "additionalProperties" in s:
                extra = s["additionalProperties"]
                if extra is False:
                    errors.append(f"{path}: unexpected property {key!r}")
                elif isinstance(extra, dict):
                    _check(value, extra, root, f"{path}.{key}", errors)
    if isinstance(v, list):
        if "minItems" in s and len(v) < s["minItems"]:
            errors.append(f"{path}: fewer than {s['minItems']} items")
        if isinstance(s.get("items"), dict):
            for i, item in enumerate(v):
                _check(item, s["items"], root, f"{path}[{i}]", errors)
    for sub in s.get("allOf", []):
        _check(v, sub, root, path, errors)
    for key, need in (("anyOf", "any"), ("oneOf", "one")):
        if key in s:
            passing = sum(not _errors(v, sub, root, path) for sub in s[key])
            if (need == "any" and passing == 0) or (need == "one" and passing != 1):
                errors.append(f"{path}: matches {passing} of the {key} alternatives")


def _errors(v, s, root, path) -> list[str]:
    out: list[str] = []
    _check(v, s, root, path, out)
    return out
