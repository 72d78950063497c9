"""Survey links (`huifang invite`, /s/<token>) without a server: the CLI issues the link under the access
policy of an attempt, the page runs in-process (FastAPI's TestClient) at the service's clock. A link is
signed, single-use and expiring and carries no personal data; the subject's answers are recorded as the
phone path records them (attempt on `web`, completion, next visit of the curve, G16 ticket); a used,
expired or tampered link and a refused form write nothing; an unanswered link falls back at `tick`."""
from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conftest import Huifang

DISCHARGED = "2026-08-03T09:00:00+08:00"
NOW = "2026-08-10T10:30:00+08:00"  # D-1's window is open (7 days after discharge, M1)
LATER = "2026-08-10T12:00:00+08:00"
GOOD = {"recovery": "8", "adherence": "good", "lifestyle": "good", "symptoms": "none", "satisfaction": "满意"}


@pytest.fixture
def org(hf: Huifang) -> Huifang:
    """Access control on (an admin), a ward (hn over n1, n2) and a diabetic patient discharged: D-1.
    Set up through the application in one process (the CLI drives the tests themselves)."""
    from huifang.core import clock
    from huifang.core.config import Config
    from huifang.projections import open_app

    app = open_app(hf.db, Config())
    try:
        with clock.at(clock.parse_instant("2026-08-01T09:00:00+08:00")):
            app.add_staff("adm", "管理员", "admin")
            app.add_staff("hn", "护士长", "supervisor", "cardiology", actor="adm")
            app.add_staff("n1", "王护士", "agent", "cardiology", "hn", actor="adm")
            app.add_staff("n2", "李护士", "agent", "cardiology", "hn", actor="adm")
            app.add_staff("his", "HIS接口", "intake", actor="adm")
            app.add_subject("P1", "张三", ["13812345678"], "zs@example.cn", actor="his")
        with clock.at(clock.parse_instant(DISCHARGED)):
            app.receive_trigger("medical.discharge", "P1", {
                "department": "cardiology", "diagnosis": "diabetes_t2", "condition": "diabetes",
                "responsible_nurse": "n1", "attending_doctor": "dr1"}, "D", actor="his")
    finally:
        app.close()
    return hf


@contextmanager
def web(hf: Huifang, now: str = NOW) -> Iterator[tuple[Any, Any]]:
    """The service in-process on the store: (TestClient, its application)."""
    with warnings.catch_warnings():  # starlette's note about its httpx client: not this test's business
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from huifang.core import clock
    from huifang.core.config import Config
    from huifang.projections import open_app
    from huifang.service.app import create_app

    app = open_app(hf.db, Config())
    try:
        with TestClient(create_app(app, clock.parse_instant(now))) as client:
            yield client, app
    finally:
        app.close()


def link_path(app: Any, code: str) -> str:
    from huifang.core.usecases import invites

    return f"/s/{invites.token(app, code)}"


def log_size(app: Any) -> int:
    return int(app.recorder.max_notification_id() or 0)


def followup(app: Any, code: str) -> Any:
    from huifang.core.domain import FollowUp

    return app.load(FollowUp, code, "follow-up")


def heading(html: str) -> list[str]:
    return re.findall(r"<h1>(.*?)</h1>", html)


def test_G2_survey_link_answered_on_the_web_completes_and_plans_the_next_visit(org: Huifang) -> None:
    sent = org.ok("invite", "D-1", "--channel", "短信", actor="n1", now=NOW)
    assert sent["status"] == "issued" and sent["channel"] == "sms" and sent["delivery"]["status"] == "sent"
    assert sent["expires"] == "2026-08-13T10:30:00+08:00"  # 72 h by default
    assert "url" not in sent and "link" not in sent  # the link goes to the subject only
    with web(org) as (client, app):
        path = link_path(app, sent["id"])
        assert re.fullmatch(r"/s/[0-9a-f]{16}\.[A-Za-z0-9_-]{22}", path)  # no personal data in the URL (G8)
        assert followup(app, "D-1").channel == "sms"  # waiting on the link
        page = client.get(path)
        assert page.status_code == 200 and "是否按医嘱服药？" in page.text and "Taking medication" not in page.text
        assert "需关注的不适症状" in page.text and "<script" not in page.text  # choice labels, no JavaScript
        assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
        done = client.post(path, data=GOOD)
        assert done.status_code == 200 and heading(done.text) == ["提交成功，感谢您的反馈！"]
        fu = followup(app, "D-1")
        assert fu.status == "completed" and fu.answers["satisfaction"] == "满意" and fu.answers["recovery"] == 8
        assert [(a["channel"], a["outcome"], a["actor"]) for a in fu.attempts] == [("web", "reached", "subject:web")]
        from huifang.core.domain import Trigger

        assert app.load(Trigger, "D", "trigger").followups == ["D-1", "D-c2"]  # M4: the curve's next call
    shown = org.ok("invite", "view", sent["id"], actor="n1", now=LATER)
    assert shown["status"] == "answered" and [e["event"] for e in shown["events"]] == ["Issued", "Opened", "Answered"]
    assert [e["actor"] for e in shown["events"]] == ["n1", "subject:web", "subject:web"]
    assert shown["delivery"]["status"] == "sent"
    rows = org.ok("invite", "list", "--followup", "D-1", actor="n1", now=LATER)
    assert [(r["id"], r["status"]) for r in rows] == [(sent["id"], "answered")]
    text = org.ok("invite", "list", "--status", "已在线作答", actor="n1", now=LATER, json_out=False)
    assert sent["id"] in text and "已在线作答" in text and "短信" in text
    rates = org.ok("report", "rates", "--by", "agent", actor="hn", now=LATER)["rows"]
    assert [(r["agent"], r["completed"]) for r in rates] == [("n1", 1)]  # G15: credited to the owner who sent it


def test_G8_used_expired_and_tampered_links_are_refused_and_write_nothing(org: Huifang) -> None:
    sent = org.ok("invite", "D-1", "--channel", "sms", "--ttl", "1h", actor="n1", now=NOW)
    with web(org, "2026-08-10T11:31:00+08:00") as (client, app):
        path = link_path(app, sent["id"])
        before = log_size(app)
        expired = client.get(path)
        assert expired.status_code == 410 and heading(expired.text) == ["链接已过期"]
        assert client.post(path, data=GOOD).status_code == 410
        other = "0" if path[-1] != "0" else "1"
        for bad, status in ((path[:-1] + other, 400), (path[:-6], 400), ("/s/" + "a" * 16 + "." + "b" * 22, 400),
                            ("/s/%E4%BD%A0", 400)):
            r = client.get(bad)
            assert r.status_code == status and heading(r.text) == ["链接无效"], bad
            assert client.post(bad, data=GOOD).status_code == status
        assert log_size(app) == before  # nothing written
        assert followup(app, "D-1").attempts == []
    again = org.ok("invite", "D-1", "--channel", "email", actor="n1", now=NOW.replace("10:30", "11:40"))
    with web(org, "2026-08-10T11:45:00+08:00") as (client, app):
        path = link_path(app, again["id"])
        assert client.post(path, data=GOOD).status_code == 200
        before = log_size(app)
        used = client.get(path)
        assert used.status_code == 410 and heading(used.text) == ["问卷已提交"]
        assert client.post(path, data=GOOD).status_code == 410
        assert log_size(app) == before
        assert len(followup(app, "D-1").attempts) == 1


def test_G16_web_dissatisfied_answer_needs_its_reason_then_opens_a_ticket(org: Huifang) -> None:
    sent = org.ok("invite", "D-1", "--channel", "wechat", actor="n1", now=NOW)
    unhappy = {**GOOD, "satisfaction": "不满意"}
    with web(org) as (client, app):
        path = link_path(app, sent["id"])
        client.get(path)
        before = log_size(app)
        r = client.post(path, data=unhappy)
        assert r.status_code == 422 and "请选择不满意的原因" in r.text and 'value="不满意" checked' in r.text
        r = client.post(path, data={**unhappy, "reason_code": "waiting"})
        assert r.status_code == 422 and "请写下具体原因" in r.text
        assert log_size(app) == before and followup(app, "D-1").attempts == []  # a refused form writes nothing
        r = client.post(path, data={**unhappy, "reason_code": "waiting", "reason": "等了\x1b[2J三个小时"})
        assert r.status_code == 422 and "请检查您写下的原因" in r.text  # control characters refused like the CLI
        assert log_size(app) == before
        r = client.post(path, data={**unhappy, "reason_code": "等候时间长", "reason": "出院手续\r\n等了三个小时"})
        assert r.status_code == 200 and "相关部门会尽快处理" in r.text
        fu = followup(app, "D-1")
        assert fu.status == "completed" and fu.answers["dissatisfaction_code"] == "waiting"
        assert len(fu.tickets) == 1
        from huifang.core.domain import Ticket

        ticket = app.load(Ticket, fu.tickets[0], "ticket")
        assert ticket.reason_code == "waiting" and app.keyring.reveal(ticket.reason) == "出院手续\n等了三个小时"
    # a reason typed before choosing another answer is not a G16 reason: dropped, not refused
    org.ok("trigger", "discharge", "--subject", "P1", "--id", "E", "--attr", "department=cardiology",
           "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1", "--attr", "attending_doctor=dr1",
           actor="his", now=DISCHARGED.replace("09:00", "09:30"))
    second = org.ok("invite", "E-1", "--channel", "sms", actor="n1", now=NOW)
    with web(org) as (client, app):
        r = client.post(link_path(app, second["id"]), data={**GOOD, "reason_code": "waiting", "reason": "算了"})
        assert r.status_code == 200 and "dissatisfaction_code" not in followup(app, "E-1").answers


def test_G18_web_form_missing_a_required_answer_is_shown_again_in_chinese(org: Huifang) -> None:
    sent = org.ok("invite", "D-1", "--channel", "sms", actor="n1", now=NOW)
    with web(org) as (client, app):
        path = link_path(app, sent["id"])
        page = client.get(path)
        assert page.text.count("<fieldset class=\"q") <= 6  # ≤ 5 questions (G18) and the 不满意 reason
        before = log_size(app)
        r = client.post(path, data={"adherence": "good"})
        assert r.status_code == 422 and "请回答带 * 的问题：康复情况评分 (0-10)" in r.text
        assert 'value="good" checked' in r.text  # what was answered stays answered
        r = client.post(path, data={**GOOD, "recovery": "11"})
        assert r.status_code == 422 and "请检查这个问题的回答" in r.text
        assert log_size(app) == before


def events_of(app: Any, code: str) -> list[str]:
    from huifang.core.domain import FollowUp

    fu = followup(app, code)
    return [type(e).__qualname__.split(".")[-1] for e in app.events.get(fu.id)
            if isinstance(e, (FollowUp.AttemptRecorded, FollowUp.Completed))]


def test_G2_web_answer_interrupted_after_the_attempt_writes_nothing_and_the_link_stays_answerable(
        org: Huifang, monkeypatch: pytest.MonkeyPatch) -> None:
    from huifang.core.usecases import invites

    sent = org.ok("invite", "D-1", "--channel", "sms", actor="n1", now=NOW)
    unhappy = {**GOOD, "satisfaction": "不满意", "reason_code": "waiting", "reason": "等了三个小时"}

    def crash(*args: Any, **kwargs: Any) -> Any:  # the process dies once the attempt is built
        raise RuntimeError("power cut")

    with web(org) as (_client, app):
        path = link_path(app, sent["id"])
        before = log_size(app)
        from huifang.core import clock

        with monkeypatch.context() as m, clock.at(clock.parse_instant(NOW)):
            m.setattr(invites, "prepare_completion", crash)
            with pytest.raises(RuntimeError):
                invites.answer(app, path[3:], unhappy)
        assert log_size(app) == before  # neither the attempt nor the link's use: never half a command
        fu = followup(app, "D-1")
        assert fu.attempts == [] and fu.status != "completed" and invites.find(app, sent["id"]).status == "issued"
    with web(org) as (client, app):
        r = client.post(path, data=unhappy)  # still answerable: now all of it is recorded
        assert r.status_code == 200 and "相关部门会尽快处理" in r.text
        fu = followup(app, "D-1")
        assert events_of(app, "D-1") == ["AttemptRecorded", "Completed"] and len(fu.tickets) == 1
        assert invites.find(app, sent["id"]).status == "answered"


def test_G2_same_link_submitted_twice_at_once_records_one_attempt_and_one_completion(
        org: Huifang, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second submission is built on what the first had not yet saved: its commit conflicts,
    nothing of it is written, and the subject sees that the survey was answered (410)."""
    from huifang.core import clock
    from huifang.core.config import Config
    from huifang.core.usecases import invites
    from huifang.projections import open_app

    sent = org.ok("invite", "D-1", "--channel", "sms", actor="n1", now=NOW)
    other = open_app(org.db, Config())  # another worker on the same store
    real = invites.prepare_completion
    raced: list[str] = []

    def first_the_other(app: Any, fu: Any, answers: Any, actor: str = "cli") -> Any:
        if app is not other and not raced:  # the other worker submits while this one is half-way
            raced.append("other")
            with clock.at(clock.parse_instant(NOW)):
                invites.answer(other, invites.token(other, sent["id"]), GOOD)
        return real(app, fu, answers, actor)

    try:
        with web(org) as (client, app):
            before = log_size(app)
            with monkeypatch.context() as m:
                m.setattr(invites, "prepare_completion", first_the_other)
                r = client.post(link_path(app, sent["id"]), data=GOOD)
            assert raced and r.status_code == 410 and heading(r.text) == ["问卷已提交"]
            assert events_of(app, "D-1") == ["AttemptRecorded", "Completed"]
            assert followup(app, "D-1").status == "completed"
            inv_events = [type(e).__qualname__.split(".")[-1] for e in app.events.get(invites.find(app, sent["id"]).id)]
            assert inv_events.count("Answered") == 1
            assert log_size(app) > before
    finally:
        other.close()


def test_G8_invite_follows_the_access_policy_of_an_attempt_and_refusals_are_recorded(org: Huifang) -> None:
    r = org("invite", "D-1", "--channel", "sms", actor="n2", now=NOW)  # not theirs, not below them
    assert r.code == 2 and "n2 may not work on D-1" in r.err and r.err.count("\n") == 1
    refusals = org.ok("audit", "reads", "--actor", "n2", actor="adm", now=NOW)["refusals"]
    assert refusals[-1]["action"] == "followup.work" and refusals[-1]["target"] == "follow-up D-1"
    assert org("invite", "D-1", "--channel", "sms", actor="his", now=NOW).code == 2  # intake works no follow-up
    assert org.ok("invite", "list", actor="n1", now=NOW) == []  # nothing was issued
    assert org.ok("invite", "D-1", "--channel", "sms", actor="hn", now=NOW)["issued_by"] == "hn"  # the ladder
    # the web subject's identity exists only while a verified link is answered: not on the command line
    r = org("attempt", "D-1", "--channel", "web", "--outcome", "reached", actor="subject:web", now=NOW)
    assert r.code == 2 and "subject:web" in r.err


def test_G7_invite_refusals_are_one_line_errors(org: Huifang) -> None:
    r = org("invite", "D-1", "--channel", "sms", actor="n1", now="2026-08-05T10:00:00+08:00")
    assert r.code == 2 and "window opens 2026-08-10T10:00:00+08:00" in r.err
    r = org("invite", "D-1", "--channel", "phone", actor="n1", now=NOW)
    assert r.code == 2 and r.err.startswith("huifang: error: --channel:")
    r = org("invite", "D-1", "--channel", "sms", "--ttl", "40d", actor="n1", now=NOW)
    assert r.code == 2 and "--ttl:" in r.err
    first = org.ok("invite", "D-1", "--channel", "sms", actor="n1", now=NOW)
    r = org("invite", "D-1", "--channel", "email", actor="n1", now=NOW)
    assert r.code == 2 and f"already has an unanswered link {first['id']}" in r.err
    org.ok("subject", "optout", "P1", "--channel", "wechat", actor="n1", now=NOW)
    r = org("invite", "D-1", "--channel", "微信", actor="n1", now=NOW)
    assert r.code == 2 and "G7: subject P1 opted out of wechat" in r.err
    r = org("invite", "view", "0123456789abcdef", actor="n1", now=NOW)
    assert r.code == 2 and "does not exist" in r.err


def test_G7_unanswered_link_expires_at_tick_and_the_followup_falls_back_to_the_phone(org: Huifang) -> None:
    sent = org.ok("invite", "D-1", "--channel", "sms", "--ttl", "1h", actor="n1", now=NOW)
    assert org.ok("tick", now="2026-08-10T11:00:00+08:00")["invites_expired"] == 0  # still valid
    result = org.ok("tick", now="2026-08-10T11:31:00+08:00")
    assert result["invites_expired"] == 1
    assert result["invites"] == [{"invite": sent["id"], "followup": "D-1", "next_channel": "phone"}]
    assert "survey link" not in org.ok("tick", now="2026-08-10T11:40:00+08:00", json_out=False)  # once
    assert org.ok("invite", "view", sent["id"], actor="n1", now=LATER)["status"] == "expired"
    with web(org, LATER) as (client, app):
        assert followup(app, "D-1").channel == "phone"  # back in the call queue
        assert client.get(link_path(app, sent["id"])).status_code == 410


def test_G7_expired_link_of_a_subject_who_refuses_the_phone_falls_back_along_the_ladder(org: Huifang) -> None:
    sent = org.ok("invite", "D-1", "--channel", "sms", "--ttl", "1h", actor="n1", now=NOW)
    org.ok("subject", "optout", "P1", "--channel", "phone", actor="n1", now=NOW)
    result = org.ok("tick", now="2026-08-10T11:31:00+08:00")
    assert result["invites"] == [{"invite": sent["id"], "followup": "D-1", "next_channel": "wechat"}]
