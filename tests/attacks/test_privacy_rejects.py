"""Import reject files hold plaintext personal data (G8, G10): the bad rows as they were, ID numbers
and phones included. Before this rule they were written with the process's umask (world-readable
0644 on most systems) and nothing in huifang knew they existed. Now they are owner-only (0600, an
existing file narrowed too) and `retention report` lists every one still on disk."""
from __future__ import annotations

import os
import stat
from pathlib import Path

ID_NO = "110101198001010011"


def export(tmp_path: Path) -> Path:
    f = tmp_path / "his_export.csv"
    f.write_text("id,name,phone,身份证号\n"
                 "H1,张三,13800000001,110101199003071234\n"
                 f"H2,李四,not-a-phone,{ID_NO}\n", encoding="utf-8")
    return f


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_g10_import_rejects_are_owner_only_and_listed_by_retention(hf, tmp_path):
    old = os.umask(0o022)  # an ordinary umask: files are world-readable unless huifang says otherwise
    try:
        src = export(tmp_path)
        r = hf.ok("subject", "import", str(src), "--skip-bad")
    finally:
        os.umask(old)
    rejects = Path(r["reject_file"])
    assert rejects.is_file() and ID_NO in rejects.read_text(encoding="utf-8-sig")
    assert mode(rejects) == 0o600
    listed = hf.ok("retention", "report")["plaintext_files"]
    assert [(f["path"], f["what"], f["rows"], f["exists"], f["mode"]) for f in listed] == [
        (str(rejects.resolve()), "import rejects", 1, True, "0o600")]
    text = hf("retention", "report", json_out=False).out
    assert str(rejects.resolve()) in text and "plaintext personal data" in text
    rejects.unlink()  # deleted once fixed: the report says it is gone
    assert hf.ok("retention", "report")["plaintext_files"][0]["exists"] is False


def test_g10_an_existing_world_readable_reject_file_is_narrowed(hf, tmp_path):
    src = export(tmp_path)
    target = tmp_path / "rejects.csv"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o644)
    hf.ok("subject", "import", str(src), "--skip-bad", "--reject", str(target), "--force")
    assert mode(target) == 0o600 and ID_NO in target.read_text(encoding="utf-8-sig")
