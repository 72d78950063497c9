"""Inputs that must never damage the store: control characters and undecodable text (G1 subject
file, G4 record), on SQLite and PostgreSQL.

The attack: one imported CSV cell held a NUL byte (a HIS export cut at a C string); the import exited
0, and on PostgreSQL every later `queue`, `report`, `tick` and `projections rebuild` failed for good
(its JSON cannot hold \\u0000). An ESC sequence in a name rewrote the operator's terminal, and invalid
UTF-8 in an argument ended in "internal error". Now one rule (core/inputs.py) refuses control
characters at the boundary — CLI arguments, answers files, imported cells — naming the input; tab and
line feed are allowed in free text only.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from tests.audit_kit import DISCHARGE
from tests.conftest import Huifang
from tests.scale_support import cli_env, head

NOW = "2026-10-20T10:00+08:00"


def _one_line(r, *needles: str) -> None:
    assert r.code == 2, (r.code, r.out, r.err)
    assert "internal error" not in r.err and "Traceback" not in r.err, r.err
    last = r.err.strip().splitlines()[-1]
    for n in needles:
        assert n in last, (n, r.err)


def _completed_followup(hf: Huifang) -> Huifang:
    """Staff, a subject, a discharge and a reached attempt on D1-1 (ready to complete)."""
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now="2026-10-08T15:10+08:00")
    return hf


def test_g1_nul_byte_in_an_imported_cell_is_a_bad_row_and_the_store_stays_usable(hf: Huifang, tmp_path: Path) -> None:
    """A real CSV whose row 3 holds a NUL byte in the attribute column 备注."""
    hf.now = NOW
    f = tmp_path / "patients.csv"
    f.write_bytes("id,name,phone,备注\nP1,张三,13800138000,无\nP2,李四,13900139000,过敏\x00史\n".encode())
    assert b"\x00" in f.read_bytes()
    before = head(hf.db)
    r = hf("subject", "import", str(f))
    _one_line(r, "row 3, column '备注'", "control character NUL")
    assert head(hf.db) == before  # nothing written, not even row 2
    ok = hf.ok("subject", "import", str(f), "--skip-bad")
    assert (ok["imported"], ok["skipped_bad"]) == (1, 1)
    with open(ok["reject_file"], encoding="utf-8-sig", newline="") as fh:
        assert [row[0] for row in csv.reader(fh)] == ["row", "3"]
    # the store is still whole: every reader and writer works afterwards
    for args in (("queue",), ("report", "rates"), ("tick",), ("projections", "rebuild")):
        hf.ok(*args)
    assert hf("subject", "show", "P2").code == 2


def test_g4_one_rule_for_arguments_answers_files_and_imported_cells(hf: Huifang, tmp_path: Path) -> None:
    """An ESC sequence (clears the operator's screen) is refused alike in an option, an answers
    file (JSON escape \\u001b) and an imported cell, each error naming where it was."""
    _completed_followup(hf)
    before = head(hf.db)
    _one_line(hf("subject", "add", "P9", "--name", "王\x1b[2J"), "--name:", "control character ESC at character 2")
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"recovery": 8, "satisfaction": "满意", "suggestion": "好\x1b[2J"}), encoding="utf-8")
    assert "\\u001b" in answers.read_text(encoding="utf-8")
    _one_line(hf("complete", "D1-1", "--answers", str(answers), actor="n1", now="2026-10-08T15:12+08:00"),
              "--answers", "suggestion", "control character ESC")
    cells = tmp_path / "p.csv"
    cells.write_text("id,name\nP8,王\x1b[2J\n", encoding="utf-8")
    _one_line(hf("subject", "import", str(cells), now="2026-10-08T15:13+08:00"),
              "row 2, column 'name'", "control character ESC")
    _one_line(hf("trigger", "discharge", "--subject", "P1", "--id", "D2", *DISCHARGE[:-1], "attending_doctor=d\x07r"),
              "--attr attending_doctor", "control character U+0007")
    assert head(hf.db) == before
    # free text may hold a tab or a line feed (a multi-line suggestion), one-line fields may not
    answers.write_text(json.dumps({"recovery": 8, "satisfaction": "满意", "suggestion": "第一行\n第二行\t完"}),
                       encoding="utf-8")
    done = hf.ok("complete", "D1-1", "--answers", str(answers), actor="n1", now="2026-10-08T15:14+08:00")
    assert done["status"] == "completed"
    _one_line(hf("subject", "add", "P7", "--name", "王\n五", now="2026-10-08T15:15+08:00"), "--name:", "line feed")


def test_g1_invalid_utf8_in_argv_is_exit_2_naming_the_option(hf: Huifang) -> None:
    """A real process whose argv holds bytes that are not UTF-8 (a GBK terminal typing 张三)."""
    name = "张三".encode("gb18030")
    cmd = [sys.executable, "-c", "import sys; from huifang.cli.main import main; main(sys.argv[1:])",
           "--db", hf.db, "--now", NOW, "subject", "add", "P1", "--name", name]
    p = subprocess.run(cmd, capture_output=True, env=cli_env(), timeout=120)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 2, err
    assert err.count("\n") == 1 and "--name: is not valid UTF-8 (byte 0xD5 at character 1)" in err, err
    assert "internal error" not in err
    assert hf("subject", "show", "P1").code == 2


def test_g6_calendar_import_is_held_to_the_same_rule(hf: Huifang, tmp_path: Path) -> None:
    """The official schedule is an import too: a NUL in its source, or year 9999, was stored."""
    hf.now = NOW
    before = head(hf.db)
    f = tmp_path / "2027.json"
    f.write_text(json.dumps({"year": 2027, "holidays": ["2027-01-01"], "source": "国办发明电\x00〔2026〕"}),
                 encoding="utf-8")
    _one_line(hf("calendar", "import", str(f)), "2027.json: source of 2027 holds the control character NUL")
    f.write_text(json.dumps({"year": 9999, "holidays": ["9999-01-01"], "source": "x"}), encoding="utf-8")
    _one_line(hf("calendar", "import", str(f)), "year 9999 is out of range")
    assert head(hf.db) == before
