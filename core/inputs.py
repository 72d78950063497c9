"""One rule for text entering huifang — CLI arguments, answers files, imported cells, JSON values —
and the one rule for text leaving it into spreadsheets.

In: no control characters (C0, DEL, C1) and no undecodable bytes (argv and files are read with
`surrogateescape`, so invalid UTF-8 shows up as lone surrogates). Free-text fields (notes, reasons,
answers, attribute values) may hold a tab or a line feed; one-line fields (ids, names, phones,
codes, keys, paths, times) may not, nor U+2028/U+2029. A NUL byte written into an event would break
PostgreSQL's JSON for good; an escape sequence would rewrite an operator's terminal. JSON values are
at most MAX_DEPTH deep and their numbers finite (`1e309`, `NaN` are refused).

Out: a text cell starting with = + - @ tab or CR is written as text, never a formula (OWASP "CSV
injection"): `formula_safe` prefixes CSV cells with an apostrophe; xlsx cells are typed as text.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import HuifangError

MAX_DEPTH = 20  # JSON nesting (attribute values, answers): real data needs 2 or 3
_MULTILINE_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_ONE_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMES = {"\0": "NUL", "\t": "tab", "\n": "line feed", "\r": "carriage return", "\x1b": "ESC", "\x7f": "DEL",
          "\u2028": "line separator U+2028", "\u2029": "paragraph separator U+2029"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_problem(text: str, multiline: bool = False) -> str | None:
    """What is wrong with `text` under the rule, or None."""
    m = (_MULTILINE_BAD if multiline else _ONE_LINE_BAD).search(text)
    if m is None:
        return None
    ch, at = m.group(), m.start() + 1
    if "\udc80" <= ch <= "\udcff":  # a byte surrogateescape could not decode
        return f"is not valid UTF-8 (byte 0x{ord(ch) - 0xDC00:02X} at character {at})"
    if "\ud800" <= ch <= "\udfff":
        return f"is not valid Unicode (lone surrogate at character {at})"
    if ch in "\t\n\u2028\u2029":
        return f"holds a {_NAMES[ch]} at character {at}: one line only"
    name = _NAMES.get(ch, f"U+{ord(ch):04X}")
    return f"holds the control character {name} at character {at}"


def check_text(text: str, where: str, multiline: bool = False) -> str:
    """`text` unchanged, or HuifangError naming `where` (the option, file, row and column)."""
    problem = text_problem(text, multiline)
    if problem is not None:
        raise HuifangError(f"{where}: {problem}")
    return text


def shown(text: str) -> str:
    """`text` safe to print in an error message: undecodable bytes and control characters escaped."""
    raw = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in raw)


class NotJSON(HuifangError):
    """The text is not JSON at all (a caller may then take it as plain text)."""


class _Refused(ValueError):
    pass


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"{text[:40]} is not a finite number")
    return value


def _int(text: str) -> int:
    if len(text) > 40:
        raise _Refused(f"the number {text[:20]}… has too many digits")
    return int(text)


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number")


def load_json(text: str, where: str) -> Any:
    """JSON under the rule: finite numbers, at most MAX_DEPTH levels, text checked (keys one line,
    string values free text)."""
    try:
        value = json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_constant)
    except _Refused as e:
        raise HuifangError(f"{where}: {e}") from None
    except RecursionError:
        raise HuifangError(f"{where}: JSON nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as e:  # json.JSONDecodeError
        raise NotJSON(f"{where}: not valid JSON ({str(e).splitlines()[0]})") from None
    return check_value(value, where)


def check_value(value: Any, where: str, multiline: bool = True, _path: str = "", _depth: int = 0) -> Any:
    """A JSON-like value (from a file, an option or a cell) under the rule; returned unchanged."""
    at = f"{where} {_path}" if _path else where
    if _depth > MAX_DEPTH:
        raise HuifangError(f"{where}: JSON nested too deeply (at most {MAX_DEPTH} levels)")
    if isinstance(value, str):
        check_text(value, at, multiline)
    elif isinstance(value, float) and not math.isfinite(value):
        raise HuifangError(f"{at}: {value} is not a finite number")
    elif isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            check_text(key, f"{at}: key '{shown(key)}'")
            check_value(v, where, multiline, f"{_path}.{key}" if _path else key, _depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_value(v, where, multiline, f"{_path}[{i}]", _depth + 1)
    return value


def read_json_file(path: str, where: str) -> Any:
    """A JSON file (answers, requests) as strict UTF-8, under the rule; errors name `where` and the file."""
    label = f"{where} '{shown(path)}'"
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise HuifangError(f"{label}: the file does not exist") from None
    except OSError as e:
        raise HuifangError(f"{label}: cannot read the file ({e.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise HuifangError(f"{label}: is not UTF-8 (byte 0x{data[e.start]:02X} at offset {e.start})") from None
    return load_json(text, label)


def formula_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet would run as a formula, as text: an apostrophe in front (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)
