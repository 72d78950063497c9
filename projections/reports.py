"""Report contract: a report turns view tables into rows of figures. The engine's reports and
those plugins contribute (hook `huifang_reports`) share it, so report code has no per-plugin branches."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from sqlalchemy.engine import Connection

DIMENSIONS = ("plugin", "visit_type", "department", "agent", "branch", "month", "quarter")


@dataclass
class ReportContext:
    """What a report may read: a connection to the caught-up views, the app (settings, registry),
    and the operator's filters."""

    conn: Connection
    app: Any
    plugin: str | None = None
    by: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None


class Report:
    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    rules: ClassVar[list[str]] = []

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError
