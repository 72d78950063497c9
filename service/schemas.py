"""Request and response bodies of the integration API (pydantic; published in /openapi.json)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    """A request body: unknown fields are refused (a misspelt field is an error, not silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    """Every error: the field it is about (the body field, query parameter or header) and the message."""

    field: str | None = None
    message: str
    fields: list[str] | None = Field(None, description="409 on a re-sent trigger: the fields that differ")


class TriggerIn(Body):
    id: str = Field(..., min_length=1, max_length=200, description="The caller's id: re-sending it is a no-op")
    kind: str = Field(..., min_length=1, description="Trigger kind (discharge, repair, policy ...)")
    subject: str = Field(..., min_length=1)
    at: datetime | None = Field(None, description="When the event happened (default: now)")
    attributes: dict[str, Any] = Field(default_factory=dict)


class SubjectIn(Body):
    id: str = Field(..., min_length=1, max_length=200)
    name: str = Field(..., min_length=1)
    phones: list[str] = Field(default_factory=list)
    email: str | None = None
    tz: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class AttemptIn(Body):
    channel: str
    outcome: str
    note: str | None = None
    language: str | None = None
    recording_failed_line: str | None = None


class CompleteIn(Body):
    answers: dict[str, Any] = Field(default_factory=dict)
    reason_code: str | None = Field(None, description="With satisfaction=不满意: why (G16)")
    reason: str | None = Field(None, description="With satisfaction=不满意: the subject's words")


class FollowUpOut(BaseModel):
    """A follow-up as `huifang show --json` / `attempt --json` print it (further keys as there)."""

    model_config = ConfigDict(extra="allow")

    id: str
    subject: str
    trigger: str
    visit_type: str
    status: str
    window_open: str | None = None
    due: str | None = None
    owner: str | None = None
    messages: list[str] = Field(default_factory=list)


class TriggerOut(BaseModel):
    trigger: str
    kind: str
    created: bool
    followups: list[FollowUpOut]
    skipped: list[dict[str, Any]]
    warnings: list[str]


class SubjectOut(BaseModel):
    id: str
    created: bool


class QueueRow(BaseModel):
    """One row of `huifang queue --json` (codes only, no personal data)."""

    model_config = ConfigDict(extra="allow")

    id: str
    subject: str
    status: str
    due: str


class QueueQuery(BaseModel):
    owner: str | None = None
    all: bool = False
    on: date | None = None
    overdue: bool = False
    limit: int = 50


class SubjectPatch(Body):
    """As `huifang subject edit`: `phone` replaces the numbers on file (F5), `add_phone` adds others."""

    phone: str | None = Field(None, description="The re-determined number: replaces the numbers on file")
    add_phone: list[str] = Field(default_factory=list, description="Further numbers")
    address: str | None = None


class SubjectChanged(BaseModel):
    """The subject after a change: codes and masked contact data (a change is not a recorded read, G8)."""

    id: str
    phones: list[str]
    address_recorded: bool = False


class ResolveIn(Body):
    note: str = Field(..., min_length=1, description="The department's handling")


class TicketOut(BaseModel):
    """A ticket as `huifang ticket resolve --json` prints it (further keys as there)."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: str
    second_followup: str | None = None
    second_followup_due: str | None = None
