"""Delivery adapters: how a message reaches a subject or a staff member on a channel (sms, wechat,
email, letter, app …). The engine ships `file` (outbox directory, the default), `smtp` and the HTTP
gateways; a plugin adds others with the hook `huifang_channel_adapters`. The engine picks the adapter
configured for the channel (`[delivery] sms = "http_sms"`), records every outcome as an event and
never sends the same (purpose, ref, channel) twice: an adapter only sends and reports.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

SENT: Final = "sent"
FAILED: Final = "failed"
BOUNCED: Final = "bounced"
SEND_STATUSES = (SENT, FAILED, BOUNCED)
SendStatus = Literal["sent", "failed", "bounced"]


class OutgoingMessage(BaseModel):
    """One message to send. `to` is the address on the channel (phone, e-mail, openid, postal
    address, staff code), already decrypted; `key` identifies the delivery (purpose:ref:channel) and
    is stable across retries, so a gateway that deduplicates on a client id can use it."""

    model_config = ConfigDict(frozen=True)
    key: str
    channel: str
    to: str
    text: str
    subject_line: str | None = None  # e-mail subject; other channels ignore it
    purpose: str
    params: Mapping[str, Any] = Field(default_factory=dict)  # template parameters for template gateways


class SendResult(BaseModel):
    """What became of one send: `sent` (accepted by the gateway or server), `failed` (not sent:
    network, refused, misconfigured — worth retrying) or `bounced` (the recipient address was
    rejected). `detail` is shown to operators and recorded: never put secrets in it."""

    model_config = ConfigDict(frozen=True)
    status: SendStatus
    detail: str = ""
    reference: str | None = None  # the gateway's message id, if any


@runtime_checkable
class ChannelAdapter(Protocol):
    """A delivery adapter. `name` is what `[delivery] <channel> = "<name>"` selects; `channels` are
    the channels it can serve. `send` must not raise for an unreachable gateway or a rejected
    recipient: return a failed or bounced SendResult (an exception is recorded as failed)."""

    @property
    def name(self) -> str: ...

    @property
    def channels(self) -> Sequence[str]: ...

    def send(self, message: OutgoingMessage) -> SendResult: ...
