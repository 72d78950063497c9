"""Parsing of repeated KEY=VALUE options (--attr, --answer)."""
from __future__ import annotations

import json
from typing import Any

from huifang.core.errors import HuifangError


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise HuifangError(f"{option}: '{item}' is not KEY=VALUE")
        v: Any = value
        if value[:1] in ("[", "{"):
            try:
                v = json.loads(value)
            except json.JSONDecodeError:
                raise HuifangError(f"{option} {key}: '{value}' is not valid JSON") from None
        out[key.strip()] = v
    return out

