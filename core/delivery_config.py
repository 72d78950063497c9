"""The `[delivery]` section of huifang.toml: which adapter serves each channel and the adapters'
settings (validated at load with one-line errors naming the key; pydantic only, so loading the
config stays light)."""
from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# the channels a message can be delivered on (the calling channels phone and home_visit are not)
MESSAGE_CHANNELS = ("sms", "wechat", "qq", "email", "letter", "app", "web")
BUILT_IN = ("file", "smtp", "http_sms", "http_wechat")


class SmtpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    user: str | None = None
    password: str | None = None
    password_env: str = "HUIFANG_SMTP_PASSWORD"  # read when `password` is not in the file
    sender: str = Field(alias="from")
    starttls: bool = False
    ssl: bool = False  # SMTPS (port 465)
    timeout: float = Field(default=10.0, gt=0, le=300)

    @field_validator("sender")
    @classmethod
    def _sender(cls, v: str) -> str:
        if "@" not in v:
            raise ValueError(f"'{v}' is not an e-mail address")
        return v

    def secret(self) -> str | None:
        return self.password if self.password is not None else os.environ.get(self.password_env) or None


class HttpGatewayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str
    template_id: str
    signature: str = ""  # 签名 (SignName): required by SMS gateways, unused by WeChat ones
    access_key: str | None = None
    access_key_env: str | None = None
    access_secret: str | None = None  # signs the body (HMAC-SHA256) when given
    access_secret_env: str | None = None
    key_header: str = "X-Access-Key"
    timeout: float = Field(default=10.0, gt=0, le=300)
    ok_codes: list[str] = ["OK", "0", "Ok", "SUCCESS"]
    bounce_codes: list[str] = ["isv.MOBILE_NUMBER_ILLEGAL", "InvalidParameterValue.IncorrectPhoneNumber",
                               "isv.BLACK_KEY_CONTROL_LIMIT", "43004", "40003"]

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"'{v}' is not an http(s) URL")
        return v

    def key(self) -> str | None:
        return self.access_key or (os.environ.get(self.access_key_env) if self.access_key_env else None) or None

    def secret(self) -> str | None:
        return self.access_secret or (os.environ.get(self.access_secret_env) if self.access_secret_env else None) \
            or None


class DeliveryConfig(BaseModel):
    """`[delivery]`: which adapter serves each channel (default `file`), and the adapters' sections."""

    model_config = ConfigDict(extra="forbid")
    # the adapters' sections come first: the channels' checks below read them
    smtp: SmtpConfig | None = None
    http_sms: HttpGatewayConfig | None = None
    http_wechat: HttpGatewayConfig | None = None
    outbox_dir: str | None = None
    staff_channel: str = "app"  # G3/G13 reminders and escalations to staff go on this channel
    staff_contacts: dict[str, str] = {}  # staff code -> their address on staff_channel (default: the code)
    sms: str = "file"
    wechat: str = "file"
    qq: str = "file"
    email: str = "file"
    letter: str = "file"
    app: str = "file"
    web: str = "file"

    @field_validator("staff_channel")
    @classmethod
    def _staff_channel(cls, v: str) -> str:
        if v not in MESSAGE_CHANNELS:
            raise ValueError(f"'{v}' is not one of {', '.join(MESSAGE_CHANNELS)}")
        return v

    @field_validator(*MESSAGE_CHANNELS)
    @classmethod
    def _adapter(cls, v: str, info: ValidationInfo) -> str:
        """A built-in adapter must serve the channel and have its section; a plugin's adapter is
        checked when the first message goes out (the plugins are not loaded yet)."""
        serves = {"file": MESSAGE_CHANNELS, "smtp": ("email",), "http_sms": ("sms",), "http_wechat": ("wechat",)}
        if v in serves and info.field_name not in serves[v]:
            raise ValueError(f"adapter '{v}' serves only {', '.join(serves[v])}")
        if v in serves and v != "file" and info.data.get(v) is None:
            raise ValueError(f"adapter '{v}' needs a [delivery.{v}] section")
        if not v.strip():
            raise ValueError(f"name an adapter: {', '.join(BUILT_IN)} or a plugin's")
        return v

    def adapter_for(self, channel: str) -> str:
        return str(getattr(self, channel, "file"))
