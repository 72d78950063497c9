"""Bulk import: CSV and XLSX, UTF-8 and GB18030, a column-mapping file,
idempotent re-runs, bad rows reported with row/column/why and all-or-nothing by default,
--skip-bad with a reject file. SQLite and PostgreSQL via the `hf` fixture."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.scale_support import NOW, head, topic_counts, write_discharges, write_subjects

MAP = """
kind = "medical.discharge"
[columns]
id = "住院号"
subject = "病案号"
at = "出院时间"
subject_name = "姓名"
subject_phone = "联系电话"
[attributes]
department = "科室"
diagnosis = "出院诊断"
responsible_nurse = "责任护士"
attending_doctor = "主治医生"
"""
HEADERS = ["住院号", "病案号", "姓名", "联系电话", "出院时间", "科室", "出院诊断", "责任护士", "主治医生", "备注"]
ROWS = [
    ["Z1001", "B01", "张三", "13800138000", "2026/10/8 9:30", "心内科", "高血压", "n1", "王医生", "无"],
    ["Z1002", "B02", "李四", "13900139000", "2026年10月9日", "骨科", "骨折", "n1", "李医生", ""],
    ["Z1003", "B03", "王五", "021-55556666", "2026-10-09 14:05:00", "眼科", "白内障", "n1", "赵医生", ""],
]


@pytest.fixture
def ward(hf, tmp_path):
    hf.now = NOW
    hf.ok("staff", "add", "n1", "--name", "护士一", "--role", "agent")
    (tmp_path / "map.toml").write_text(MAP, encoding="utf-8")
    return hf


def _csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        w.writerows(rows)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_import_his_export_with_mapping_registers_subjects_and_plans_m1(ward, tmp_path, encoding):
    f = _csv(tmp_path / "出院.csv", ROWS, encoding)
    data = ward.ok("trigger", "import", str(f), "--map", str(tmp_path / "map.toml"))
    assert (data["imported"], data["rows"], data["bad"]) == (3, 3, [])
    assert data["encoding"] == ("utf-8-sig" if encoding == "utf-8" else "gb18030")
    subj = ward.ok("subject", "show", "B02")
    assert (subj["name"], subj["phones"]) == ("李四", ["13900139000"])
    fu = ward.ok("show", "Z1001-1")
    # M1: the window opens 7 days after discharge (2026-10-08 -> 10-15, due 10-19); imported on 10-20 it had
    # passed, so it is a catch-up call from the import (A4/G6); the plan is exactly the one `huifang trigger`
    # makes for the same event
    assert fu["meta"]["late_entry"]["window_open"].startswith("2026-10-15") and fu["owner"] == "n1"
    assert fu["window_open"].startswith("2026-10-20")
    ward.ok("subject", "add", "C1", "--name", "对照")
    one = ward.ok("trigger", "medical.discharge", "--subject", "C1", "--id", "C1D", "--at", "2026-10-08T09:30",
                  "--attr", "department=心内科", "--attr", "diagnosis=高血压", "--attr", "responsible_nurse=n1",
                  "--attr", "attending_doctor=王医生")["followups"][0]
    assert (one["window_open"], one["due"], one["visit_type"]) == (fu["window_open"], fu["due"], fu["visit_type"])


def test_import_xlsx_with_excel_cells(ward, tmp_path):
    import datetime

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "出院"
    ws.append(HEADERS)
    ws.append(["Z2001", "B21", "赵六", 13800138000, datetime.datetime(2026, 10, 8, 9, 30), "心内科", "高血压", "n1",
               "王医生", None])
    ws.append([None] * len(HEADERS))  # Excel's trailing empty rows are ignored
    f = tmp_path / "出院.xlsx"
    wb.save(f)
    data = ward.ok("trigger", "import", str(f), "--map", str(tmp_path / "map.toml"), "--sheet", "出院")
    assert data["imported"] == 1
    assert ward.ok("subject", "show", "B21")["phones"] == ["13800138000"]  # a number cell, not 1.38e10
    assert ward.ok("show", "Z2001-1")["meta"]["late_entry"]["window_open"].startswith("2026-10-15")  # A4/G6


def test_rerun_adds_nothing_and_subjects_without_mapping(ward, tmp_path):
    subjects = write_subjects(tmp_path / "subjects.csv", 40)
    assert ward.ok("subject", "import", str(subjects))["imported"] == 40
    assert ward.ok("subject", "show", "P7")["attributes"] == {"city": "杭州"}
    triggers = write_discharges(tmp_path / "d.csv", 40)
    first = ward.ok("trigger", "import", str(triggers), "--kind", "medical.discharge", "--batch", "7")
    assert (first["imported"], first["batches"]) == (40, 6)
    before = head(ward.db)
    again = ward.ok("trigger", "import", str(triggers), "--kind", "medical.discharge")
    assert again["already_imported"] and head(ward.db) == before
    # the same rows in another file (another digest): every id is found, nothing added
    copy = tmp_path / "copy.csv"
    copy.write_bytes(triggers.read_bytes() + b"\n")
    other = ward.ok("trigger", "import", str(copy), "--kind", "medical.discharge")
    assert (other["imported"], other["existing"]) == (0, 40) and head(ward.db) == before
    counts = topic_counts(ward.db)
    assert counts["huifang:Trigger.Received"] == 40 and counts["huifang:Subject.Registered"] == 40


def test_bad_rows_import_nothing_by_default_and_name_row_column_why(ward, tmp_path):
    rows = [
        *ROWS,
        ["Z1004", "B04", "钱七", "13800138000", "2026-13-45", "心内科", "高血压", "n1", "王医生", ""],
        ["Z1005", "B05", "", "13800138000", "2026-10-09", "心内科", "高血压", "n1", "王医生", ""],
        ["Z1006", "B06", "孙八", "13800138000", "2026-10-09", "", "高血压", "n1", "王医生", ""],
        ["Z1007", "B07", "周九", "call me", "2026-10-09", "心内科", "高血压", "n1", "王医生", ""],
        ["Z1008", "B08", "吴十", "13800138000", "2026-10-30", "心内科", "高血压", "n1", "王医生", ""],
    ]
    f = _csv(tmp_path / "bad.csv", rows, "gb18030")
    before = head(ward.db)
    r = ward("trigger", "import", str(f), "--map", str(tmp_path / "map.toml"))
    assert r.code == 2 and "Traceback" not in r.err
    assert "5 bad row(s)" in r.err and "nothing imported" in r.err
    report = r.data
    got = {(b["row"], b["column"]) for b in report["bad"]}
    assert got == {(5, "出院时间"), (6, "姓名"), (7, "科室"), (8, "联系电话"), (9, "出院时间")}
    why = {b["row"]: b["why"] for b in report["bad"]}
    assert "not a date" in why[5] and "after --now" in why[9]
    assert "row 8, column '联系电话'" in r.err
    assert head(ward.db) == before  # nothing written, not even the good rows
    assert ward("subject", "show", "B01").code == 2

    ok = ward.ok("trigger", "import", str(f), "--map", str(tmp_path / "map.toml"), "--skip-bad")
    assert (ok["imported"], ok["skipped_bad"]) == (3, 5)
    with open(ok["reject_file"], encoding="utf-8-sig", newline="") as fh:
        rejects = list(csv.reader(fh))
    assert rejects[0][:4] == ["row", "column", "error", "住院号"]
    assert [r[0] for r in rejects[1:]] == ["5", "6", "7", "8", "9"] and rejects[2][3] == "Z1005"


def test_mapping_and_file_errors_are_one_line(ward, tmp_path):
    f = _csv(tmp_path / "x.csv", ROWS, "utf-8")
    bad_map = tmp_path / "bad.toml"
    bad_map.write_text('[columns]\nsubject = "没有这列"\n', encoding="utf-8")
    for args, needle in [
        (("trigger", "import", str(f), "--map", str(bad_map)), "没有这列"),
        (("trigger", "import", str(tmp_path / "missing.csv")), "does not exist"),
        (("trigger", "import", str(f)), "no column for subject"),
        (("subject", "import", str(f), "--map", str(tmp_path / "none.toml")), "--map"),
    ]:
        r = ward(*args)
        assert r.code == 2 and needle in r.err and r.err.count("\n") == 1, r.err


def test_unknown_subject_is_a_bad_row(ward, tmp_path):
    f = write_discharges(tmp_path / "d.csv", 3)
    r = ward("trigger", "import", str(f), "--kind", "medical.discharge")
    assert r.code == 2 and "subject 'P0' is not registered" in r.err
    assert head(ward.db) <= 3  # only the clock mode (init) and the staff member


def test_a_subject_with_many_triggers_reads_the_file_a_fixed_number_of_times(ward, tmp_path, monkeypatch):
    """One subject's triggers are saved a row a batch (a plan may read the subject's earlier ones); each
    batch must not read the whole file again (it did: 1,000 rows were parsed 1,000 times)."""
    from huifang.core.importer import Source

    passes = []
    rows = Source.rows

    def counted(self):
        passes.append(1)
        return rows(self)

    monkeypatch.setattr(Source, "rows", counted)
    ward.ok("subject", "add", "P1", "--name", "张三")
    path = tmp_path / "d.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "subject", "at", "department", "diagnosis", "responsible_nurse", "attending_doctor"])
        w.writerows([f"D{i}", "P1", f"2026-10-0{1 + i % 9} 09:00", "心内科", "高血压", "n1", "王医生"] for i in range(30))
    got = ward.ok("trigger", "import", str(path), "--kind", "medical.discharge")
    assert (got["imported"], got["batches"]) == (30, 30)  # a row a batch: each plan sees the ones before
    assert len(passes) <= 2, f"the file was read {len(passes)} times for 30 rows"


def test_a_files_rows_as_the_import_reads_them_blank_short_and_long(tmp_path):
    """Blank lines (Excel leaves some at the end, or cells of spaces) are skipped; a short row is padded
    with empty cells; a long row is flagged only when its extra cells hold something."""
    from huifang.core.importer import Source

    f = tmp_path / "rows.csv"
    f.write_text("id,name,phone\nP1,王伟,138\n\n , ,\t\nP2,李娜\nP3,张三,139,\nP4,赵六,137, x \n", encoding="utf-8")
    rows = list(Source(str(f)).rows())
    assert [(n, rec) for n, rec, _ in rows] == [
        (2, {"id": "P1", "name": "王伟", "phone": "138"}),
        (5, {"id": "P2", "name": "李娜", "phone": ""}),
        (6, {"id": "P3", "name": "张三", "phone": "139"}),
        (7, {"\0extra": "1", "id": "P4", "name": "赵六", "phone": "137"}),
    ]
    assert [cells for _, _, cells in rows] == [["P1", "王伟", "138"], ["P2", "李娜", ""], ["P3", "张三", "139"],
                                               ["P4", "赵六", "137", " x "]]
