"""Imported files that must never damage the store: mixed or foreign encodings and conflicting
duplicate rows (G1 subject file), on SQLite and PostgreSQL.

The attacks: a CSV whose rows mix UTF-8 and GB18030 (two exports pasted together) was read as
GB18030 and its UTF-8 rows stored as mojibake ("寮犱笁" for 张三) with exit 0; a Big5 file did
the same; and a second row with the same id but other data was silently dropped. Now mixed or
undecodable files are refused naming the rows, a file charset-normalizer reads far better in another
encoding is refused in `--encoding auto`, and an id repeated with other data is a bad row naming
both rows (an identical repeat stays a no-op, counted as "repeated in the file").
"""
from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import Huifang
from tests.scale_support import head

NOW = "2026-10-20T10:00+08:00"
HEADER = "id,name,phone,city\n"


def _refused(r, *needles: str) -> None:
    assert r.code == 2, (r.code, r.out, r.err)
    assert "internal error" not in r.err, r.err
    last = r.err.strip().splitlines()[-1]
    for n in needles:
        assert n in last, (n, r.err)


def test_g1_mixed_utf8_and_gb18030_rows_are_refused_naming_the_rows(hf: Huifang, tmp_path: Path) -> None:
    hf.now = NOW
    f = tmp_path / "合并.csv"
    f.write_bytes(HEADER.encode() + "P1,王,13800138000,杭州\n".encode("gb18030")
                  + "P2,张三,13900139000,上海\n".encode() + "P3,李四,13700137000,北京\n".encode("gb18030"))
    before = head(hf.db)
    _refused(hf("subject", "import", str(f)), "mixes text encodings", "row 2 is GB18030 and row 3 is UTF-8")
    _refused(hf("subject", "import", str(f), "--encoding", "gb18030", "--skip-bad"), "row 2 is GB18030 and row 3")
    # mostly UTF-8 with one GB18030 row: the same refusal, the other way round
    g = tmp_path / "utf8-then-gb.csv"
    g.write_bytes((HEADER + "P1,张三,13800138000,杭州\nP2,李四,13900139000,上海\n").encode()
                  + "P3,王五,13700137000,北京\n".encode("gb18030"))
    _refused(hf("subject", "import", str(g)), "row 4 is GB18030 and row 2 is UTF-8")
    assert head(hf.db) == before and hf("subject", "show", "P2").code == 2
    # the same rows in one encoding import as they are
    one = tmp_path / "gb.csv"
    one.write_bytes((HEADER + "P1,王,13800138000,杭州\nP2,张三,13900139000,上海\n").encode("gb18030"))
    assert hf.ok("subject", "import", str(one))["imported"] == 2
    assert hf.ok("subject", "show", "P2")["name"] == "张三"


def test_g1_undecodable_bytes_are_refused_naming_the_row(hf: Huifang, tmp_path: Path) -> None:
    hf.now = NOW
    f = tmp_path / "broken.csv"
    f.write_bytes(HEADER.encode() + "P1,张三,13800138000,杭州\n".encode("gb18030") + b"P2,\xff\xfe,1,x\n")
    before = head(hf.db)
    _refused(hf("subject", "import", str(f)), "row 3 is not GB18030 text (byte 0xFF)")
    _refused(hf("subject", "import", str(f), "--encoding", "utf-8"), "row 2 is not UTF-8 text (byte 0xD5)",
             "--encoding gb18030")
    utf16 = tmp_path / "unicode.txt.csv"
    utf16.write_bytes((HEADER + "P1,张三,13800138000,杭州\n").encode("utf-16"))
    _refused(hf("subject", "import", str(utf16)), "is UTF-16 text")
    assert head(hf.db) == before


def test_g1_a_big5_file_is_not_read_as_gb18030(hf: Huifang, tmp_path: Path) -> None:
    """Big5 (traditional Chinese) bytes decode as GB18030 too — as nonsense (張三 -> 眎)."""
    hf.now = NOW
    f = tmp_path / "台北.csv"
    f.write_bytes((HEADER + "P1,張三,13800138000,臺北市\nP2,陳小明,13900139000,高雄市\n").encode("big5"))
    before = head(hf.db)
    _refused(hf("subject", "import", str(f)), "neither UTF-8 nor GB18030", "big5", "--encoding gb18030")
    assert head(hf.db) == before


def test_g1_an_id_repeated_with_other_data_is_a_bad_row_naming_both_rows(hf: Huifang, tmp_path: Path) -> None:
    hf.now = NOW
    f = tmp_path / "dup.csv"
    f.write_text(HEADER + "P1,张三,13800138000,杭州\nP2,李四,13900139000,上海\nP1,张叁,13800138000,苏州\n"
                 "P3,王五,13700137000,北京\nP3,王五,13700137000,北京\n", encoding="utf-8")
    before = head(hf.db)
    r = hf("subject", "import", str(f))
    _refused(r, "row 4, column 'id'", "id 'P1' is also in row 2 with other data (name, city)")
    assert head(hf.db) == before
    ok = hf.ok("subject", "import", str(f), "--skip-bad")
    # the identical repeat of P3 is a no-op; the conflicting P1 row is rejected, the first one kept
    assert (ok["imported"], ok["duplicates"], ok["skipped_bad"]) == (3, 1, 1)
    assert hf.ok("subject", "show", "P1")["name"] == "张三"
    with open(ok["reject_file"], encoding="utf-8-sig", newline="") as fh:
        rejects = list(csv.reader(fh))
    assert [row[0] for row in rejects[1:]] == ["4"] and "row 2" in rejects[1][2]


def test_g1_trigger_rows_with_one_id_and_other_data_are_bad_rows(hf: Huifang, tmp_path: Path) -> None:
    hf.now = NOW
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三")
    f = tmp_path / "discharges.csv"
    f.write_text("id,subject,at,department,diagnosis,responsible_nurse,attending_doctor\n"
                 "D1,P1,2026-10-08 09:30,心内科,高血压,n1,王医生\n"
                 "D1,P1,2026-10-08 09:30,骨科,高血压,n1,王医生\n", encoding="utf-8")
    before = head(hf.db)
    _refused(hf("trigger", "import", str(f), "--kind", "medical.discharge"),
             "row 3, column 'id'", "id 'D1' is also in row 2 with other data (department)")
    assert head(hf.db) == before
    # the same row twice, far apart (other batches between): a repeat, imported once
    rows = "".join(f"D{i},P1,2026-10-08 09:30,心内科,高血压,n1,王医生\n" for i in range(10, 30))
    h = tmp_path / "repeat.csv"
    h.write_text("id,subject,at,department,diagnosis,responsible_nurse,attending_doctor\n" + rows
                 + "D10,P1,2026/10/8 9:30,心内科,高血压,n1,王医生\n", encoding="utf-8")
    ok = hf.ok("trigger", "import", str(h), "--kind", "medical.discharge", "--batch", "4")
    assert (ok["imported"], ok["duplicates"], ok["bad"]) == (20, 1, [])
    before = head(hf.db)
    # two trigger rows registering one new subject differently
    g = tmp_path / "new.csv"
    g.write_text("id,subject,at,subject_name,department,diagnosis,responsible_nurse,attending_doctor\n"
                 "D2,P9,2026-10-08 09:30,赵六,心内科,高血压,n1,王医生\n"
                 "D3,P9,2026-10-09 09:30,钱七,心内科,高血压,n1,王医生\n", encoding="utf-8")
    _refused(hf("trigger", "import", str(g), "--kind", "medical.discharge"),
             "row 3, column 'subject'", "subject 'P9' is also registered in row 2 with other data (subject_name)")
    assert head(hf.db) == before
