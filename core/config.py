"""huifang.toml: one file per deployment selects plugins and overrides their parameters."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .clock import zone
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
    lock_ladder: LockLadder = Field(default_factory=LockLadder)
    # G8, G10 (README "For auditors"): key directory (seal + master key; default beside the store), where
    # recordings are copied (G11; default beside the store), subject attributes stored encrypted
    key_dir: str | None = None
    recordings_dir: str | None = None
    pii_attributes: list[str] | None = None  # None = privacy.DEFAULT_PII_ATTRIBUTES
    # how far a record may fall behind the store's latest one (minutes): fixed at init, a later config
    # may only narrow it (timekeeping.py); None = the default of the clock mode (system 5, logical none)
    clock_tolerance_minutes: int | None = Field(default=None, ge=0, le=24 * 60)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zone(v)
        except Exception as e:
            raise ValueError(str(e)) from None
        return v


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    huifang: Deployment = Field(default_factory=Deployment)
    plugins: dict[str, dict[str, Any]] = {}


def load_config(path: str | Path | None) -> Config:
    if path is None:
        default = Path("huifang.toml")
        if not default.exists():
            return Config()
        path = default
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--config: file '{p}' does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p.name}: not valid TOML ({e})") from None
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{p.name}: " + pydantic_message(e)) from None
