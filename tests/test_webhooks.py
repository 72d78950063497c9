"""Webhooks out without a network (the dispatcher's sender replaced by a recorder): payload mapping from
the log, scope filtering (no personal data unless --personal, G8), the signature, the backoff schedule,
strict order behind a failing delivery, replay, the secret never stored in clear, one-line CLI errors
and admin-only management (refusals recorded, G8). Real processes: test_webhooks_delivery.py."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Huifang

NOW = "2026-09-28T09:00:00+08:00"
SECRET = "s3cret-for-tests-0123456789"
ATTRS = ["--attr", "department=cardiology", "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1",
         "--attr", "attending_doctor=dr1"]


class Receiver:
    """The sender: records each POST and answers with the next status of `statuses` (then 200)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []
        self.statuses: list[int | None] = []

    def __call__(self, url: str, body: bytes, hdrs: dict[str, str]) -> tuple[int | None, str]:
        self.calls.append((url, body, hdrs))
        status = self.statuses.pop(0) if self.statuses else 200
        return status, "" if status == 200 else ("ConnectError: refused" if status is None else f"HTTP {status}")

    def bodies(self, url: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(b) for u, b, _ in self.calls if url is None or u == url]


def at(text: str, seconds: float = 0) -> datetime:
    from huifang.core import clock

    return clock.parse_instant(text) + timedelta(seconds=seconds)


@pytest.fixture
def app_of() -> Iterator[Any]:
    from huifang.core.config import Config
    from huifang.projections import open_app

    opened: list[Any] = []

    def make(db: str) -> Any:
        opened.append(open_app(db, Config()))
        return opened[-1]
    yield make
    for a in opened:
        a.close()


def complete_unhappy(hf: Huifang, tid: str, when: str = "2026-09-28T09:05:00+08:00") -> None:
    """A discharge, a reached call and a 不满意 answer: FollowUp.Completed, then Ticket.Opened."""
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", tid, *ATTRS, now=when)
    hf.ok("attempt", f"{tid}-1", "--channel", "phone", "--outcome", "reached", now=when)
    hf.ok("complete", f"{tid}-1", "--answer", "satisfaction=不满意", "--answer", "recovery=8",
          "--reason-code", "waiting", "--reason", "等了三个小时", now=when)


@pytest.fixture
def scenario(hf_sqlite: Huifang) -> Huifang:
    hf = hf_sqlite
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13812345678")
    hf.ok("webhook", "add", "http://his.example/hook", "--events", "completed,ticket_opened,overdue,lost",
          "--secret", SECRET)
    hf.ok("webhook", "add", "http://crm.example/hook", "--events", "回访完成", "--secret", SECRET + "-2",
          "--personal")
    complete_unhappy(hf, "H1")
    return hf


# -- pure functions ---------------------------------------------------------------------------------------
def test_webhook_backoff_doubles_from_2_seconds_and_is_capped() -> None:
    from huifang.core.webhooks import BACKOFF_CAP, backoff

    assert [backoff(n).total_seconds() for n in range(1, 7)] == [2, 4, 8, 16, 32, 64]
    assert backoff(10).total_seconds() == BACKOFF_CAP == 600 and backoff(10_000).total_seconds() == BACKOFF_CAP


def test_webhook_signature_is_hmac_sha256_of_the_raw_body() -> None:
    from huifang.core.webhooks import headers, sign

    body = b'{"event":"completed","subject_id":"P1"}'
    assert sign(SECRET, body) == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    h = headers(SECRET, body, "W1-9", "completed", at(NOW))
    assert h["X-Huifang-Signature"] == sign(SECRET, body) and h["X-Huifang-Delivery"] == "W1-9"
    assert h["X-Huifang-Event"] == "completed" and h["X-Huifang-Timestamp"] == str(int(at(NOW).timestamp()))


def test_webhook_lost_is_a_close_as_lost_only() -> None:
    from types import SimpleNamespace

    from huifang.core.domain import FollowUp
    from huifang.core.webhooks import kind_of, parse_delivery_id

    assert kind_of(FollowUp.Closed.TOPIC, SimpleNamespace(status="lost")) == "lost"
    assert kind_of(FollowUp.Closed.TOPIC, SimpleNamespace(status="cancelled")) is None
    assert kind_of(FollowUp.Completed.TOPIC, SimpleNamespace()) == "completed"
    assert kind_of(FollowUp.AttemptRecorded.TOPIC, SimpleNamespace()) is None
    assert parse_delivery_id("W12-345") == ("W12", 345)


# -- the CLI ------------------------------------------------------------------------------------------------
def test_webhook_cli_errors_are_one_line_naming_the_flag(hf_sqlite: Huifang) -> None:
    hf = hf_sqlite
    cases = [(["--events", "finished", "--secret", SECRET], "--events: 'finished' is not one of 回访完成 (completed)"),
             (["--events", " , ", "--secret", SECRET], "--events: name at least one event"),
             (["--events", "lost", "--secret", "short"], "--secret: give at least 16 characters")]
    for args, message in cases:
        r = hf("webhook", "add", "http://his.example/hook", *args)
        assert r.code == 2 and r.err.count("\n") == 1 and message in r.err, r.err
    r = hf("webhook", "add", "ftp://his.example/x", "--events", "lost", "--secret", SECRET)
    assert r.code == 2 and "not an http:// or https:// address" in r.err
    assert hf("webhook", "add", "http://x/h", "--secret", SECRET).code == 2  # --events is required
    assert hf.ok("webhook", "list") == []  # nothing was written
    for args, message in [(["remove", "W9"], "webhook 'W9' does not exist"),
                          (["replay", "W1"], "'W1' is not a delivery id"),
                          (["deliveries", "--limit", "-1"], "--limit: must be 0 (all) or more")]:
        r = hf("webhook", *args)
        assert r.code == 2 and message in r.err and r.err.count("\n") == 1, r.err


def test_G8_webhook_management_is_admin_only_and_refusals_are_recorded(hf_sqlite: Huifang) -> None:
    hf = hf_sqlite
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")  # access control on
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", actor="adm")
    r = hf("webhook", "add", "http://his.example/hook", "--events", "lost", "--secret", SECRET, actor="n1")
    assert r.code == 2 and "n1 is agent" in r.err
    added = hf.ok("webhook", "add", "http://his.example/hook", "--events", "lost", "--secret", SECRET, actor="adm")
    assert hf("webhook", "list", actor="n1").code == 2 and hf("webhook", "remove", added["code"], actor="n1").code == 2
    assert hf("webhook", "deliveries", actor="n1").code == 2
    refusals = hf.ok("audit", "reads", "--actor", "n1", actor="adm")["refusals"]
    assert [x["target"] for x in refusals] == ["webhook to http://his.example/hook", "webhooks",
                                               f"webhook {added['code']} to http://his.example/hook",
                                               "webhook deliveries"]
    assert hf.ok("webhook", "remove", added["code"], actor="adm")["state"] == "removed"


def test_G8_webhook_secret_is_stored_encrypted_and_listed_masked(hf_sqlite: Huifang) -> None:
    hf = hf_sqlite
    added = hf.ok("webhook", "add", "https://his.example/hook", "--events", "completed,问题件已开", "--secret", SECRET)
    assert added["events"] == ["completed", "ticket_opened"] and added["secret"] == "********" + SECRET[-4:]
    raw = b"".join(p.read_bytes() for p in Path(hf.db).parent.glob(Path(hf.db).name + "*") if p.is_file())
    assert SECRET.encode() not in raw
    [listed] = hf.ok("webhook", "list")
    assert listed["secret"] == added["secret"] and listed["state"] == "active" and listed["state_label"] == "启用"
    assert SECRET not in hf("webhook", "list", json_out=False).out


# -- the dispatcher ---------------------------------------------------------------------------------------------
def test_G8_webhook_payloads_map_the_log_and_carry_personal_data_only_in_scope(scenario: Huifang,
                                                                              app_of: Any) -> None:
    from huifang.core.webhooks import run_pending, sign

    app = app_of(scenario.db)
    rx = Receiver()
    assert run_pending(app, at(NOW, 600), send=rx) == 3
    his, crm = rx.bodies("http://his.example/hook"), rx.bodies("http://crm.example/hook")
    assert [b["event"] for b in his] == ["completed", "ticket_opened"] and [b["event"] for b in crm] == ["completed"]
    done, ticket = his
    assert {k: done[k] for k in ("followup_id", "subject_id", "plugin", "kind", "trigger_id", "outcome")} == {
        "followup_id": "H1-1", "subject_id": "P1", "plugin": "medical", "kind": "discharge_first",
        "trigger_id": "H1", "outcome": "completed"}
    assert done["answers"]["satisfaction"] == "不满意" and done["occurred_at"] == "2026-09-28T09:05:00+08:00"
    assert ticket["ticket_id"] == "TK-H1-1-1" and ticket["reason_code"] == "waiting" and ticket["outcome"] == "open"
    n_done, n_ticket = (int(b["delivery_id"].split("-")[1]) for b in his)
    assert n_done < n_ticket and done["delivery_id"] == f"W1-{n_done}"  # subscription + notification id
    for url, body, hdrs in rx.calls:  # no personal data unless the scope allows it
        personal = url.startswith("http://crm")
        for text in ("张三", "13812345678", "等了三个小时"):
            assert (text in body.decode()) == personal, (url, text)
        assert hdrs["X-Huifang-Signature"] == sign(SECRET + ("-2" if personal else ""), body)
        assert hdrs["X-Huifang-Delivery"] == json.loads(body)["delivery_id"]
    assert crm[0]["personal"] == {"name": "张三", "phones": ["13812345678"]}
    reads = scenario.ok("audit", "reads", "--subject", "P1")["reads"]
    assert [(x["actor"], x["what"], x["target"]) for x in reads] == [("system", "webhook",
                                                                      f"webhook delivery W2-{n_done}")]
    assert run_pending(app, at(NOW, 700), send=rx) == 0  # all delivered: nothing is sent twice


def test_webhook_failure_blocks_later_events_and_retries_with_backoff(scenario: Huifang, app_of: Any) -> None:
    from huifang.core.webhooks import run_pending

    scenario.ok("webhook", "remove", "W2")
    app = app_of(scenario.db)
    rx = Receiver()
    rx.statuses = [503, None]
    t0 = at(NOW, 600)
    assert run_pending(app, t0, send=rx) == 1  # the first fails: the ticket behind it waits
    assert run_pending(app, t0 + timedelta(seconds=1), send=rx) == 0  # before its retry time
    assert run_pending(app, t0 + timedelta(seconds=2), send=rx) == 1  # fails again: next in 4 s
    w1 = scenario.ok("webhook", "list", now="2026-09-28T09:10:03+08:00")[0]
    assert w1["failures"] == 2 and w1["retry_at"] == "2026-09-28T09:10:06+08:00" and w1["blocked_by"]
    assert run_pending(app, t0 + timedelta(seconds=5), send=rx) == 0
    assert run_pending(app, t0 + timedelta(seconds=6), send=rx) == 2  # delivered, then the ticket
    ids = [b["delivery_id"] for b in rx.bodies()]
    assert ids[:3] == [ids[0]] * 3 and len(set(ids)) == 2  # the same delivery id on every retry, in order
    log = scenario.ok("webhook", "deliveries", now="2026-09-28T09:10:07+08:00")
    assert [(d["delivery"], d["attempt"], d["state"], d["status"]) for d in log] == [
        (ids[0], 1, "failed", 503), (ids[0], 2, "failed", None), (ids[0], 3, "delivered", 200),
        (ids[3], 1, "delivered", 200)]
    assert log[0]["error"] == "HTTP 503" and log[1]["error"].startswith("ConnectError")
    assert log[0]["state_label"] == "失败" and log[2]["state_label"] == "已送达" and log[0]["event_label"] == "回访完成"
    failed = scenario.ok("webhook", "deliveries", "--failed", now="2026-09-28T09:10:07+08:00")
    assert [d["state"] for d in failed] == ["failed", "failed"]
    assert scenario.ok("webhook", "list", now="2026-09-28T09:10:07+08:00")[0]["blocked_by"] is None


def test_webhook_replay_resends_the_same_delivery_and_keeps_the_order(scenario: Huifang, app_of: Any) -> None:
    from huifang.core import clock
    from huifang.core.domain import Ticket
    from huifang.core.errors import HuifangError
    from huifang.core.usecases import webhooks
    from huifang.core.webhooks import run_pending

    app = app_of(scenario.db)
    rx = Receiver()
    rx.statuses = [500]
    run_pending(app, at(NOW, 600), send=rx)
    first = rx.bodies()[0]["delivery_id"]
    [ticket] = app.recorder.select_notifications(start=1, limit=1, topics=[Ticket.Opened.TOPIC])
    later = f"W1-{ticket.id}"
    with clock.at(at(NOW, 601)), pytest.raises(HuifangError, match=f"{later} is not due yet: {first} goes first"):
        webhooks.replay(app, later, "cli", send=rx)
    with clock.at(at(NOW, 601)):
        done = webhooks.replay(app, first, "cli", send=rx)  # the failing head, without waiting
    assert done["state"] == "delivered" and not done["replay"]
    with clock.at(at(NOW, 602)):
        again = webhooks.replay(app, first, "cli", send=rx)  # a delivered one: re-sent as it was
    assert again["replay"] and rx.calls[-1][1] == rx.calls[-2][1]  # the same body, the same delivery id
    assert run_pending(app, at(NOW, 603), send=rx) == 1  # W1's ticket (W2's completion went at once)
    with clock.at(at(NOW, 604)):
        log = [d for d in webhooks.deliveries(app, "cli") if d["subscription"] == "W1"]
    assert [(d["delivery"], d["state"], d["replay"]) for d in log] == [
        (first, "failed", False), (first, "delivered", False), (first, "delivered", True), (later, "delivered", False)]


def test_webhook_overdue_and_cancelled_events(hf_sqlite: Huifang, app_of: Any) -> None:
    from huifang.core.webhooks import run_pending

    hf = hf_sqlite
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13812345678")
    hf.ok("webhook", "add", "http://his.example/hook", "--events", "overdue,lost", "--secret", SECRET)
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "H1", *ATTRS)
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "H2", *ATTRS, now="2026-09-28T10:00:00+08:00")
    hf.ok("close", "H2-1", "--cancel", "duplicate", now="2026-09-28T10:00:00+08:00")  # not lost: not sent
    hf.ok("tick", now="2026-10-10T09:00:00+08:00")
    rx = Receiver()
    assert run_pending(app_of(hf.db), at("2026-10-10T09:00:01+08:00"), send=rx) == 1
    [overdue] = rx.bodies()
    assert overdue["event"] == "overdue" and overdue["followup_id"] == "H1-1" and overdue["outcome"] == "overdue"
    assert overdue["due"] == "2026-10-08T23:59:59+08:00" and overdue["owner"] == "n1" and "personal" not in overdue


def test_webhook_run_once_and_replay_from_the_cli_record_a_refused_connection(scenario: Huifang) -> None:
    """The real sender (httpx) against a closed port on 127.0.0.1: a failed attempt is recorded, nothing
    moves, and a replay says so on one line with exit 1."""
    from tests.service_support import free_port

    scenario.ok("webhook", "remove", "W1")
    scenario.ok("webhook", "remove", "W2")
    url = f"http://127.0.0.1:{free_port()}/hook"
    code = scenario.ok("webhook", "add", url, "--events", "lost,completed", "--secret", SECRET)["code"]
    complete_unhappy(scenario, "H2", when="2026-09-28T09:06:00+08:00")
    assert scenario.ok("webhook", "run", "--once", now="2026-09-28T09:07:00+08:00") == {"attempts": 1}
    assert scenario.ok("webhook", "run", "--once", now="2026-09-28T09:07:01+08:00") == {"attempts": 0}  # backoff
    [failed] = scenario.ok("webhook", "deliveries", "--failed")
    assert failed["subscription"] == code and failed["status"] is None and failed["retry_at"] == "2026-09-28T09:07:02+08:00"
    r = scenario("webhook", "replay", failed["delivery"], now="2026-09-28T09:07:01+08:00", json_out=False)
    assert r.code == 1 and r.out.startswith(f"delivery {failed['delivery']}: 失败: ConnectError")
    listed = {w["code"]: w for w in scenario.ok("webhook", "list")}
    assert listed[code]["blocked_by"] == failed["delivery"] and listed[code]["failures"] == 2
