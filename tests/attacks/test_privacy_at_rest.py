"""Personal data at rest (G8, G10): the default is encrypted. A hospital export's own columns
(身份证号, 手机, 备注), trigger attributes the plugin does not declare codes, and every free-text reason
(reassignment, cancellation, exemption statement, read reason, QA note, a ticket category typed as
text, the erasure's reason and legal order) are unreadable in the raw store — the SQLite file read
byte by byte, PostgreSQL printed by `psql` — and in `audit export`, readable to whoever may read
them, and gone after an erasure; codes the reports count stay plain.

Before this rule only the name, phones, email and a fixed list of attribute names were encrypted:
every value below sat in the store in plaintext, was exported by `audit export`, and survived
`subject erase`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.attacks.privacy_kit import leaks, raw_bytes
from tests.audit_kit import DISCHARGE, ward

ID_NO, MOBILE, REMARK = "110101199003071234", "13911112222", "家属要求只在周末联系"
DIAGNOSIS = "冠心病三支病变伴心功能不全"
REASSIGN, CANCEL = "王护士本周休假交给李护士", "家属来电说已转到协和医院"
CATEGORY, QA_NOTE = "张三投诉护士态度", "录音里护士念出了患者住址"
READ_REASON, STATEMENT = "核对身份证 110101199003071234", "声明书 王五本人签字 2026-88"
LOST = "家属说患者已搬去深圳女儿家"
ERASE_REASON, ORDER = "本人申请 2026-0917", "(2026)京0108民初99号"
LATER = "2026-10-09T09:00+08:00"
SECRETS = [ID_NO, MOBILE, REMARK, DIAGNOSIS, REASSIGN, CANCEL, CATEGORY, QA_NOTE, READ_REASON, STATEMENT, LOST]


@pytest.fixture
def clinic(hf, store_cache):
    return store_cache(hf, _clinic)


def _clinic(hf) -> None:
    ward(hf)  # P1 (address), D1-1 completed by n1 with a note and a free-text suggestion
    hf.ok("subject", "add", "P2", "--name", "赵六", "--attr", f"身份证号={ID_NO}", "--attr", f"手机={MOBILE}",
          "--attr", f"备注={REMARK}", "--attr", "vip=true")
    hf.ok("trigger", "discharge", "--subject", "P2", "--id", "D2", "--attr", "department=cardiology",
          "--attr", f"diagnosis={DIAGNOSIS}", "--attr", "responsible_nurse=n1", "--attr", "attending_doctor=dr1")
    hf.ok("staff", "add", "n2", "--name", "李护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    hf.ok("reassign", "D2-1", "--to", "n2", "--reason", REASSIGN, actor="hn", now="2026-10-08T09:00+08:00")
    hf.ok("close", "D2-1", "--cancel", CANCEL, actor="n2", now="2026-10-08T09:30+08:00")
    hf.ok("subject", "add", "P4", "--name", "钱七")
    hf.ok("trigger", "discharge", "--subject", "P4", "--id", "D4", "--at", "2026-09-21T09:00+08:00", *DISCHARGE)
    for at in ("2026-09-28T10:40+08:00", "2026-09-28T15:40+08:00", "2026-09-29T10:40+08:00"):  # G5: 3 slots
        hf.ok("attempt", "D4-1", "--channel", "phone", "--outcome", "no_answer", actor="n1", now=at)
    hf.ok("close", "D4-1", "--lost", "moved", "--note", LOST, actor="n1", now="2026-09-29T10:50+08:00")
    hf.ok("ticket", "open", "D1-1", "--category", CATEGORY, "--dept", "cardiology", actor="n1",
          now="2026-10-08T16:00+08:00")
    hf.ok("ticket", "open", "D1-1", "--category", "billing", "--dept", "cardiology", actor="n1",
          now="2026-10-08T16:05+08:00")
    hf.ok("qa", "record", "D1-1", "--result", "fail", "--note", QA_NOTE, actor="hn", now="2026-10-08T17:00+08:00")
    hf.ok("subject", "show", "P2", "--reason", READ_REASON, now="2026-10-08T17:10+08:00")
    hf.ok("subject", "add", "P3", "--name", "王五")
    # F6/G7: the no-follow-up statement signed at purchase, on the policy; it closes the callback as exempt
    hf.ok("trigger", "finance.policy_issued", "--subject", "P3", "--id", "F3", "--attr", "agent=ag9", "--attr",
          "branch=b1", "--attr", "sales_channel=agency", "--attr", f"no_followup_statement={STATEMENT}",
          now="2026-10-08T17:20+08:00")
    hf.ok("report", "rates", now="2026-10-08T17:21+08:00")  # the views caught up: they are in the raw store too


def test_g8_no_subject_attribute_or_free_text_reason_is_plaintext_in_the_raw_store(clinic):
    assert leaks(clinic.db, *SECRETS) == []
    raw = raw_bytes(clinic.db)
    assert b"pii:1:P2:" in raw  # what is there instead
    # codes the reports and history look-ups need stay plain: department, coded diagnosis, category
    for code in ("cardiology", "CHD", "billing"):
        assert code.encode() in raw
    readable_to_whoever_may_read(clinic)


def test_g8_audit_export_holds_no_plaintext_attribute_or_reason(clinic, tmp_path: Path):
    out = tmp_path / "log.jsonl"
    clinic.ok("audit", "export", "--out", str(out), now=LATER)
    text = out.read_text(encoding="utf-8")
    escaped = text.encode("utf-8")
    for secret in SECRETS:
        assert secret not in text and json.dumps(secret).strip('"').encode() not in escaped, secret


def readable_to_whoever_may_read(clinic):
    """Encrypted at rest, not lost: whoever may read sees every value in plaintext."""
    s = clinic.ok("subject", "show", "P2", now=LATER)
    assert s["attributes"] == {"身份证号": ID_NO, "手机": MOBILE, "备注": REMARK, "vip": "true"}
    fu = clinic.ok("show", "D2-1", now=LATER)
    assert fu["closed_reason"] == CANCEL and fu["meta"]["diagnosis"] == DIAGNOSIS
    events = {e["event"]: e["data"] for e in clinic.ok("history", "D2-1", now=LATER)["events"]}
    assert events["Reassigned"]["reason"] == REASSIGN
    trig = clinic.ok("history", "trigger:D2", now=LATER)["state"]
    assert trig["attributes"]["diagnosis"] == DIAGNOSIS and trig["attributes"]["department"] == "cardiology"
    reads = clinic.ok("audit", "reads", "--subject", "P2", now=LATER)["reads"]
    assert READ_REASON in [r["reason"] for r in reads]
    assert clinic.ok("history", "trigger:F3", now=LATER)["state"]["attributes"]["no_followup_statement"] == STATEMENT
    assert clinic.ok("show", "F3-policy", now=LATER)["closed_reason"] == f"signed statement at purchase: {STATEMENT}"
    assert clinic.ok("ticket", "show", "TK-D1-1-1", now=LATER)["category"] == CATEGORY


def test_g8_reports_count_codes_and_free_text_without_showing_it(clinic):
    rows = clinic.ok("report", "pareto", "--from", "2026-10-01", "--to", "2026-10-31", now=LATER)["rows"]
    assert sorted(r["cause"] for r in rows) == ["(free text)", "billing"]
    assert CATEGORY not in json.dumps(rows, ensure_ascii=False)
    lost = clinic.ok("report", "lost", "--from", "2026-10-01", "--to", "2026-10-31", now=LATER)["rows"]
    assert [(r["reason"], r["lost"]) for r in lost] == [("moved", 1)]  # G14: a code; the words are the note
    assert clinic.ok("show", "D4-1", now=LATER)["closed_note"] == LOST


def test_g10_erasure_makes_attributes_and_reasons_unreadable_for_good(clinic):
    e = clinic.ok("subject", "erase", "P2", "--reason", ERASE_REASON, "--legal-order", ORDER, now=LATER)
    assert e["erased"] and e["legal_order"] == ORDER  # told to the operator once, never stored readable
    s = clinic.ok("subject", "show", "P2", now=LATER)
    assert set(s["attributes"].values()) == {"[erased]"}
    fu = clinic.ok("show", "D2-1", now=LATER)
    assert fu["closed_reason"] == "[erased]" and fu["meta"]["diagnosis"] == "[erased]"
    assert fu["status"] == "cancelled" and fu["department"] == "cardiology"  # the structure stays
    events = clinic.ok("history", "P2", now=LATER)["events"]
    reassigned = next(x for x in events if x["event"] == "Reassigned")
    erased = next(x for x in events if x["event"] == "Erased")
    assert reassigned["data"]["reason"] == "[erased]"
    assert erased["data"]["reason"] == "[erased]" and erased["data"]["legal_order"] == "[erased]"
    assert clinic.ok("audit", "reads", "--subject", "P2", now=LATER)["reads"][0]["reason"] == "[erased]"
    assert leaks(clinic.db, ERASE_REASON, ORDER, *SECRETS) == []
    assert clinic.ok("audit", "verify", now=LATER)["ok"]


def test_g8_plugins_declare_codes_and_the_rest_of_a_trigger_is_encrypted(clinic):
    """A trigger attribute the plugin does not declare a code (a diagnosis written out) is a token in
    the views plugins read (history), while declared codes stay plain for them."""
    from huifang.projections import open_app

    app = open_app(clinic.db)
    try:
        app.projector.catch_up()
        rows = {r["code"]: r for r in app.history.triggers("P2")}
    finally:
        app.close()
    attrs = rows["D2"]["attributes"]
    assert attrs["diagnosis"].startswith("pii:1:P2:")
    assert (attrs["department"], attrs["responsible_nurse"]) == ("cardiology", "n1")


def test_g8_declaring_an_unknown_attribute_a_code_is_refused():
    from pydantic import BaseModel, ValidationError

    from huifang.core.plugin_api import TriggerKind

    class Attrs(BaseModel):
        unit: str

    with pytest.raises(ValidationError, match="unknown attribute"):
        TriggerKind(name="x", attributes=Attrs, codes=["unit", "adress"])
