"""Report contract (part of the plugin API): a report turns view tables into rows of figures. The engine's reports and
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
from typing import Any, ClassVar, Literal, overload

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .. import clock
from ..contract import SATISFACTION_ALIASES, Settings
from ..status import OPEN
from .protocols import StaffInfo
from .views import followups

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
        return clock.zone(self.tz)

    def bounds(self) -> tuple[str | None, str | None]:
        """The period as UTC ISO text [start, end) comparable with the views' stored instants."""
        from .views import ts

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
        from .views import ts

        return ts(self.now) if self.now else "9999"

    @overload
    def local(self, stored: str | datetime) -> datetime: ...
    @overload
    def local(self, stored: None) -> None: ...
    @overload
    def local(self, stored: str | datetime | None) -> datetime | None: ...

    def local(self, stored: str | datetime | None) -> datetime | None:
        if stored is None:
            return None
        dt = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
        return dt.astimezone(self.zone())

    @overload
    def local_date(self, stored: str | datetime) -> date: ...
    @overload
    def local_date(self, stored: None) -> None: ...
    @overload
    def local_date(self, stored: str | datetime | None) -> date | None: ...

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
        """A plugin's effective settings (the defaults when it is not enabled)."""
        if plugin is None or self.app is None or not self.enabled(plugin):
            return Settings()
        return self.app.settings(plugin)

    def enabled(self, plugin: str) -> bool:
        return self.app is not None and plugin in self.app.registry.plugins

    def staff(self, code: str) -> StaffInfo | None:
        """A staff member's name, role, department and reporting line (e.g. M9: a nurse's ward)."""
        s = self.app.find_staff(code) if self.app is not None else None
        if s is None:
            return None
        return {"id": s.code, "role": s.role, "dept": s.dept, "reports_to": s.reports_to, "name": s.name}

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


@dataclass(frozen=True)
class Chart:
    """A chart of a report's rows, drawn by the engine (CJK labels, G19).

    kind: `bars` (rates as percentages, else counts, one bar group per row), `counts` (one bar per
    row of the column `key`), `trend` (rates by month), `satisfaction` (G16 level shares), `pareto`
    (causes with the cumulative share). `by` relabels the bars by other columns; `exclude` drops
    columns from the chart."""

    kind: Literal["bars", "counts", "trend", "satisfaction", "pareto"] = "bars"
    title: str = ""
    key: str | None = None
    by: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()


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

    def chart(self, rows: list[dict[str, Any]], ctx: ReportContext) -> Chart | None:
        """What to draw for --format png/html (default: bars of the rates, else of the counts); the
        engine draws it, so reports never import a plotting library."""
        return Chart("bars", self.title or self.name)


# -- follow-up figures every report shares (G15) ------------------------------------------------
LEVEL_KEYS = {v: k for k, v in SATISFACTION_ALIASES.items()}  # 满意 -> satisfied ...


@dataclass
class Record:
    """One view row with its dimension values."""

    row: Any
    dims: dict[str, Any]


def followup_records(ctx: ReportContext, anchor: str = "due", extra: list[Any] | None = None) -> list[Record]:
    """Follow-ups of the period (by `anchor`: due or completed_at), with their dimensions."""
    f = followups.c
    q = select(followups).where(*ctx.within(f[anchor]))
    if anchor != "due":
        q = q.where(f[anchor].is_not(None))
    if ctx.plugin:
        q = q.where(f.plugin == ctx.plugin)
    for cond in extra or []:
        q = q.where(cond)
    out = []
    for r in ctx.conn.execute(q.order_by(f.code)):
        when = getattr(r, anchor)
        out.append(Record(r, {"plugin": r.plugin, "visit_type": r.visit_type, "department": r.department,
                              "agent": credited_agent(r), "branch": r.branch, "month": ctx.month_of(when),
                              "quarter": ctx.quarter_of(when)}))
    return out


NOT_AGENTS = ("system", "cli", "subject:web")  # the timers, the anonymous command line and the subject
# answering a survey link themself (core/usecases/invites.py: credited to the owner who sent it) are no agents


def credited_agent(r: Any) -> str | None:
    """G15: the agent a follow-up counts for (`agent` dimension, KPI): whoever completed it, or closed
    it as lost after working it, else its owner. A follow-up worked from a department's pool (no
    owner) is credited to the agent who worked it: the pool is not an agent."""
    by = r.completed_by if r.status == "completed" else getattr(r, "closed_by", None) if r.status == "lost" else None
    return by if by and by not in NOT_AGENTS else r.owner


def is_due(r: Any, now_ts: str) -> bool:
    """G15 'due' (应访): not exempt (F6), not cancelled before its window opened (P3: a household that left
    in October owes no visit of a half-year that had not begun: nobody could have done it, so it counts
    for no rate and costs no KPI point), and either settled (completed, lost, cancelled) or past its
    deadline at --now. Open follow-ups whose deadline is still ahead are `pending`, not yet due."""
    if r.status == "cancelled" and r.closed_at is not None and r.closed_at < r.window_open:
        return False
    return r.status != "exempt" and (r.status not in OPEN or r.due <= now_ts)


def rate_figures(rows: list[Any], now_ts: str) -> dict[str, Any]:
    """G15 counts and rates of a period's `followups` view rows (plugins may reuse it, e.g. M9 nurses)."""
    counted = [r for r in rows if is_due(r, now_ts)]
    due = len(counted)
    completed = sum(1 for r in counted if r.status == "completed")
    reached = sum(1 for r in counted if r.reached)
    refused = sum(1 for r in counted if r.refused and not r.reached)
    cancelled = sum(1 for r in counted if r.status == "cancelled")
    cbc = sum(1 for r in counted if r.status == "cancelled" and not r.reached and not r.refused)
    lost = sum(1 for r in counted if r.status == "lost")
    on_time = sum(1 for r in counted if r.status == "completed" and r.completed_at and r.completed_at <= r.due)
    return {
        "due": due, "completed": completed, "reached": reached, "refused": refused, "cancelled": cancelled,
        "cancelled_before_contact": cbc, "lost": lost,
        "open": sum(1 for r in rows if r.status in OPEN),  # still open: overdue (due) + pending (not yet due)
        "overdue": sum(1 for r in counted if r.status in OPEN),
        "exempt": sum(1 for r in rows if r.status == "exempt"),
        "pending": sum(1 for r in rows if r.status in OPEN and r.due > now_ts),
        "on_time": on_time,
        "subjects_followed": len({r.subject for r in counted if r.status == "completed"}),
        "callback_rate": ratio(completed, due),
        "success_rate": ratio(reached, due - refused - cbc),
        "on_time_rate": ratio(on_time, due),
    }
