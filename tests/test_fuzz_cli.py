"""Bad input everywhere: hypothesis drives the real CLI (in-process) with random
argument values and random CSV rows. Every run ends with exit 0 or 2, never a traceback, and a
refused command (exit 2) leaves the event store as it was, except for the record of the refusal (G8)."""
from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Huifang
from tests.scale_support import NOW, REFUSAL_TOPICS, close_apps, head, topics_after

pytestmark = pytest.mark.slow  # hypothesis fuzzing with many examples through the CLI

TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "P1", "F1-1", "n1", "medical.discharge", "满意",
                                                         "2026-10-10", "2026-13-45", "-1", "999999999999", "x=y",
                                                         "[1,2", "{}", "\u0000", "../../etc/passwd"]))
COMMANDS = [
    lambda a, b, c: ["subject", "add", a or "S", "--name", b, "--phone", c],
    lambda a, b, c: ["trigger", a, "--subject", b, "--attr", c],
    lambda a, b, c: ["trigger", "medical.discharge", "--subject", "P1", "--at", a, "--attr", f"department={b}",
                     "--attr", "diagnosis=x", "--attr", f"responsible_nurse={c}", "--attr", "attending_doctor=d"],
    lambda a, b, c: ["attempt", a, "--channel", b, "--outcome", c],
    lambda a, b, c: ["attempt", "F1-1", "--channel", "phone", "--outcome", "reached", "--note", a],
    lambda a, b, c: ["complete", "F1-1", "--answer", f"{a}={b}"],
    lambda a, b, c: ["close", a, "--lost", b],
    lambda a, b, c: ["queue", "--agent", a, "--on", b],
    lambda a, b, c: ["show", a],
    lambda a, b, c: ["history", a, "--as-of", b],
    lambda a, b, c: ["staff", "add", a or "x", "--name", b, "--role", c],
    lambda a, b, c: ["ticket", "open", a, "--category", b, "--dept", c],
    lambda a, b, c: ["calendar", "show", a],
]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """One store with a subject, a nurse and an open follow-up, copied per example."""
    db = str(tmp_path_factory.mktemp("fuzz") / "base.db")
    h = Huifang(db, now=NOW)
    h.ok("init")
    h.ok("staff", "add", "n1", "--name", "护士一", "--role", "agent")
    h.ok("subject", "add", "P1", "--name", "张三")
    h.ok("trigger", "medical.discharge", "--subject", "P1", "--id", "F1", "--at", "2026-10-10", "--attr",
         "department=心内科", "--attr", "diagnosis=x", "--attr", "responsible_nurse=n1", "--attr",
         "attending_doctor=d")
    return h


def _check(h: Huifang, args: list[str], actor: str | None = None) -> None:
    before = head(h.db)
    r = h(*args, actor=actor)
    assert r.code in (0, 2), (args, r.code, r.err)
    assert "Traceback" not in r.err and "internal error" not in r.err, (args, r.err)
    if r.code == 2:
        assert r.err.strip().count("\n") == 0 or args[:2] == ["trigger", "import"], (args, r.err)
        written = set(topics_after(h.db, before))
        assert written <= REFUSAL_TOPICS, (args, "a refused command wrote more than its refusal", written)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, len(COMMANDS) - 1), a=TEXT, b=TEXT, c=TEXT, actor=st.sampled_from([None, "n1", "ghost"]))
def test_random_arguments_exit_0_or_2_and_refusals_write_nothing(base, which, a, b, c, actor):
    _check(base, COMMANDS[which](a, b, c), actor)


CELL = st.one_of(st.text(max_size=10), st.sampled_from(["", "P1", "n1", "2026-10-10", "2026/10/10 9:00", "2026-02-30",
                                                         "心内科", "true", "[", "13800138000"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=5, max_size=8), min_size=1, max_size=6),
       header=st.sampled_from([["id", "subject", "at", "department", "diagnosis", "responsible_nurse",
                                "attending_doctor"], ["id", "name", "phone", "email", "tz"], ["a", "b"]]),
       what=st.sampled_from(["trigger", "subject"]), encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_random_csv_rows_exit_0_or_2_and_bad_files_write_nothing(base, tmp_path_factory, rows, header, what,
                                                                 encoding):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    f = tmp_path_factory.mktemp("csv") / "rows.csv"
    try:
        f.write_bytes(buf.getvalue().encode(encoding))
    except UnicodeEncodeError:
        f.write_bytes(buf.getvalue().encode("utf-8", "replace"))
    args = [what, "import", str(f)] + (["--kind", "medical.discharge"] if what == "trigger" else [])
    before = head(base.db)
    r = base(*args)
    assert r.code in (0, 2), (rows, r.code, r.err)
    assert "Traceback" not in r.err and "internal error" not in r.err, r.err
    if r.code == 2:
        assert head(base.db) == before


__all__ = ["close_apps"]
