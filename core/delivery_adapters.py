"""The built-in delivery adapters and the `[delivery]` section of huifang.toml.

- `file` (default for every channel): appends each message as one JSON line to
  `<outbox_dir>/<channel>.jsonl` (default: the `outbox` directory beside the store), for offline
  sites that print or forward it, and for tests.
- `smtp`: e-mail through an SMTP server (smtplib; STARTTLS or SSL; login when a user is given).
- `http_sms` / `http_wechat`: a JSON POST to an HTTP gateway in the shape of common Chinese SMS
  gateways (签名 SignName, template id TemplateCode, TemplateParam, OutId, the access key in a
  header and an HMAC-SHA256 signature of the body); the same adapter with its own section serves
  WeChat template messages.

Secrets (SMTP password, gateway keys) come from the file or from environment variables named in it;
they are never recorded: an adapter's detail is scrubbed of them before it is saved.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from pathlib import Path
from typing import Any

from . import clock
from .delivery_config import MESSAGE_CHANNELS, DeliveryConfig, HttpGatewayConfig, SmtpConfig
from .plugin_api.channels import BOUNCED, FAILED, SENT, ChannelAdapter, OutgoingMessage, SendResult


class FileOutbox:
    """Appends what would be sent, one JSON line per message, to `<dir>/<channel>.jsonl` (readable by
    the store's owner only: it holds addresses and texts in the clear, for whoever forwards them)."""

    name = "file"
    channels = MESSAGE_CHANNELS
    _lock = threading.Lock()

    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, message: OutgoingMessage) -> SendResult:
        line = json.dumps({"key": message.key, "channel": message.channel, "to": message.to,
                           "subject_line": message.subject_line, "text": message.text, "purpose": message.purpose,
                           "params": dict(message.params)}, ensure_ascii=False)
        path = self.directory / f"{message.channel}.jsonl"
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # addresses and texts in the clear
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with self._lock, os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError as e:
            return SendResult(status=FAILED, detail=f"outbox {path}: {e.strerror or e}")
        return SendResult(status=SENT, detail=f"written to {path}")


class SmtpAdapter:
    """E-mail through SMTP: a rejected recipient is a bounce, anything else that stops it a failure."""

    name = "smtp"
    channels = ("email",)

    def __init__(self, config: SmtpConfig):
        self.config = config

    def send(self, message: OutgoingMessage) -> SendResult:
        import smtplib
        import ssl
        from email.message import EmailMessage
        from email.utils import make_msgid

        c = self.config
        mail = EmailMessage()
        mail["From"] = c.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject_line or (message.text.splitlines() or [""])[0][:60]
        mail["Message-ID"] = make_msgid(domain=c.sender.rpartition("@")[2] or None)
        mail.set_content(message.text)
        try:
            cls = smtplib.SMTP_SSL if c.ssl else smtplib.SMTP
            with cls(c.host, c.port, timeout=c.timeout) as smtp:
                if c.starttls and not c.ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if c.user:
                    smtp.login(c.user, self.config.secret() or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as e:
            code, why = next(iter(e.recipients.values()), (0, b""))
            return SendResult(status=BOUNCED, detail=f"SMTP {code} {_text(why)}".strip())
        except smtplib.SMTPResponseException as e:
            return SendResult(status=FAILED, detail=f"SMTP {e.smtp_code} {_text(e.smtp_error)}".strip())
        except (smtplib.SMTPException, OSError) as e:
            return SendResult(status=FAILED, detail=f"SMTP {c.host}:{c.port}: {type(e).__name__}: {e}")
        if refused:
            code, why = next(iter(refused.values()))
            return SendResult(status=BOUNCED, detail=f"SMTP {code} {_text(why)}".strip())
        return SendResult(status=SENT, detail=f"accepted by {c.host}:{c.port}", reference=str(mail["Message-ID"]))


class HttpGatewayAdapter:
    """A JSON POST in the shape of common Chinese SMS gateways:
    `{"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam" (JSON text), "OutId"}`, the access
    key in `key_header`, `X-Timestamp` and `X-Signature` = hex HMAC-SHA256(secret, timestamp + body).
    The reply's `Code` (or `code`) tells sent / bounced / failed; no code on a 2xx reply is sent."""

    def __init__(self, name: str, channels: tuple[str, ...], config: HttpGatewayConfig):
        self.name = name
        self.channels = channels
        self.config = config
        self._client: Any = None

    def client(self) -> Any:
        """One connection pool per adapter (a serve process sends many); certificates are loaded only
        for an https endpoint."""
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=self.config.timeout, verify=self.config.endpoint.startswith("https"))
        return self._client

    def body(self, message: OutgoingMessage) -> dict[str, Any]:
        params = {"content": message.text, **{k: str(v) for k, v in message.params.items()}}
        return {"PhoneNumbers": message.to, "SignName": self.config.signature, "TemplateCode": self.config.template_id,
                "TemplateParam": json.dumps(params, ensure_ascii=False), "OutId": message.key}

    def send(self, message: OutgoingMessage) -> SendResult:
        import httpx

        c = self.config
        raw = json.dumps(self.body(message), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        key, secret = c.key(), c.secret()
        if key:
            headers[c.key_header] = key
        if secret:
            stamp = str(int(clock.now().timestamp()))  # the store's clock, as every recorded time
            headers["X-Timestamp"] = stamp
            headers["X-Signature"] = hmac.new(secret.encode(), stamp.encode() + raw, hashlib.sha256).hexdigest()
        try:
            reply = self.client().post(c.endpoint, content=raw, headers=headers)
        except httpx.HTTPError as e:
            return SendResult(status=FAILED, detail=f"gateway {c.endpoint}: {type(e).__name__}: {e}")
        try:
            data = reply.json()
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        code = data.get("Code", data.get("code"))
        said = str(data.get("Message") or data.get("message") or reply.reason_phrase or "")[:200]
        ref = data.get("BizId") or data.get("RequestId") or data.get("msgid")
        reference = str(ref) if ref is not None else None
        if code is not None and str(code) in c.bounce_codes:
            return SendResult(status=BOUNCED, detail=f"gateway {code}: {said}".strip(), reference=reference)
        if not reply.is_success:
            return SendResult(status=FAILED, detail=f"gateway HTTP {reply.status_code}"
                                                    f"{f' {code}' if code is not None else ''}: {said}".strip())
        if code is not None and str(code) not in c.ok_codes:
            return SendResult(status=FAILED, detail=f"gateway {code}: {said}".strip(), reference=reference)
        return SendResult(status=SENT, detail=f"accepted by gateway{f' ({code})' if code is not None else ''}",
                          reference=reference)


def _text(why: Any) -> str:
    return why.decode("utf-8", "replace") if isinstance(why, bytes) else str(why)


def built_in(config: DeliveryConfig, outbox: Path) -> dict[str, ChannelAdapter]:
    """The engine's adapters this deployment configured (file always)."""
    adapters: dict[str, ChannelAdapter] = {"file": FileOutbox(outbox)}
    if config.smtp is not None:
        adapters["smtp"] = SmtpAdapter(config.smtp)
    if config.http_sms is not None:
        adapters["http_sms"] = HttpGatewayAdapter("http_sms", ("sms",), config.http_sms)
    if config.http_wechat is not None:
        adapters["http_wechat"] = HttpGatewayAdapter("http_wechat", ("wechat",), config.http_wechat)
    return adapters


def secrets_of(config: DeliveryConfig) -> list[str]:
    """Every secret the adapters were given, to scrub from recorded details."""
    found: list[str | None] = []
    if config.smtp is not None:
        found.append(config.smtp.secret())
    for gw in (config.http_sms, config.http_wechat):
        if gw is not None:
            found += [gw.key(), gw.secret()]
    return [s for s in found if s and len(s) >= 4]
