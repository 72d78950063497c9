"""Rules a bulk import must keep like triggers typed one by one (A7, P6): the marketing batch limit,
and a `kind` attribute column when every row's trigger kind is given with --kind."""
from __future__ import annotations

from pathlib import Path

from tests.test_core_lifecycle import head

NOW = "2026-10-09T09:00:00+08:00"


def _file(tmp_path: Path, name: str, text: str) -> str:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return str(f)


def test_A7_import_of_an_activity_beyond_the_batch_limit_needs_an_approved_campaign(hf, tmp_path):
    hf.now = NOW
    hf.config = _file(tmp_path, "huifang.toml", "[plugins.aesthetics]\nbatch_threshold = 3\n")  # A3: 50 by default
    hf.ok("staff", "add", "m1", "--name", "市场专员", "--role", "agent")
    subjects = _file(tmp_path, "clients.csv", "id,name,phone\n" + "".join(
        f"V{i:03d},客户{i},1390000{i:04d}\n" for i in range(1, 6)))
    assert hf.ok("subject", "import", subjects)["imported"] == 5
    rows = "".join(f"A-{i:03d},V{i:03d},专家坐诊 10-15,m1\n" for i in range(1, 6))
    triggers = _file(tmp_path, "activity.csv", "id,subject,activity,owner\n" + rows)
    before = head(hf)
    r = hf("trigger", "import", triggers, "--kind", "activity")
    assert r.code == 2 and "2 bad row(s)" in r.err and "row 5" in r.err and "request a campaign" in r.err
    assert head(hf) == before  # nothing imported
    done = hf.ok("trigger", "import", triggers, "--kind", "activity", "--skip-bad")
    assert (done["imported"], done["skipped_bad"]) == (3, 2)  # the limit holds across the file
    # and across files and hand-typed triggers alike
    r = hf("trigger", "activity", "--subject", "V005", "--attr", "activity=专家坐诊 10-15", "--attr", "owner=m1")
    assert r.code == 2 and "request a campaign" in r.err


def test_P6_import_kind_column_is_an_attribute_when_kind_is_given(hf, tmp_path):
    hf.now = NOW
    hf.ok("subject", "add", "H1", "--name", "业主一", "--phone", "13900000001")
    hf.ok("subject", "add", "H2", "--name", "业主二", "--phone", "13900000002")
    f = _file(tmp_path, "activities.csv", "id,subject,at,name,kind\n"
                                    "E1,H1,2026-10-08 10:00,中秋游园会,activity\n"
                                    "E2,H2,2026-10-08 10:00,社区通讯,publication\n")
    data = hf.ok("trigger", "import", f, "--kind", "activity_held")
    assert (data["imported"], data["bad"]) == (2, [])
    attrs = hf.ok("history", "trigger:E2")["state"]["attributes"]
    assert (attrs["kind"], attrs["name"]) == ("publication", "社区通讯")
