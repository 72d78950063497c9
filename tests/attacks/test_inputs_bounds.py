"""Inputs that must never damage the store: values out of range (G4 record, G15 time of a record,
G16 answers), on SQLite and PostgreSQL.

The attack: year 0001 or 9999 in --now, --at or a report period, a deeply nested JSON --attr, and
`1e309` (infinity), NaN or a 5000-digit number in an answers file each ended in exit 1 "internal
error" (OverflowError, RecursionError, ValueError). Now each is exit 2 with one line naming the
input, and nothing is written.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit_kit import DISCHARGE
from tests.conftest import Huifang
from tests.scale_support import head

NOW = "2026-10-20T10:00+08:00"


def _refused(r, *needles: str) -> None:
    assert r.code == 2 and r.err.count("\n") == 1, (r.code, r.out, r.err)
    assert "internal error" not in r.err, r.err
    for n in needles:
        assert n in r.err, (n, r.err)


YEARS = [
    (("--now", "0001-01-01", "tick"), "--now"),
    (("--now", "9999-12-31T23:00+08:00", "tick"), "--now"),
    (("trigger", "discharge", "--subject", "P1", "--at", "0001-01-01T08:00", *DISCHARGE), "--at"),
    (("trigger", "discharge", "--subject", "P1", "--at", "9999-12-31", *DISCHARGE), "--at"),
    (("history", "P1", "--as-of", "0001-01-01"), "--as-of"),
    (("report", "rates", "--from", "0001-01-01"), "--from"),
    (("report", "rates", "--to", "9999-12-31"), "--to"),
    (("report", "rates", "--month", "9999-12"), "--month"),
    (("report", "rates", "--quarter", "9999-Q4"), "--quarter"),
    (("report", "rates", "--quarter", "0000-Q1"), "--quarter"),
    (("qa", "sample", "--month", "0001-01", "--rate", "10%"), "--month"),
    (("queue", "--on", "9999-12-31"), "--on"),
]


@pytest.mark.parametrize("args,option", YEARS, ids=[" ".join(a[:3]) for a, _ in YEARS])
def test_g15_year_0001_or_9999_is_exit_2_naming_the_option(hf: Huifang, args: tuple[str, ...], option: str) -> None:
    hf.ok("subject", "add", "P1", "--name", "张三", now=NOW)
    before = head(hf.db)
    if args[0] == "--now":
        r = hf(*args[2:], now=args[1])
    else:
        r = hf(*args, now=NOW)
    _refused(r, f"{option}: ", "out of range (years 1900-2199)")
    assert head(hf.db) == before


def test_g4_deeply_nested_attr_is_exit_2_naming_the_attribute(hf: Huifang) -> None:
    hf.now = NOW
    before = head(hf.db)
    _refused(hf("subject", "add", "P1", "--name", "张三", "--attr", "x=" + "[" * 100000),
             "--attr x: JSON nested too deeply")
    _refused(hf("subject", "add", "P1", "--name", "张三", "--attr", "x=" + "[" * 30 + "]" * 30),
             "--attr x: JSON nested too deeply")
    _refused(hf("subject", "add", "P1", "--name", "张三", "--attr", 'x={"a": 1e999}'), "--attr x", "not a finite number")
    assert head(hf.db) == before
    assert hf.ok("subject", "add", "P1", "--name", "张三", "--attr", 'x={"a": [1, 2]}')["attributes"]["x"] == {"a": [1, 2]}


@pytest.mark.parametrize("value,needle", [("1e309", "1e309 is not a finite number"), ("-1e309", "not a finite number"),
                                          ("NaN", "NaN is not a number"), ("Infinity", "Infinity is not a number"),
                                          ("9" * 5000, "too many digits")])
def test_g16_non_finite_number_in_an_answers_file_is_exit_2(hf: Huifang, tmp_path: Path, value: str,
                                                            needle: str) -> None:
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now="2026-10-08T15:10+08:00")
    f = tmp_path / "answers.json"
    f.write_text('{"satisfaction": "满意", "recovery": ' + value + "}", encoding="utf-8")
    before = head(hf.db)
    _refused(hf("complete", "D1-1", "--answers", str(f), actor="n1", now="2026-10-08T15:12+08:00"),
             f"--answers '{f}'", needle)
    assert head(hf.db) == before
    f.write_text(json.dumps({"satisfaction": "满意", "recovery": 8}), encoding="utf-8")
    assert hf.ok("complete", "D1-1", "--answers", str(f), actor="n1", now="2026-10-08T15:12+08:00")["status"] == \
        "completed"
