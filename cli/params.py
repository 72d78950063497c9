"""Parsing of repeated KEY=VALUE options (--attr, --answer) and the answers file (--answers), under the
one input rule (core/inputs.py: keys one line, values free text, JSON finite and shallow)."""
from __future__ import annotations

from typing import Any

from huifang.core.errors import HuifangError
from huifang.core.inputs import check_text, load_json, read_json_file, shown


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise HuifangError(f"{option}: '{shown(item)}' is not KEY=VALUE")
        check_text(key, f"{option} {shown(key.strip())}")
        v: Any = check_text(value, f"{option} {key.strip()}", multiline=True)
        if value[:1] in ("[", "{"):
            v = load_json(value, f"{option} {key.strip()}")
        out[key.strip()] = v
    return out


def load_answers(path: str) -> dict[str, Any]:
    """`complete --answers FILE`: one JSON object {"key": value}."""
    loaded = read_json_file(path, "--answers")
    if not isinstance(loaded, dict):
        raise HuifangError("--answers: the file must hold one JSON object {\"key\": \"value\"}")
    return loaded
