"""Delivery adapters (the file outbox, a plugin's adapter), the Delivery record and what goes out through
them: G21 greetings, G3 reminders, G12 escalations; idempotence, retry, config errors, G7/G8."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from huifang.core.plugin_api import hookimpl
from tests.conftest import Huifang

NOW = "2026-09-28T09:00:00+08:00"
DISCHARGE = ["--attr", "department=cardiology", "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1",
             "--attr", "attending_doctor=dr1"]


def configure(hf: Huifang, tmp_path: Path, extra: str = "") -> Path:
    outbox = tmp_path / "outbox"
    cfg = tmp_path / "huifang.toml"
    cfg.write_text(f'[delivery]\noutbox_dir = "{outbox}"\n{extra}', encoding="utf-8")
    hf.config = str(cfg)
    return outbox


def lines(outbox: Path, channel: str) -> list[dict[str, Any]]:
    path = outbox / f"{channel}.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


@contextmanager
def app_at(hf: Huifang, when: str = NOW, extra_plugins: dict[str, Any] | None = None) -> Iterator[Any]:
    """The application on hf's store and config, at `when` (core calls without the CLI)."""
    from huifang.core import clock
    from huifang.core.config import load_config
    from huifang.projections import open_app

    app = open_app(hf.db, load_config(hf.config, db=hf.db), extra_plugins=extra_plugins)
    try:
        with clock.at(clock.parse_instant(when, "now")):
            yield app
    finally:
        app.close()


def test_G21_greetings_go_out_through_the_outbox_once_and_say_what_became_of_each(hf, tmp_path):
    from tests.attacks.privacy_kit import raw_bytes

    outbox = configure(hf, tmp_path)
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001", "--attr", "birthday=09-28")
    hf.ok("subject", "add", "P2", "--name", "李四", "--attr", "birthday=1960-09-28")  # no phone
    out = hf.ok("greetings", "--occasion", "birthday", json_out=False)
    assert "短信 (file): 发送失败 1, 已发送 1" in out, out
    assert "P2 短信: 发送失败: subject P2 has no address for sms" in out
    assert "queued" not in out
    sent = lines(outbox, "sms")
    assert [(m["to"], m["purpose"], m["subject_line"]) for m in sent] == [("13800000001", "greeting", "生日祝福")]
    assert "张三" in sent[0]["text"] and "生日快乐" in sent[0]["text"]
    assert (outbox / "sms.jsonl").stat().st_mode & 0o077 == 0  # addresses in the clear: the owner's eyes only
    again = hf.ok("greetings", "--occasion", "birthday", now="2026-09-28T15:00:00+08:00")
    assert [(d["subject"], d["status"]) for d in again["deliveries"]] == [("P1", "sent"), ("P2", "failed")]
    assert len(lines(outbox, "sms")) == 1  # the same greeting is never sent twice
    failed = hf.ok("delivery", "list", "--status", "发送失败")
    assert [d["id"] for d in failed] == ["greeting:birthday:-:2026-09-28/P2:sms"]
    raw = raw_bytes(hf.db)
    assert "生日快乐".encode() not in raw and b"13800000001" not in raw  # the text and address are sealed (G8)


def test_G3_reminders_and_G12_escalations_reach_staff_through_the_adapter(hf, tmp_path):
    outbox = configure(hf, tmp_path, '[delivery.staff_contacts]\nn1 = "n1@ward.example"\n')
    hf.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    hf.ok("subject", "add", "P3", "--name", "王五")
    hf.ok("trigger", "discharge", "--subject", "P3", "--id", "D3", "--at", "2026-10-12T09:00+08:00", *DISCHARGE,
          now="2026-10-12T09:00+08:00")
    t = hf.ok("tick", now="2026-10-21T10:05+08:00")  # G3: the working day before the deadline
    assert t["reminded"] == 1 and t["delivered"] == 1
    assert [(m["to"], m["purpose"], m["key"]) for m in lines(outbox, "app")] == \
        [("n1@ward.example", "reminder", "reminder:D3-1:app")]
    assert "D3-1" in lines(outbox, "app")[0]["text"]
    t = hf.ok("tick", now="2026-10-23T08:00+08:00")  # overdue: escalated to the supervisor (G12)
    assert t["escalated"] == 1 and t["delivered"] == 1
    last = lines(outbox, "app")[-1]
    assert (last["to"], last["purpose"]) == ("hn", "escalation") and "D3-1" in last["text"]
    assert hf.ok("tick", now="2026-10-23T09:00+08:00")["delivered"] == 0  # nothing sent twice
    assert len(lines(outbox, "app")) == 2
    shown = hf.ok("delivery", "view", "escalation:D3-1#1:app")
    assert shown["status"] == "sent" and shown["staff"] == "hn" and shown["history"][0]["adapter"] == "file"


@pytest.mark.parametrize("toml, message", [
    ('[delivery]\nsms = "smtp"\n', "delivery.sms: adapter 'smtp' serves only email"),
    ('[delivery]\nemail = "smtp"\n', "delivery.email: adapter 'smtp' needs a [delivery.smtp] section"),
    ('[delivery.smtp]\nhost = "mail"\nport = 70000\nfrom = "a@b.cn"\n', "delivery.smtp.port: Input should be"),
    ('[delivery.http_sms]\nendpoint = "ftp://gw"\ntemplate_id = "T1"\n', "delivery.http_sms.endpoint: 'ftp://gw' is"),
    ('[delivery]\nsmss = "file"\n', "delivery.smss: unknown key"),
])
def test_delivery_config_errors_are_one_line_naming_the_key(hf_sqlite, tmp_path, toml, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(toml, encoding="utf-8")
    r = hf_sqlite("delivery", "list", config=str(cfg))
    assert r.code == 2 and message in r.err and r.err.count("\n") == 1, r.err


def test_a_failed_delivery_is_recorded_and_retried_by_hand_once(hf_sqlite, tmp_path):
    hf = hf_sqlite
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    cfg = tmp_path / "huifang.toml"
    cfg.write_text(f'[delivery]\noutbox_dir = "{blocker}"\n', encoding="utf-8")  # the outbox cannot be written
    hf.config = str(cfg)
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    out = hf.ok("greetings", "--occasion", "holiday", "--name", "国庆", json_out=False)
    assert "短信 (file): 发送失败 1" in out
    code = "greeting:holiday:国庆:2026-09-28/P1:sms"
    assert hf("delivery", "retry", code).code == 1  # still broken: failed again, recorded
    assert [t["status"] for t in hf.ok("delivery", "view", code)["history"]] == ["failed", "failed"]
    good = tmp_path / "outbox"
    cfg.write_text(f'[delivery]\noutbox_dir = "{good}"\n', encoding="utf-8")
    done = hf.ok("delivery", "retry", code)
    assert done["status"] == "sent" and done["tries"] == 3
    r = hf("delivery", "retry", code)
    assert r.code == 2 and "not sent twice" in r.err
    assert len(lines(good, "sms")) == 1
    listed = hf.ok("delivery", "list", "--purpose", "问候")
    assert [(d["id"], d["status"]) for d in listed] == [(code, "sent")]


class RecordingAdapter:
    """A plugin's adapter for the `letter` channel: records what it is given; bounces unknown streets."""

    name = "print_room"
    channels = ("letter",)

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: Any) -> Any:
        from huifang.core.plugin_api.channels import SendResult

        if "无此街道" in message.to:
            return SendResult(status="bounced", detail="address unknown to the post office")
        self.sent.append(message)
        return SendResult(status="sent", detail="queued for printing", reference="L-1")


class PrintRoomPlugin:
    name = "printroom"

    def __init__(self) -> None:
        self.adapter = RecordingAdapter()

    @hookimpl
    def huifang_channel_adapters(self, settings: Any) -> list[Any]:
        return [self.adapter]


def test_G7_a_plugins_adapter_serves_its_channel_opt_outs_and_bounces_are_recorded(hf_sqlite, tmp_path):
    from huifang.core.delivery import deliver

    hf = hf_sqlite
    configure(hf, tmp_path, 'letter = "print_room"\n')
    hf.ok("subject", "add", "P1", "--name", "张三", "--attr", "address=北京市朝阳区建国路1号")
    hf.ok("subject", "add", "P2", "--name", "李四", "--attr", "address=无此街道 9 号")
    hf.ok("subject", "add", "P3", "--name", "王五", "--attr", "address=上海市")
    hf.ok("subject", "optout", "P3", "--channel", "letter")
    plugin = PrintRoomPlugin()
    with app_at(hf, extra_plugins={"printroom": plugin}) as app:
        kw: dict[str, Any] = {"channel": "信函", "to": None, "text": "您的回访问卷", "purpose": "invite", "actor": "cli"}
        d1 = deliver(app, subject_id="P1", ref="I1", **kw)
        d2 = deliver(app, subject_id="P2", ref="I2", **kw)
        d3 = deliver(app, subject_id="P3", ref="I3", **kw)
        again = deliver(app, subject_id="P1", ref="I1", **kw)
    assert (d1.status, d1.adapter, d1.tries[-1]["reference"]) == ("sent", "print_room", "L-1")
    assert [m.to for m in plugin.adapter.sent] == ["北京市朝阳区建国路1号"]  # once, though asked twice
    assert again.version == d1.version
    assert (d2.status, d2.detail) == ("bounced", "address unknown to the post office")
    assert (d3.status, d3.detail) == ("failed", "subject P3 opted out of letter (G7)")
    assert hf.ok("audit", "reads", "--subject", "P1")  # the address was read as the system, recorded (G8)


def test_G13_escalations_of_a_completion_go_out_at_the_next_pass(hf_sqlite, tmp_path):
    from tests.test_ticket_rules import complete_policy, policies

    hf = hf_sqlite
    outbox = configure(hf, tmp_path)
    policies(hf, tmp_path, {"P1": "sh-pudong"})
    done = complete_policy(hf, "P1", self_signed="no")  # 代客户签名: escalated at once (G13)
    ticket = done["tickets"][0]
    ran = hf.ok("delivery", "run", now="2026-09-01T10:45+08:00")  # what `serve` runs every few seconds
    assert ran["delivered"] == 2
    sent = {(m["to"], m["key"]) for m in lines(outbox, "app")}
    assert sent == {("cc-lead", "escalation:P1-policy#1:app"), ("fin-dir", f"escalation:{ticket}#1:app")}
    assert hf.ok("delivery", "run", now="2026-09-01T10:50+08:00")["delivered"] == 0
    assert hf.ok("tick", now="2026-09-01T10:55+08:00")["delivered"] == 0  # tick runs the same pass: nothing twice


def test_G8_with_access_control_on_a_greeting_reaches_the_subject_and_the_systems_read_is_recorded(hf, tmp_path):
    """The system sends under the admin's standing configuration: no person's role to check, yet the
    lookup of the subject's address is a recorded read by `system`."""
    outbox = configure(hf, tmp_path)
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")  # access control on
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001", "--attr", "birthday=09-28",
          actor="adm")
    out = hf.ok("greetings", "--occasion", "birthday", actor="adm")
    assert [(d["subject"], d["status"]) for d in out["deliveries"]] == [("P1", "sent")]
    assert [m["to"] for m in lines(outbox, "sms")] == ["13800000001"]
    reads = hf.ok("audit", "reads", "--subject", "P1", actor="adm")
    assert [(r["actor"], r["what"], r["target"]) for r in reads["reads"]] == [
        ("system", "contact", "delivery:greeting:birthday:-:2026-09-28/P1:sms")]
