"""The network adapters against real local servers on 127.0.0.1: SMTP (aiosmtpd) and an HTTP SMS gateway
(http.server) in the shape of common Chinese gateways. G21 greetings go out through them; a gateway that is
down is a recorded failure that `delivery retry` sends once it is up; secrets are never recorded."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Huifang

KEY, SECRET, PASSWORD = "AK-test-4711", "sk-test-secret-0815", "smtp-pass-2718"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """aiosmtpd handler: keeps every message; refuses mailboxes at nobody@."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult

        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == PASSWORD.encode())


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    pytest.importorskip("aiosmtpd")
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_G21_greetings_by_email_reach_a_real_smtp_server_in_chinese(hf_sqlite, tmp_path, smtp_server, monkeypatch):
    from tests.attacks.privacy_kit import raw_bytes

    inbox, port = smtp_server
    hf: Huifang = hf_sqlite
    monkeypatch.setenv("HUIFANG_SMTP_PASSWORD", PASSWORD)
    cfg = tmp_path / "huifang.toml"
    cfg.write_text(f'[huifang]\norganisation = "仁和医院"\n[delivery]\nemail = "smtp"\n'
                   f'[delivery.smtp]\nhost = "127.0.0.1"\nport = {port}\nuser = "huifang"\nfrom = "回访中心 <hf@renhe.example>"\n',
                   encoding="utf-8")
    hf.config = str(cfg)
    hf.ok("subject", "add", "P1", "--name", "张三", "--email", "zhangsan@example.cn")
    hf.ok("subject", "add", "P2", "--name", "李四", "--email", "nobody@example.cn")
    out = hf.ok("greetings", "--occasion", "holiday", "--name", "中秋", "--channel", "email", json_out=False)
    assert "电子邮件 (smtp): 退信 1, 已发送 1" in out or "(smtp): 退信 1, 已发送 1" in out, out
    assert "P2" in out and "550" in out
    assert len(inbox.messages) == 1 and set(inbox.logins) == {(b"huifang", PASSWORD.encode())}
    sender, rcpts, raw = inbox.messages[0]
    assert (sender, rcpts) == ("hf@renhe.example", ["zhangsan@example.cn"])
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == "节日问候"
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    assert "【仁和医院】张三您好，祝您中秋快乐！" in body
    again = hf.ok("greetings", "--occasion", "holiday", "--name", "中秋", "--channel", "email")
    assert [d["status"] for d in again["deliveries"]] == ["sent", "bounced"] and len(inbox.messages) == 1
    assert PASSWORD.encode() not in raw_bytes(hf.db)


class Gateway:
    """An SMS gateway on 127.0.0.1: `mode` ok | down; numbers ending 0000 are illegal (bounce)."""

    def __init__(self) -> None:
        self.mode = "down"
        self.requests: list[tuple[dict[str, str], bytes]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                gateway.requests.append(({k: v for k, v in self.headers.items()}, raw))
                if gateway.mode == "down":
                    status, reply = 503, {"Code": "ServiceUnavailable", "Message": f"busy, key {KEY} rejected"}
                elif json.loads(raw)["PhoneNumbers"].endswith("0000"):
                    status, reply = 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
                else:
                    status, reply = 200, {"Code": "OK", "Message": "OK", "BizId": f"biz-{len(gateway.requests)}"}
                data = json.dumps(reply, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    try:
        yield g
    finally:
        g.close()


def test_G21_sms_gateway_down_is_a_recorded_failure_and_retry_sends_once_it_is_up(hf_sqlite, tmp_path: Path,
                                                                                   gateway, monkeypatch):
    from tests.attacks.privacy_kit import raw_bytes

    hf: Huifang = hf_sqlite
    monkeypatch.setenv("TEST_SMS_KEY", KEY)
    cfg = tmp_path / "huifang.toml"
    cfg.write_text(f'[delivery]\nsms = "http_sms"\n[delivery.http_sms]\nendpoint = "{gateway.url}"\n'
                   f'template_id = "SMS_270115"\nsignature = "仁和医院"\naccess_key_env = "TEST_SMS_KEY"\n'
                   f'access_secret = "{SECRET}"\n', encoding="utf-8")
    hf.config = str(cfg)
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    hf.ok("subject", "add", "P2", "--name", "李四", "--phone", "13800000000")
    first = hf.ok("greetings", "--occasion", "holiday", "--name", "国庆")
    assert [(d["subject"], d["status"]) for d in first["deliveries"]] == [("P1", "failed"), ("P2", "failed")]
    assert "HTTP 503" in first["deliveries"][0]["detail"] and KEY not in first["deliveries"][0]["detail"]
    gateway.mode = "ok"
    codes = [d["id"] for d in first["deliveries"]]
    sent = hf.ok("delivery", "retry", codes[0])
    assert sent["status"] == "sent" and sent["tries"] == 2
    bounced = hf("delivery", "retry", codes[1])
    assert bounced.code == 1 and json.loads(bounced.out)["status"] == "bounced"
    headers, raw = gateway.requests[2]
    body = json.loads(raw)
    assert (body["PhoneNumbers"], body["SignName"], body["TemplateCode"], body["OutId"]) == \
        ("13800000001", "仁和医院", "SMS_270115", codes[0])
    assert "张三" in json.loads(body["TemplateParam"])["content"]
    assert headers["X-Access-Key"] == KEY
    expected = hmac.new(SECRET.encode(), headers["X-Timestamp"].encode() + raw, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected
    assert hf("delivery", "retry", codes[0]).code == 2  # sent: never twice
    assert len(gateway.requests) == 4
    view = hf.ok("delivery", "view", codes[0])
    assert [t["status"] for t in view["history"]] == ["failed", "sent"] and view["history"][1]["reference"] == "biz-3"
    raw_store = raw_bytes(hf.db)
    assert KEY.encode() not in raw_store and SECRET.encode() not in raw_store
