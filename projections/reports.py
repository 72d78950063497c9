"""Report contract: a report turns view tables into rows of figures. The engine's reports and
those plugins contribute (hook `huifang_reports`) share it, so report code has no per-plugin branches:
`huifang report KIND` finds any report by name, runs `rows(ctx)` and renders the rows in every
format (table, json, csv, xlsx, png, html).

A plugin report only has to implement `rows(ctx)`; everything else has a default. Rows are flat
dicts: the chosen dimensions first (`ctx.dims(...)`), then figures. Rates are fractions in [0, 1]
(None when the denominator is zero), named `*_rate`, `*_share`, `*_target` or `threshold` so renderers
show them as percentages.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

from sqlalchemy.engine import Connection

DIMENSIONS = ("plugin", "visit_type", "department", "agent", "branch", "month", "quarter")


@dataclass
class ReportContext:
    """What a report may read: a connection to the caught-up views, the app (settings, registry),
    and the operator's filters. Dates are local dates in the deployment's time zone, inclusive."""

    conn: Connection
    app: Any
    plugin: str | None = None
    by: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    now: datetime | None = None  # the logical now (--now): reports never read the wall clock
    tz: str = "Asia/Shanghai"
    kind: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    # -- time ---------------------------------------------------------------------------------------
    def zone(self) -> Any:
        from huifang.core import clock

        return clock.zone(self.tz)

    def bounds(self) -> tuple[str | None, str | None]:
        """The period as UTC ISO text [start, end) comparable with the views' stored instants."""
        from .core_views import ts

        z = self.zone()
        lo = ts(datetime.combine(self.date_from, time(0), z)) if self.date_from else None
        hi = ts(datetime.combine(self.date_to + timedelta(days=1), time(0), z)) if self.date_to else None
        return lo, hi

    def within(self, column: Any) -> list[Any]:
        """SQLAlchemy conditions keeping `column` (a stored UTC instant) inside the period."""
        lo, hi = self.bounds()
        out = []
        if lo:
            out.append(column >= lo)
        if hi:
            out.append(column < hi)
        return out

    def now_ts(self) -> str:
        from .core_views import ts

        return ts(self.now) if self.now else "9999"

    def local(self, stored: str | datetime | None) -> datetime | None:
        if stored is None:
            return None
        dt = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
        return dt.astimezone(self.zone())

    def local_date(self, stored: str | datetime | None) -> date | None:
        dt = self.local(stored)
        return dt.date() if dt else None

    def month_of(self, stored: str | datetime | None) -> str | None:
        d = self.local_date(stored)
        return f"{d.year:04d}-{d.month:02d}" if d else None

    def quarter_of(self, stored: str | datetime | None) -> str | None:
        d = self.local_date(stored)
        return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}" if d else None

    # -- grouping ------------------------------------------------------------------------------------
    def dims(self, values: dict[str, Any]) -> dict[str, Any]:
        """The chosen dimensions (in --by order) of one record."""
        return {d: values.get(d) for d in self.by}

    def group(self, records: Iterable[Any], dims_of: Callable[[Any], dict[str, Any]]
              ) -> list[tuple[dict[str, Any], list[Any]]]:
        """Records grouped by the chosen dimensions, groups sorted (missing values last)."""
        groups: dict[tuple, list[Any]] = {}
        labels: dict[tuple, dict[str, Any]] = {}
        for r in records:
            d = self.dims(dims_of(r))
            k = tuple(d.values())
            groups.setdefault(k, []).append(r)
            labels[k] = d
        if not self.by and not groups:
            groups[()] = []
            labels[()] = {}
        return [(labels[k], groups[k]) for k in sorted(groups, key=sort_key)]

    def settings(self, plugin: str | None) -> Any:
        from huifang.core.contract import Settings

        if plugin is None or self.app is None:
            return Settings()
        return self.app.settings(plugin)

    def strictest(self, plugins: Iterable[str], attr: str) -> Any:
        """The strictest (highest) value of a setting among the plugins of a group: a mixed group
        is held to the strictest target."""
        values = [getattr(self.settings(p), attr) for p in sorted(set(plugins))]
        return max(values) if values else getattr(self.settings(None), attr)


def sort_key(key: tuple) -> tuple:
    return tuple((v is None, str(v) if v is not None else "") for v in key)


def ratio(numerator: float, denominator: float) -> float | None:
    """A rate as a fraction rounded to 6 places (stable text in every format); None for 0/0."""
    if not denominator:
        return None
    return round(numerator / denominator, 6)


def steps_below(rate: float | None, target: float, step: float) -> int:
    """G15: KPI points lost — one per 5% step (or part of one) below target."""
    if rate is None or rate >= target - 1e-12 or step <= 0:
        return 0
    return math.ceil(round((target - rate) / step, 9))


@dataclass
class Section:
    """One titled block of a report document (a sheet in xlsx, a heading in html)."""

    name: str
    title: str
    rows: list[dict[str, Any]]
    report: Any = None
    ctx: Any = None
    notes: list[str] = field(default_factory=list)
    chart: bool | None = None  # draw this section's chart (None: only when it is the whole document)


class Report:
    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    rules: ClassVar[list[str]] = []
    # dimensions `--by` may use with this report, and the grouping used when --by is not given
    dimensions: ClassVar[tuple[str, ...]] = DIMENSIONS
    default_by: ClassVar[tuple[str, ...]] = ()
    # grouping used for --format png/html when --by is not given (None: default_by)
    chart_by: ClassVar[tuple[str, ...] | None] = None
    # included as a section of the monthly/quarterly management report (G19)
    in_management_report: ClassVar[bool] = True

    def prepare(self, ctx: ReportContext) -> None:
        """Fill defaults into the context before rows are computed (e.g. the period of a monthly report)."""

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        """Footnotes shown under the table (e.g. flagged groups, definitions)."""
        return []

    def sections(self, ctx: ReportContext) -> list[Section]:
        rows = self.rows(ctx)
        return [Section(self.name, self.title or self.name, rows, self, ctx, self.notes(rows, ctx))]

    def chart(self, rows: list[dict[str, Any]], ctx: ReportContext) -> Any:
        """A matplotlib Figure of the rows (default: bars of the rates, else of the counts)."""
        from .charts import generic_chart

        return generic_chart(self.title or self.name, rows, ctx)
