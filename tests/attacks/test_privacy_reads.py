"""Free-text opinions are personal data (G8): `report opinions` (and the opinions section of the
monthly report) shows a subject's own words only to an actor who may read that subject's file — the
rules of `subject show`: registered staff of a reading role, within their follow-ups, ladder or
department, with a reason once access control is on — and records the read first. Counts and rows
stay for everyone; the text is withheld.

Before this rule the report printed every free-text answer to anyone, even `--as ghost`, and no read
was recorded."""
from __future__ import annotations

import pytest

from tests.audit_kit import SUGGESTION, ward

LATER = "2026-10-09T09:00+08:00"
PERIOD = ("--from", "2026-10-01", "--to", "2026-10-31")


def opinions(hf, actor=None, reason=None, kind="opinions"):
    args = ["report", kind, *PERIOD] + (["--reason", reason] if reason else [])
    data = hf.ok(*args, actor=actor, now=LATER)
    if kind != "opinions":
        data = next(s for s in data["sections"] if s["name"] == "opinions")
    return [r["text"] for r in data["rows"]]


def reads(hf, who="aud"):
    return [(r["what"], r["actor"], r["reason"]) for r in
            hf.ok("audit", "reads", "--subject", "P1", actor=who, now=LATER)["reads"] if r["what"] == "opinions"]


@pytest.fixture
def org(hf, store_cache):
    return store_cache(hf, _org)


def _org(hf) -> None:
    ward(hf)  # D1-1 of P1, owned by n1 (cardiology), completed with a free-text suggestion
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")  # access control on
    for args in (["n2", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn"],
                 ["aud", "--role", "auditor", "--dept", "audit"]):
        hf.ok("staff", "add", args[0], "--name", args[0].upper(), *args[1:], actor="adm")


def test_g8_setup_mode_shows_opinions_and_records_the_read(hf):
    ward(hf)
    assert opinions(hf) == [SUGGESTION]
    log = hf.ok("audit", "reads", "--subject", "P1", now=LATER)["reads"]
    assert [(r["what"], r["actor"], r["target"]) for r in log if r["what"] == "opinions"] == [
        ("opinions", "cli", "report:opinions")]


def test_g8_an_unregistered_actor_sees_no_opinion_and_is_recorded(org):
    r = org("report", "opinions", *PERIOD, "--reason", "curious", actor="ghost", now=LATER)
    assert SUGGESTION not in r.out
    if r.code == 0:  # the report itself may run: the text is withheld
        assert [x["text"] for x in r.data["rows"]] == ["[withheld: G8]"]
    else:  # or the unregistered actor is refused at the door (identity binding, G8)
        assert r.code == 2 and "not registered" in r.err
    refusals = org.ok("audit", "reads", "--actor", "ghost", actor="aud", now=LATER)["refusals"]
    assert refusals, "the refusal is recorded"
    assert reads(org) == []


def test_g8_opinions_follow_the_subject_show_scope_and_need_a_reason(org):
    assert opinions(org) == ["[withheld: G8]"]  # the anonymous cli: reports yes, personal data no
    assert opinions(org, actor="n2", reason="monthly review") == ["[withheld: G8]"]  # not n2's follow-up
    assert opinions(org, actor="adm", reason="monthly review") == ["[withheld: G8]"]  # admin: no personal data
    assert opinions(org, actor="n1") == ["[withheld: G8]"]  # the owner, but no reason given
    assert reads(org) == []
    assert opinions(org, actor="n1", reason="monthly review") == [SUGGESTION]
    assert opinions(org, actor="aud", reason="G19 quarterly audit", kind="monthly") == [SUGGESTION]
    assert reads(org) == [("opinions", "n1", "monthly review"), ("opinions", "aud", "G19 quarterly audit")]


def test_g8_a_withheld_opinion_says_why_in_the_report_notes(org):
    data = org.ok("report", "opinions", *PERIOD, "--reason", "x", actor="n2", now=LATER)
    assert data["rows"][0]["question"] == "suggestion" and data["rows"][0]["satisfaction"] == "满意"
    text = org("report", "opinions", *PERIOD, "--reason", "x", actor="n2", now=LATER, json_out=False).out
    assert "G8: the text of 1 opinion(s) is withheld" in text and SUGGESTION not in text
