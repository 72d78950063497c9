"""huifang.toml: one file per deployment selects plugins and overrides their parameters."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from .clock import zone
from .config_files import DEFAULT_FILE, DEFAULTS, ConfigLocation, locate_config, read_config_data
from .delivery_config import DeliveryConfig
from .errors import ConfigError


def pydantic_message(error: Exception, prefix: str = "") -> str:
    """First pydantic error as one line: 'key.path: message (got value)'."""
    if not isinstance(error, ValidationError):
        return f"{prefix}: {error}" if prefix else str(error)
    e = error.errors()[0]
    loc = ".".join(str(p) for p in e.get("loc", ()))
    sep = " " if prefix.startswith("--") else "."
    path = sep.join(p for p in (prefix, loc) if p)
    msg = e.get("msg", "invalid").removeprefix("Value error, ")
    if e.get("type") == "extra_forbidden":
        msg = "unknown key (check spelling; see README for the allowed keys)"
    elif e.get("type") == "missing":
        msg = "is required"
    got = e.get("input")
    extra = f" (got {got!r})" if got is not None and e.get("type") not in ("missing", "extra_forbidden") \
        and not isinstance(got, dict) else ""
    return f"{path}: {msg}{extra}"


class LockLadder(BaseModel):
    """A4 overdue lock as an engine capability: days overdue -> levels up the ladder to unlock."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    level1_days: int = 1
    level2_days: int = 3
    hard_days: int = 7


class Deployment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plugins: list[str] | None = None  # None = every installed plugin
    timezone: str = "Asia/Shanghai"
    organisation: str = ""
    lang: str = "zh_CN"  # display language of labels (zh_CN or en); --lang and HUIFANG_LANG override it
    lock_ladder: LockLadder = Field(default_factory=LockLadder)
    # G8, G10 (README "For auditors"): key directory (seal + master key; default beside the store), where
    # recordings are copied (G11; default beside the store), subject attributes stored encrypted
    key_dir: str | None = None
    recordings_dir: str | None = None
    pii_attributes: list[str] | None = None  # None = privacy.DEFAULT_PII_ATTRIBUTES
    # how far a record may fall behind the store's latest one (minutes): fixed at init, a later config
    # may only narrow it (timekeeping.py); None = the default of the clock mode (system 5, logical none)
    clock_tolerance_minutes: int | None = Field(default=None, ge=0, le=24 * 60)

    @field_validator("lang")
    @classmethod
    def _lang(cls, v: str) -> str:
        from .errors import HuifangError
        from .labels import normalise_lang

        try:
            return normalise_lang(v) or "zh_CN"
        except HuifangError as e:
            raise ValueError(e.message) from None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zone(v)
        except Exception as e:
            raise ValueError(str(e)) from None
        return v


class ServeConfig(BaseModel):
    """`[serve]`: the HTTP service (`huifang serve`)."""

    model_config = ConfigDict(extra="forbid")
    # G8: the dashboard behind a reverse proxy that authenticates staff and names them in this request
    # header (e.g. "X-Remote-User"); None (the default): staff sign in with `staff password`. Only safe
    # when nothing but the proxy can reach the service (it must strip the header from clients).
    trusted_header: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")
    public_url: str = "http://127.0.0.1:8080"  # survey links (`huifang invite`) start with it

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if not v.startswith(("http://", "https://")) or len(v) < 10:
            raise ValueError("give the service's address as subjects reach it, e.g. https://hf.example.cn")
        return v


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    huifang: Deployment = Field(default_factory=Deployment)
    plugins: dict[str, dict[str, Any]] = {}
    serve: ServeConfig = Field(default_factory=ServeConfig)  # the HTTP service (service/auth.py)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)  # adapters per channel (core/delivery.py)
    _location: ConfigLocation | None = PrivateAttr(default=None)

    @property
    def location(self) -> ConfigLocation:
        """Which file this is and how it was found (`show`, `config show`)."""
        return self._location or ConfigLocation(None, DEFAULTS)

    @property
    def source(self) -> str:
        return self.location.describe()


def load_config(path: str | Path | None, how: str | None = None, db: str | None = None) -> Config:
    where = locate_config(path, how, db)
    data = read_config_data(where)
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{Path(where.path or DEFAULT_FILE).name}: " + pydantic_message(e)) from None
    config._location = where
    return config
