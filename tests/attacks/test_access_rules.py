"""Access-control gaps closed by the policy table (core/policy.py), each as the attack that worked:

- `subject optout` / `subject exempt` were open to any writer of any department, sales and admins
  included, and printed the subject's name and phone without a recorded read; `exempt` (F6) closed
  every open follow-up on anyone's word;
- an agent recorded a service event naming themself the responsible nurse, then read the patient's file
  and earlier history;
- sales resolved tickets, sales and admins recorded quality checks (G17), a locked agent (A4) still
  opened tickets, any writer bulk-imported service events.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.audit_kit import DISCHARGE, NAME, PHONE, ward
from tests.testkit import install_kit

LATER = "2026-10-08T16:00+08:00"
P2_NAME, P2_PHONE = "李四", "13900000002"


def own(nurse: str, dept: str = "cardiology") -> list[str]:
    return [a.replace("responsible_nurse=n1", f"responsible_nurse={nurse}").replace("cardiology", dept)
            for a in DISCHARGE]


def staff(hf: Any) -> None:
    for args in (["s2", "--role", "supervisor", "--dept", "surgery"],
                 ["n3", "--role", "agent", "--dept", "surgery", "--reports-to", "s2"],
                 ["n2", "--role", "agent", "--dept", "oncology"],
                 ["mgr", "--role", "manager", "--dept", "cardiology"],
                 ["sa", "--role", "sales", "--dept", "cardiology"],
                 ["ik", "--role", "intake", "--dept", "admissions"]):
        hf.ok("staff", "add", args[0], "--name", args[0].upper(), *args[1:], now=LATER)


@pytest.fixture
def org(hf: Any, store_cache: Any) -> Any:
    return store_cache(hf, _org)


def _org(hf: Any) -> None:
    """The ward (hn supervisor <- n1 agent, cardiology; P1's D1-1 completed by n1), P2 with D2-1 owned by
    n1 and open, staff of other departments and roles; then the first admin: access control is on."""
    ward(hf)
    staff(hf)
    hf.ok("subject", "add", "P2", "--name", P2_NAME, "--phone", P2_PHONE, now=LATER)
    hf.ok("trigger", "discharge", "--subject", "P2", "--id", "D2", *DISCHARGE, now=LATER)
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin", now=LATER)


def refused(hf: Any, *args: str, actor: str, match: str = "") -> str:
    r = hf(*args, actor=actor, now=LATER)
    assert r.code == 2 and r.err.count("\n") == 1 and match in r.err, (args, actor, r.code, r.out[:300], r.err)
    return r.err


def refusals(hf: Any, who: str) -> list[dict[str, Any]]:
    return hf.ok("audit", "reads", "--actor", who, actor="adm", now=LATER)["refusals"]


def test_g8_optout_is_scoped_like_other_subject_changes_and_masked(org: Any) -> None:
    """Attack: n3 (surgery), sales and the admin opted P2 out of a channel; the output showed her name
    and phone although no read was recorded."""
    refused(org, "subject", "optout", "P2", "--channel", "sms", actor="n3", match="n3 may not change the file of")
    refused(org, "subject", "optout", "P2", "--channel", "sms", actor="sa", match="only agent, manager, supervisor")
    refused(org, "subject", "optout", "P2", "--channel", "sms", actor="adm", match="adm is admin")
    assert [(r["action"], r["target"]) for r in refusals(org, "n3")] == [("subject.change", "subject P2")]
    assert [r["action"] for r in refusals(org, "sa")] == ["subject.change"]
    r = org("subject", "optout", "P2", "--channel", "sms", actor="n1", now=LATER)  # the owner may
    assert r.code == 0, r.err
    assert r.data["name"] == "李*" and r.data["phones"] == ["139****0002"] and r.data["optouts"] == ["sms"]
    assert P2_NAME not in r.out and P2_PHONE not in r.out
    text = org("subject", "optout", "P2", "--channel", "email", actor="hn", now=LATER, json_out=False)
    assert text.code == 0 and P2_NAME not in text.out and P2_PHONE not in text.out
    assert org.ok("audit", "reads", "--subject", "P2", actor="adm", now=LATER)["reads"] == []  # no read happened


def test_f6_exempt_needs_the_statement_and_a_supervisor_of_the_subjects_department(
        org: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack: the agent n1, a supervisor of another department, sales and the admin each could record
    a 'signed statement' for P2, closing all her open follow-ups as exempt (F6). P2 also has a follow-up
    of the test kit, whose visit type takes a statement on the subject's file (G7: no shipped plugin's
    does; her discharge follow-up is never exempted)."""
    install_kit(monkeypatch)
    org.ok("trigger", "kit.signed", "--subject", "P2", "--id", "K2", "--attr", "owner=n1", "--attr",
           "department=cardiology", actor="ik", now=LATER)
    for actor, match in (("n1", "only manager, supervisor may record a signed no-follow-up statement"),
                         ("s2", "F6: only a manager or supervisor of the data-owning department (cardiology)"),
                         ("sa", "sa is sales"), ("adm", "adm is admin")):
        refused(org, "subject", "exempt", "P2", "--statement", "SM-9", actor=actor, match=match)
        assert refusals(org, actor)[-1]["action"] == "subject.exempt"
    # the work path to F6: an agent closing her follow-up as exempt on a statement not on file
    refused(org, "close", "K2-1", "--exempt", "--statement", "SM-9", actor="n1", match="signed no-follow-up")
    assert org.ok("show", "K2-1", now=LATER)["status"] != "exempt"
    refused(org, "subject", "exempt", "P2", "--statement", " ", actor="hn", match="--statement")  # the statement
    r = org("subject", "exempt", "P2", "--statement", "不回访声明 SM-9", actor="hn", now=LATER)
    assert r.code == 0, r.err
    assert r.data["exempt"] and r.data["name"] == "李*" and P2_PHONE not in r.out and P2_NAME not in r.out
    assert org.ok("show", "K2-1", now=LATER)["status"] == "exempt"
    assert org.ok("show", "D2-1", now=LATER)["status"] != "exempt"  # G7: a discharge follow-up never is
    assert org.ok("audit", "verify", now=LATER)["ok"]


def test_g8_recording_service_events_is_the_intake_role(org: Any) -> None:
    """Attack: n2 (an agent of oncology) recorded a discharge of P1 naming herself the responsible nurse,
    became owner of its follow-up and read P1's file and history."""
    refused(org, "trigger", "discharge", "--subject", "P1", "--id", "D9", *own("n2", "oncology"), actor="n2",
            match="only intake, sales may record a service event")
    assert refusals(org, "n2")[-1]["action"] == "trigger"
    refused(org, "subject", "show", "P1", "--reason", "my patient", actor="n2", match="may not read subject P1")
    # intake records it: the follow-up was given to n2 by someone else, so it is hers to call
    org.ok("trigger", "discharge", "--subject", "P1", "--id", "D9", *own("n2", "oncology"), actor="ik", now=LATER)
    assert org.ok("show", "D9-1", now=LATER)["owner"] == "n2"
    assert org.ok("subject", "show", "P1", "--reason", "calling for D9-1", actor="n2", now=LATER)["name"] == NAME


def test_g8_naming_oneself_in_a_trigger_grants_no_read_of_earlier_history(hf: Any) -> None:
    """Attack: in setup mode n2 recorded a discharge of P1 naming herself; once access control was on,
    that follow-up still let her read P1's file and the history of D1-1 (n1's call, the answers)."""
    ward(hf)
    staff(hf)
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D9", *own("n2", "oncology"), actor="n2", now=LATER)
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin", now=LATER)
    assert hf.ok("show", "D9-1", now=LATER)["owner"] == "n2"
    for args in (["subject", "show", "P1"], ["history", "P1"], ["history", "D1-1"]):
        r = hf(*args, "--reason", "my patient", actor="n2", now=LATER)
        assert r.code == 2 and "may not read subject P1" in r.err, (args, r.out[:200])
        assert NAME not in r.out and PHONE not in r.out
    assert [r["action"] for r in refusals(hf, "n2")] == ["subject.read"] * 3
    # the work itself is hers (the owner); only the read of the file is not granted by it
    hf.ok("attempt", "D9-1", "--channel", "sms", "--outcome", "no_answer", actor="n2", now=LATER)
    assert hf.ok("subject", "show", "P1", "--reason", "calling for D1-1", actor="n1", now=LATER)["name"] == NAME


def test_g8_sales_resolve_no_ticket_and_record_no_quality_check(org: Any) -> None:
    """Attack: sales resolved the department's ticket; sales and the admin recorded G17 quality checks."""
    t = org.ok("ticket", "open", "D2-1", "--category", "billing", "--dept", "cardiology", actor="n1", now=LATER)
    refused(org, "ticket", "resolve", t["id"], "--note", "refunded", actor="sa", match="sa is sales")
    refused(org, "qa", "record", "D1-1", "--result", "pass", actor="sa", match="sa is sales")
    refused(org, "qa", "record", "D1-1", "--result", "pass", actor="adm", match="adm is admin")
    refused(org, "qa", "record", "D1-1", "--result", "pass", actor="s2", match="not in s2's ladder")
    assert [r["action"] for r in refusals(org, "sa")] == ["ticket.resolve", "qa.record"]
    assert [r["action"] for r in refusals(org, "adm")] == ["qa.record"]
    assert org.ok("qa", "record", "D1-1", "--result", "pass", actor="hn", now=LATER)["checked_by"] == "hn"
    assert org.ok("ticket", "resolve", t["id"], "--note", "refunded", actor="mgr", now=LATER)["status"] == "resolved"


def test_a4_a_locked_agent_opens_no_ticket(hf: Any, tmp_path: Any) -> None:
    """Attack: n1, locked for an overdue follow-up (A4), still opened a ticket on it (setup mode too)."""
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[huifang.lock_ladder]\nenabled = true\n", encoding="utf-8")
    hf.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    hf.ok("subject", "add", "P2", "--name", P2_NAME, "--phone", P2_PHONE)
    hf.ok("trigger", "discharge", "--subject", "P2", "--id", "D2", *DISCHARGE)  # D2-1 due 8 Oct
    assert hf.ok("tick", now="2026-10-10T09:00+08:00", config=str(cfg))["locked"] == 1
    after = "2026-10-10T09:05+08:00"
    r = hf("ticket", "open", "D2-1", "--category", "billing", "--dept", "cardiology", actor="n1", now=after,
           config=str(cfg))
    assert r.code == 2 and r.err.count("\n") == 1 and "A4: n1 is locked" in r.err, r.err
    got = hf.ok("audit", "reads", "--actor", "n1", now=after)["refusals"]
    assert [(g["action"], g["target"]) for g in got] == [("followup.work", "follow-up D2-1")]
    assert hf.ok("show", "D2-1", now=after)["tickets"] == []


def test_g8_bulk_import_of_service_events_needs_the_intake_role(org: Any, tmp_path: Any) -> None:
    """Attack: any writer (an agent) bulk-imported discharges naming themself; the role is now checked
    once for the whole file, and the refusal recorded once."""
    f = tmp_path / "d.csv"
    f.write_text("id,subject,at,department,diagnosis,responsible_nurse,attending_doctor\n"
                 "D7,P1,2026/10/01 09:00,oncology,CHD,n2,dr1\nD8,P2,2026/10/01 09:00,oncology,CHD,n2,dr1\n",
                 encoding="utf-8")
    refused(org, "import", "triggers", str(f), "--kind", "medical.discharge", actor="n2",
            match="only intake, sales may record a service event")
    assert [(r["action"], r["target"]) for r in refusals(org, "n2")] == [("trigger", "import d.csv")]
    assert org.ok("import", "triggers", str(f), "--kind", "medical.discharge", actor="ik", now=LATER)["imported"] == 2
