"""A7 batch campaigns (批量回访): a request missing an element is returned with the missing names; a
complete one is reviewed and approved by other people, and approval plans every follow-up at once
(A3 batch window = the approved schedule), leaving out blacklisted clients (A9)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from huifang.core import clock
from huifang.projections import open_app
from tests.conftest import Huifang, StoreCache

NOW = "2026-10-09T09:00:00+08:00"
N = 55  # more than 50 subjects: a batch (A3)


@pytest.fixture
def clinic(hf: Huifang, store_cache: StoreCache) -> Huifang:
    hf.now = NOW
    return store_cache(hf, _clinic)


def _clinic(hf: Huifang) -> None:
    hf.ok("staff", "add", "ae-boss", "--name", "院长", "--role", "manager")
    hf.ok("staff", "add", "ae-ops", "--name", "运营总监", "--role", "manager", "--reports-to", "ae-boss")
    hf.ok("staff", "add", "ae-center", "--name", "回访主管", "--role", "supervisor", "--reports-to", "ae-ops")
    hf.ok("staff", "add", "ae-skin", "--name", "皮肤科主任", "--role", "supervisor", "--reports-to", "ae-ops")
    for a in ("m1", "m2", "m3"):
        hf.ok("staff", "add", a, "--name", a, "--role", "agent", "--reports-to", "ae-skin")
    app = open_app(hf.db)
    try:
        with clock.at(clock.parse_instant(NOW)):
            for i in range(1, N + 1):
                app.add_subject(f"V{i:03d}", f"客户{i}", [f"1390000{i:04d}"])
    finally:
        app.close()


def plan(**over: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "id": "C-AUTUMN", "title": "秋季光子嫩肤老客回访", "department": "skin",
        "targets": [{"subject": f"V{i:03d}", "purchases": [
            {"date": "2026-04-12", "item": "光子嫩肤", "reason": "色斑"}]} for i in range(1, N + 1)],
        "goal": {"metric": "re-visit bookings", "target": 12},
        "owner": "ae-skin", "executors": ["m1", "m2", "m3"],
        "schedule": {"start": "2026-10-12", "end": "2026-11-10"},
        "standard": "3 分钟内; 先关怀后介绍; 记录抗拒点",
        "execution_rules": "每人每天不超过 20 通; 拒绝者不再致电",
    }
    p.update(over)
    return {k: v for k, v in p.items() if v is not None}


def write(tmp_path: Path, data: dict, name: str = "campaign.json") -> str:
    p = tmp_path / name
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(p)


def test_a7_request_missing_elements_is_returned_with_their_names(clinic: Huifang, tmp_path: Path) -> None:
    bad = plan(goal={"metric": "bookings"}, standard=None, execution_rules="")
    bad["targets"][3]["purchases"] = []
    data = clinic.ok("campaign", "request", write(tmp_path, bad), actor="ae-skin")
    assert data["status"] == "returned"
    assert data["missing"] == ["purchase_history", "goal", "standard", "execution_rules"]
    assert any("V004" in d for d in data["details"])
    text = clinic("campaign", "request", write(tmp_path, plan(id="C-WINTER", owner=None,
                                                              schedule={"start": "2026-10-12"}), "other.json"),
                  json_out=False, actor="ae-skin")
    assert text.code == 0 and "returned (A7): missing owner, schedule" in text.out
    empty = clinic.ok("campaign", "request", write(tmp_path, {"id": "C-EMPTY"}, "e.json"), actor="ae-skin")
    assert empty["missing"] == ["targets", "goal", "owner", "schedule", "standard", "execution_rules"]
    # the return is an event; nothing is planned and a returned campaign cannot be approved
    shown = clinic.ok("campaign", "show", "C-AUTUMN")
    assert [(e["event"], e["actor"]) for e in shown["events"]] == [("Requested", "ae-skin"), ("Returned", "ae-skin")]
    assert shown["events"][1]["data"]["missing"] == data["missing"]
    listed = {c["id"]: c for c in clinic.ok("campaign", "list")}
    assert listed["C-AUTUMN"]["status"] == "returned" and listed["C-AUTUMN"]["missing"][0] == "purchase_history"
    r = clinic("campaign", "approve", "C-AUTUMN", actor="ae-ops")
    assert r.code == 2 and "returned" in r.err
    assert clinic.ok("queue", "--on", "2026-10-20") == []
    # resubmitted complete, it goes on
    again = clinic.ok("campaign", "request", write(tmp_path, plan()), actor="ae-skin")
    assert again["status"] == "requested" and again["missing"] == [] and len(again["returns"]) == 1


def test_a7_approved_campaign_plans_every_followup_at_once(clinic: Huifang, tmp_path: Path) -> None:
    clinic.ok("aesthetics", "blacklist", "V007", "--reason", "abusive", actor="ae-center")
    assert clinic.ok("campaign", "request", write(tmp_path, plan()), actor="ae-skin")["status"] == "requested"
    # nothing runs before review and approval; the requester signs neither
    r = clinic("campaign", "approve", "C-AUTUMN", actor="ae-ops")
    assert r.code == 2 and "must be reviewed first" in r.err
    r = clinic("campaign", "review", "C-AUTUMN", actor="ae-skin")
    assert r.code == 2 and "ae-skin requested campaign C-AUTUMN" in r.err
    r = clinic("campaign", "review", "C-AUTUMN", actor="m1")
    assert r.code == 2 and "may not review" in r.err
    assert clinic.ok("campaign", "review", "C-AUTUMN", actor="ae-center")["status"] == "reviewed"
    r = clinic("campaign", "approve", "C-AUTUMN", actor="ae-center")
    assert r.code == 2 and "may not approve" in r.err
    assert clinic.ok("queue", "--on", "2026-10-20") == []
    done = clinic.ok("campaign", "approve", "C-AUTUMN", actor="ae-ops")
    assert done["status"] == "approved" and done["approver"] == "ae-ops"
    assert len(done["followups"]) == N - 1
    assert done["skipped"] == [{"subject": "V007", "reason": "A9 blacklisted: abusive"}]
    fu = clinic.ok("show", "C-AUTUMN.V001-batch")
    assert (fu["visit_type"], fu["window_open"], fu["due"], fu["owner"]) == \
        ("batch", "2026-10-12T10:00:00+08:00", "2026-11-10T23:59:59+08:00", "m1")
    assert fu["meta"]["campaign"] == "C-AUTUMN" and fu["meta"]["purchases"][0]["item"] == "光子嫩肤"
    owners = [q["owner"] for q in clinic.ok("queue", "--on", "2026-10-20", "--limit", "0")]
    assert len(owners) == N - 1 and {owners.count(m) for m in ("m1", "m2", "m3")} <= {18}
    listed = clinic.ok("campaign", "list", "--status", "approved")
    assert [(c["id"], c["followups"], c["skipped"], c["reviewer"]) for c in listed] == \
        [("C-AUTUMN", N - 1, 1, "ae-center")]
    r = clinic("campaign", "approve", "C-AUTUMN", actor="ae-boss")
    assert r.code == 2 and "already approved" in r.err
    r = clinic("campaign", "request", write(tmp_path, plan()), actor="ae-skin")
    assert r.code == 2 and "already approved" in r.err
    # campaign follow-ups cannot be planned around the approval
    r = clinic("trigger", "campaign", "--subject", "V001", "--attr", "campaign=C-AUTUMN")
    assert r.code == 2 and "planned only by an approved campaign" in r.err


def test_a7_reviewer_returns_a_request(clinic: Huifang, tmp_path: Path) -> None:
    clinic.ok("campaign", "request", write(tmp_path, plan()), actor="ae-skin")
    back = clinic.ok("campaign", "review", "C-AUTUMN", "--return", "目标过低", actor="ae-center")
    assert back["status"] == "returned" and back["returns"][-1] == {"missing": [], "reason": "目标过低",
                                                                     "by": "ae-center"}


@pytest.mark.parametrize("over,fragment", [
    ({"owner": "nobody"}, "owner: staff 'nobody' is not registered"),
    ({"schedule": {"start": "2026-11-10", "end": "2026-10-12"}}, "schedule: end 2026-10-12 is before start"),
    ({"schedule": {"start": "12/10/2026", "end": "2026-11-10"}}, "schedule.start"),
    ({"id": "has space"}, "id: 'has space'"),
])
def test_a7_bad_request_is_an_error_and_writes_nothing(clinic: Huifang, tmp_path: Path, over: dict,
                                                       fragment: str) -> None:
    r = clinic("campaign", "request", write(tmp_path, plan(**over)), actor="ae-skin")
    assert r.code == 2 and fragment in r.err and len(r.err.strip().splitlines()) == 1
    assert clinic.ok("campaign", "list") == []


def test_a7_unknown_target_and_bad_file(clinic: Huifang, tmp_path: Path) -> None:
    p = plan()
    p["targets"].append({"subject": "NOPE", "purchases": [{"date": "2026-01-01", "item": "x", "reason": "y"}]})
    r = clinic("campaign", "request", write(tmp_path, p), actor="ae-skin")
    assert r.code == 2 and "targets: subject 'NOPE' does not exist" in r.err
    f = tmp_path / "broken.json"
    f.write_text("{not json", encoding="utf-8")
    r = clinic("campaign", "request", str(f))
    assert r.code == 2 and "not valid JSON" in r.err


def test_a1_a3_activity_notice_up_to_50_then_a_campaign(clinic: Huifang) -> None:
    app = open_app(clinic.db)
    with clock.at(clock.parse_instant(NOW)):
        for i in range(1, 51):
            app.receive_trigger("aesthetics.activity", f"V{i:03d}", {"activity": "专家坐诊 10-15", "owner": "m1"})
    f = clinic.ok("queue", "--on", "2026-10-09")[0]
    assert (f["visit_type"], f["window_open"][:10], f["due"][:10], f["owner"]) == \
        ("activity", "2026-10-09", "2026-10-13", "m1")  # marketing: 5 days
    r = clinic("trigger", "activity", "--subject", "V051", "--attr", "activity=专家坐诊 10-15", "--attr", "owner=m1")
    assert r.code == 2 and "request a campaign" in r.err
    assert len(clinic.ok("trigger", "activity", "--subject", "V051", "--attr", "activity=双十一",
                         "--attr", "owner=m1")["followups"]) == 1
    clinic.ok("aesthetics", "blacklist", "V052", "--reason", "abusive", actor="ae-center")
    d = clinic.ok("trigger", "activity", "--subject", "V052", "--attr", "activity=双十一", "--attr", "owner=m1")
    assert d["followups"] == [] and "A9" in d["skipped"][0]["reason"]


def test_a7_campaigns_need_an_enabled_plugin_with_a_campaign_policy(db: str, tmp_path: Path) -> None:
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[huifang]\nplugins = ["medical"]\n', encoding="utf-8")
    hf = Huifang(db, now=NOW, config=str(cfg))
    hf.ok("init")
    r = hf("campaign", "request", write(tmp_path, plan()))
    assert r.code == 2 and "no enabled plugin runs batch campaigns" in r.err
    r = hf("campaign", "request", write(tmp_path, plan(plugin="medical"), "named.json"))
    assert r.code == 2 and "'medical' does not run campaigns" in r.err
    assert hf.ok("campaign", "list") == []
