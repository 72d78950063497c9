"""Roles and permissions: setup mode until the first admin, then each role's allowed and
refused actions; every refusal is a one-line error AND an AccessLog event; read audit and export
approval (G8); conflict of interest (G9) refusals recorded."""
from __future__ import annotations

import pytest

from tests.audit_kit import DISCHARGE, NAME, ward

LATER = "2026-10-08T16:00+08:00"


@pytest.fixture
def org(hf, store_cache):
    return store_cache(hf, _org)


def _org(hf) -> None:
    ward(hf)  # setup mode: hn (supervisor, cardiology) <- n1 (agent); P1/D1-1 completed
    hf.ok("subject", "add", "P2", "--name", "李四", "--phone", "13900000002")
    hf.ok("trigger", "discharge", "--subject", "P2", "--id", "D2", *DISCHARGE)  # D2-1 owned by n1
    assert hf.ok("audit", "verify")["access_control"].startswith("setup mode")
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")  # the first admin: roles on, for good
    for args in (["n2", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn"],
                 ["s2", "--role", "supervisor", "--dept", "surgery"],
                 ["n3", "--role", "agent", "--dept", "surgery", "--reports-to", "s2"],
                 ["mgr", "--role", "manager", "--dept", "cardiology"],
                 ["mgs", "--role", "manager", "--dept", "surgery"],
                 ["aud", "--role", "auditor", "--dept", "audit"]):
        hf.ok("staff", "add", args[0], "--name", args[0].upper(), *args[1:], actor="adm")


def refused(hf, *args, actor=None, match=""):
    r = hf(*args, actor=actor, now=LATER)
    assert r.code == 2, (args, r.out)
    assert r.err.count("\n") == 1 and match in r.err, r.err
    return r.err


def refusals(hf, who):
    return hf.ok("audit", "reads", "--actor", who, actor="aud", now=LATER)["refusals"]


def attempts(hf, code):
    return len(hf.ok("show", code, now=LATER)["attempts"])


def test_first_admin_turns_roles_on_and_the_anonymous_cli_is_refused(org):
    assert org.ok("audit", "verify")["access_control"] == "enforced"  # verify stays open to cli
    refused(org, "staff", "add", "x1", "--name", "X", "--role", "agent", match="access control is on")
    refused(org, "subject", "add", "P9", "--name", "X", match="--as STAFF_ID")
    refused(org, "history", "P1", match="access control is on")
    assert org.ok("queue", now=LATER) is not None  # no personal data: open to cli
    assert [r["action"] for r in refusals(org, "cli")] == ["staff.add", "subject.add", "subject.read"]
    refused(org, "staff", "add", "x1", "--name", "X", "--role", "agent", actor="n1", match="only admin may")
    refused(org, "staff", "add", "x1", "--name", "X", "--role", "agent", actor="ghost", match="not registered")


def test_agent_acts_only_on_own_followups(org):
    org.ok("attempt", "D2-1", "--channel", "phone", "--outcome", "busy", actor="n1", now=LATER)
    err = refused(org, "attempt", "D2-1", "--channel", "phone", "--outcome", "busy", actor="n2",
                  match="n2 may not work on D2-1")
    assert "owned by n1" in err and "reassign" in err
    refused(org, "close", "D2-1", "--cancel", "duplicate", actor="n3", match="may not work on D2-1")
    assert attempts(org, "D2-1") == 1  # the refused attempt wrote nothing to the follow-up
    got = refusals(org, "n2")
    assert got[0]["action"] == "followup.work" and got[0]["target"] == "follow-up D2-1"
    assert "owned by n1" in got[0]["reason"]
    assert org.ok("audit", "verify")["ok"]  # the refusal record is chained and sealed like any event


def test_supervisor_reassigns_and_works_within_the_ladder(org):
    refused(org, "reassign", "D2-1", "--to", "n2", actor="n1", match="only manager, supervisor may reassign")
    refused(org, "reassign", "D2-1", "--to", "n3", actor="s2", match="not in s2's ladder")
    refused(org, "reassign", "D2-1", "--to", "n3", actor="hn", match="may not give D2-1 to n3")
    assert org.ok("reassign", "D2-1", "--to", "n2", "--reason", "n1 on leave", actor="hn", now=LATER)["owner"] == "n2"
    org.ok("attempt", "D2-1", "--channel", "phone", "--outcome", "busy", actor="n2", now=LATER)
    org.ok("attempt", "D2-1", "--channel", "phone", "--outcome", "busy", actor="hn", now=LATER)  # below hn
    refused(org, "attempt", "D2-1", "--channel", "phone", "--outcome", "busy", actor="n1", match="owned by n2")
    org.ok("close", "D2-1", "--cancel", "readmitted", actor="mgr", now=LATER)  # the department's manager


def test_supervisor_unlocks_only_within_the_ladder(org, tmp_path):
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[huifang.lock_ladder]\nenabled = true\n", encoding="utf-8")
    t = org.ok("tick", now="2026-10-10T09:00+08:00", config=str(cfg))  # D2-1 overdue since 10-08: n1 locked
    assert t["locked"] == 1
    r = org("unlock", "n1", actor="s2", now="2026-10-10T09:10+08:00", config=str(cfg))
    assert r.code == 2 and "s2 may not unlock n1" in r.err
    r = org("unlock", "n1", actor="aud", now="2026-10-10T09:10+08:00", config=str(cfg))
    assert r.code == 2 and "auditor" in r.err
    assert org.ok("unlock", "n1", actor="hn", now="2026-10-10T09:10+08:00", config=str(cfg))["lock"] is None
    assert [r["action"] for r in refusals(org, "s2")] == ["staff.unlock"]


def test_auditor_reads_history_and_reports_but_changes_nothing(org):
    refused(org, "history", "P1", actor="aud", match="--reason")  # G8: why, once roles are on
    h = org.ok("history", "P1", "--reason", "complaint 2026-17 review", actor="aud", now=LATER)
    assert h["events"][0]["data"]["name"] == NAME
    org.ok("report", "rates", actor="aud", now=LATER)
    for args in (["attempt", "D2-1", "--channel", "phone", "--outcome", "busy"],
                 ["subject", "add", "P9", "--name", "X"],
                 ["trigger", "discharge", "--subject", "P2", "--id", "D7", *DISCHARGE],
                 ["subject", "optout", "P2", "--channel", "sms"]):
        refused(org, *args, actor="aud", match="auditor")
    reads = org.ok("audit", "reads", "--subject", "P1", actor="aud", now=LATER)["reads"]
    assert reads[-1]["actor"] == "aud" and reads[-1]["what"] == "history"
    assert reads[-1]["reason"] == "complaint 2026-17 review"
    assert len(refusals(org, "aud")) == 4  # (the missing --reason was bad input, not a refusal)


def test_agent_reads_only_the_subjects_they_follow_up(org):
    assert org.ok("subject", "show", "P2", "--reason", "calling for D2-1", actor="n1", now=LATER)["name"] == "李四"
    refused(org, "subject", "show", "P2", "--reason", "curious", actor="n3", match="may not read subject P2")
    refused(org, "subject", "show", "P2", "--reason", "x", actor="adm", match="only agent, auditor, manager")
    refused(org, "audit", "reads", "--subject", "P2", actor="n1", match="may read the audit trail")
    reads = org.ok("audit", "reads", "--subject", "P2", actor="mgr", now=LATER)["reads"]
    assert [(r["actor"], r["what"], r["reason"]) for r in reads] == [("n1", "subject", "calling for D2-1")]


def test_g8_export_beyond_the_department_needs_the_data_owners_approval(org, tmp_path):
    out = tmp_path / "p1.json"
    refused(org, "subject", "export", "P1", "--out", str(out), "--reason", "regulator", actor="aud",
            match="needs an approval by a manager of cardiology")
    assert not out.exists()
    refused(org, "audit", "approve-export", "P1", "--for", "aud", "--reason", "x", actor="mgs",
            match="data-owning department")
    refused(org, "audit", "approve-export", "P1", "--for", "aud", "--reason", "x", actor="hn",
            match="only manager may approve")
    a = org.ok("audit", "approve-export", "P1", "--for", "aud", "--reason", "regulator request 2026-9", actor="mgr",
               now=LATER)
    assert a["grantee"] == "aud" and a["until"].startswith("2026-10-15")
    e = org.ok("subject", "export", "P1", "--out", str(out), "--reason", "regulator request 2026-9", actor="aud",
               now=LATER)
    assert e["approval"] == 1 and NAME in out.read_text(encoding="utf-8")
    # valid for its days (7 by default), then it expires
    assert org.ok("subject", "export", "P1", "--out", str(out), "--force", "--reason", "again", actor="aud",
                  now="2026-10-14T09:00+08:00")["approval"] == 1
    r = org("subject", "export", "P1", "--out", str(out), "--force", "--reason", "later", actor="aud",
            now="2026-10-20T09:00+08:00")
    assert r.code == 2 and "needs an approval" in r.err
    log = org.ok("audit", "reads", "--subject", "P1", actor="aud", now=LATER)
    assert [x["what"] for x in log["reads"]][-1] == "export" and log["approvals"][0]["by"] == "mgr"
    # within the own department no approval is needed
    assert org.ok("subject", "export", "P1", "--out", str(out), "--force", "--reason", "care plan", actor="mgr",
                  now="2026-10-20T09:00+08:00")["approval"] is None  # records never go back in time


def test_admin_manages_staff_and_erasure_but_does_no_followup_work(org):
    refused(org, "attempt", "D2-1", "--channel", "phone", "--outcome", "busy", actor="adm",
            match="only agent, manager, supervisor may work")  # sales work no follow-up (policy.py)
    refused(org, "subject", "erase", "P1", "--reason", "r", "--legal-order", "x", actor="mgr", match="only admin")
    assert org.ok("subject", "erase", "P1", "--reason", "request", "--legal-order", "order 1", actor="adm",
                  now=LATER)["erased"]


def test_g9_conflict_of_interest_refusal_is_recorded_for_any_plugin(db):
    from huifang.core import clock
    from huifang.core.audit.trail import AccessLog
    from huifang.core.config import Config
    from huifang.core.errors import Refused
    from huifang.projections import open_app
    from tests.testkit import Kit

    app = open_app(db, Config.model_validate({"huifang": {"plugins": []}}), extra_plugins={"kit": Kit()})
    try:
        with clock.at(clock.parse_instant("2026-10-12T10:00+08:00")):
            app.add_staff("a1", "Agent", "agent")
            app.add_staff("s1", "Seller", "sales")
            app.add_subject("C1", "客户一", ["13900000000"])
            _, fus, _ = app.receive_trigger("kit.signed", "C1", {"seller": "s1"}, trigger_id="K3")
            with pytest.raises(Refused, match="G9"):
                app.record_attempt(fus[0].code, "phone", "reached", actor="s1")
        log = app.repository.get(AccessLog.create_id("s1"))
        assert log.refusals[0]["reason"].startswith("G9: s1 has an interest")
        assert log.refusals[0]["action"] == "followup.attempt"
    finally:
        app.close()


def test_G8_subject_add_of_an_existing_id_names_it_before_any_refusal_and_writes_nothing(org):
    """subject add saves without looking the id up first (the save's conflict tells): an existing id is
    still named as before, by an allowed actor and before a refusal of a denied one (nothing recorded)."""
    before = org.ok("audit", "verify", now=LATER)["records"]
    r = org("subject", "add", "P2", "--name", "王五", actor="n2", now=LATER)
    assert r.code == 2 and r.err.count("\n") == 1 and "subject 'P2' already exists" in r.err, r.err
    r = org("subject", "add", "P2", "--name", "王五", actor="aud", now=LATER)
    assert r.code == 2 and "subject 'P2' already exists" in r.err, r.err
    assert org.ok("audit", "verify", now=LATER)["records"] == before  # nothing written, no refusal recorded
    refused(org, "subject", "add", "P8", "--name", "王五", actor="aud", match="auditors")
    assert [r["action"] for r in refusals(org, "aud")][-1:] == ["subject.add"]
    assert "P2" not in str(refusals(org, "aud"))
