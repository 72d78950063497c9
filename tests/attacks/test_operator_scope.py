"""Attacks on the operator's everyday commands (G1, G8): the call sheet, the work list and subject search
show personal data only within the actor's scope, and every refusal is recorded first; inputs that used
to pass (a phone `1`, an unknown `--agent`) are refused in one line, nothing written.

Before: `show` printed any follow-up to anyone; there was no `subject find`; `queue --agent nobody`
printed "0 follow-up(s)" with exit 0; `subject add --phone 1` was accepted."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Huifang

T0 = "2026-09-28T09:00+08:00"
LATER = "2026-10-09T15:30+08:00"


@pytest.fixture(scope="module")
def ward(hf_module: Huifang) -> Huifang:
    """Cardiology: n1 owns P1's follow-up, n2 owns P3's; s9 is a surgery agent; access control on."""
    h = hf_module
    h.now = T0
    h.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology")
    for n in ("n1", "n2"):
        h.ok("staff", "add", n, "--name", n, "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    h.ok("staff", "add", "s9", "--name", "s9", "--role", "agent", "--dept", "surgery")
    for code, name, phone, nurse in (("P1", "张三", "13800000001", "n1"), ("P3", "王五", "13700000003", "n2")):
        h.ok("subject", "add", code, "--name", name, "--phone", phone)
        h.ok("trigger", "discharge", "--subject", code, "--id", f"D{code[1:]}", "--attr", "department=cardiology",
             "--attr", "diagnosis=CHD", "--attr", "attending_doctor=dr1", "--attr", f"responsible_nurse={nurse}")
    h.ok("staff", "add", "ad", "--name", "管理员", "--role", "admin")
    h.ok("staff", "add", "au", "--name", "审计", "--role", "auditor", actor="ad")
    h.now = LATER
    return h


def refusals(h: Huifang, who: str) -> list[dict[str, Any]]:
    return list(h.ok("audit", "reads", "--actor", who, actor="au")["refusals"])


def test_g8_show_of_someone_elses_followup_is_refused_and_recorded(ward: Huifang) -> None:
    """Attack: n1 opens n2's call sheet (name, number, diagnosis) and s9 of surgery opens n1's."""
    for actor, fu in (("n1", "D3-1"), ("s9", "D1-1")):
        before = len(refusals(ward, actor))
        r = ward("show", fu, actor=actor)
        assert r.code == 2 and r.out == "" and r.err.count("\n") == 1 and "personal data" in r.err, r.err
        after = refusals(ward, actor)
        assert len(after) == before + 1 and after[-1]["action"] == "subject.read"
        assert after[-1]["target"] == f"followup:{fu}"


def test_g8_subject_find_of_someone_elses_subject_is_refused_and_recorded(ward: Huifang) -> None:
    """Attack: n1 looks up n2's patient by name, then by the number's last digits."""
    for args in (("--name", "王五"), ("--phone", "0003")):
        before = len(refusals(ward, "n1"))
        r = ward("subject", "find", *args, actor="n1")
        assert r.code == 2 and "王五" not in r.err and "13700000003" not in r.err and r.out == ""
        assert "none of them in n1's scope" in r.err
        after = refusals(ward, "n1")
        assert len(after) == before + 1 and after[-1]["action"] == "subject.read"
    assert ward("subject", "find", "--name", "王五", actor="ad").code == 2  # admins read no personal data
    assert ward("subject", "find", "--name", "王五").code == 2  # nor does the anonymous cli


def test_g8_subject_edit_outside_scope_is_refused_and_recorded(ward: Huifang) -> None:
    before = len(refusals(ward, "s9"))
    r = ward("subject", "edit", "P1", "--phone", "13600000006", actor="s9")
    assert r.code == 2 and len(refusals(ward, "s9")) == before + 1
    assert ward.ok("show", "D1-1", actor="n1")["sheet"]["phones"][0]["number"] == "13800000001"  # unchanged


def test_g8_work_list_shows_no_name_outside_scope(ward: Huifang) -> None:
    """Attack: `queue --all` as a way round the call sheet's refusal."""
    text = ward.ok("queue", "--all", actor="s9", json_out=False)
    assert "张三" not in text and "王五" not in text and "138****" not in text and "P1" in text


def test_queue_unknown_agent_is_an_error(ward: Huifang) -> None:
    r = ward("queue", "--agent", "nobody", actor="hn")
    assert (r.code, r.out) == (2, "")
    assert r.err == "huifang: error: --agent: 'nobody' is not registered staff (huifang staff list)\n"
    r = ward("queue", "--team")  # the anonymous cli has no team
    assert r.code == 2 and r.err.startswith("huifang: error: --team:")


@pytest.mark.parametrize("phone", ["1", "12345", "138000000011", "+86 1", "abc", "11111111111"])
def test_g1_a_phone_that_is_not_a_number_is_refused(hf: Huifang, phone: str) -> None:
    r = hf("subject", "add", "P9", "--name", "赵六", "--phone", phone)
    assert r.code == 2 and r.err.startswith("huifang: error: --phone: '") and "not a valid phone number" in r.err
    assert hf("subject", "show", "P9").code == 2  # nothing written
    hf.ok("subject", "add", "P8", "--name", "钱七", "--phone", "010-66778899")
    r = hf("subject", "edit", "P8", "--add-phone", phone)
    assert r.code == 2 and r.err.startswith("huifang: error: --add-phone: '")
    assert hf.ok("subject", "show", "P8")["phones"] == ["010-66778899"]
