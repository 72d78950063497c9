"""The engine's reports (G14–G19, G12/F8): rates, satisfaction, lost reasons, tickets, Pareto, QA,
opinions, unresolved tickets, and the monthly/quarterly management report that puts them (and the
plugins' reports) in one document.

Definitions (also in projections/README.md):
- Period: a follow-up belongs to the period when its deadline (`due`, local date in the deployment's
  time zone) falls in [--from, --to]; a ticket when it was opened in the period; a QA check when the
  follow-up it checks was completed in the period. `month`/`quarter` dimensions use the same date.
- due (应访): follow-ups of the period that are settled (completed, lost, cancelled) or past their
  deadline at --now, excluding exempt ones (F6: a signed statement closes a follow-up as exempt, not
  lost). Open follow-ups whose deadline is still ahead are `pending` and not yet due; open ones past
  the deadline are due and `overdue`.
- completed / lost / cancelled / exempt: by status. reached: at least one reached attempt.
  refused: refused and never reached. cancelled_before_contact: cancelled while neither reached nor
  refused. The three are disjoint, so success_rate never exceeds 1.
- callback_rate = completed ÷ due; success_rate = reached ÷ (due − refused − cancelled_before_contact)
  (G15, F4); on_time = completed no later than the deadline; on_time_rate = on_time ÷ due.
- agent (G15): whoever completed the follow-up or closed it as lost, else its owner; a follow-up
  worked from a department's pool counts for the agent who worked it (the pool is not an agent, and
  an unworked pool row is docked no KPI point).
- KPI (G15, 002): with `agent` among the dimensions, kpi_deduction = one point per kpi_step (5%) or
  part of one that completed ÷ (due − cancelled_before_contact) falls below callback_target (plugin
  settings; a group spanning plugins is held to the strictest): a follow-up cancelled before any
  contact (the household left, the patient was readmitted) costs nobody anything, as in M9. One
  cancelled before its window opened is not due at all (plugin_api.reports.is_due).
"""
from __future__ import annotations

import contextlib
import dataclasses
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from huifang.core import clock, timekeeping
from huifang.core.contract import SATISFACTION, SurveyTemplate
from huifang.core.surveys import SECOND_FOLLOWUP_SURVEY

from .core_views import followups, tickets
from .quality import qa_checks
from .reports import (
    DIMENSIONS,
    LEVEL_KEYS,
    Chart,
    Record,
    Report,
    ReportContext,
    Section,
    followup_records,
    plugin_entries,
    rate_figures,
    ratio,
    steps_below,
)

TICKET_DIMENSIONS = (*DIMENSIONS, "category")
# free-text answers whose survey is unknown to this deployment still count as opinions (G19)
OPINION_KEYS = ("suggestion", "suggestions", "comment", "comments", "opinion", "opinions", "note", "shortcomings")


def backfilled(ctx: ReportContext) -> dict[str, list[dict[str, Any]]]:
    """Follow-ups that hold records entered late under an admin's grant (timekeeping.py): code -> the
    backfill entries. Reports counting them add a `backfilled` column and a note naming them."""
    find = getattr(ctx.app, "find_by_id", None)
    return timekeeping.backfilled(ctx.app) if find is not None else {}


def backfill_note(codes: list[str], found: dict[str, list[dict[str, Any]]]) -> list[str]:
    named = []
    for code in sorted(set(codes) & set(found)):
        for e in found[code]:
            events = ", ".join(ev for r in e["records"] if r["code"] == code for ev in r["events"])
            named.append(f"{code} ({events} dated {clock.iso(e['claimed'])}, entered {clock.iso(e['at'])} by "
                         f"{e['by']} under grant {e['grant']}: {e['reason']})")
    return ["backfilled — entered late under an admin's grant, counted as dated (huifang clock show): "
            + "; ".join(named)] if named else []


def period_followups(ctx: ReportContext) -> set[str]:
    """Codes of the follow-ups a report of this period can count: due or completed in it, or the
    follow-up behind a ticket opened in it."""
    codes = {r.row.code for r in followup_records(ctx)}
    codes |= {r.row.code for r in followup_records(ctx, anchor="completed_at")}
    codes |= {r.row.followup for r in ticket_records(ctx) if r.row.followup}
    return codes


def flag_backfills(sections: list[Section], ctx: ReportContext) -> None:
    """G8, G15: every section of a report document (engine's or plugin's) whose period holds backfilled
    follow-ups gets the note naming them; rates and satisfaction already flag theirs row by row. On a
    store without backfills nothing changes."""
    late = backfilled(ctx)
    if not late:
        return
    for s in sections:
        if isinstance(s.report, RatesReport | SatisfactionReport):
            continue
        c = s.ctx if s.ctx is not None else ctx
        s.notes = [*s.notes, *backfill_note(sorted(period_followups(c)), late)]


class RatesReport(Report):
    name = "rates"
    title = "回访率 Callback, success and on-time rates"
    rules = ["G15", "F4"]
    chart_by = ("month",)

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        out = []
        now = ctx.now_ts()
        late = backfilled(ctx)
        for dims, items in ctx.group(followup_records(ctx), lambda r: r.dims):
            row = {**dims, **rate_figures([r.row for r in items], now)}
            if dims and not row["due"] and not row["exempt"]:
                continue  # only work still ahead (pending) in this group: nothing to rate yet
            if late:  # G8, G15: figures resting on backfilled records say so
                row["backfilled"] = sum(1 for r in items if r.row.code in late)
            if "agent" in ctx.by:
                plugins = [r.row.plugin for r in items] or ([ctx.plugin] if ctx.plugin else [])
                target = ctx.strictest(plugins, "callback_target")
                step = min(getattr(ctx.settings(p), "kpi_step", 0.05) for p in set(plugins) or {None})
                row["callback_target"] = target
                # G15: a KPI point is docked from an agent; unworked follow-ups of a pool are nobody's
                # P3/G15: what was cancelled before any contact was not the agent's to do: it costs no KPI point
                kpi_rate = ratio(row["completed"], row["due"] - row["cancelled_before_contact"])
                row["kpi_deduction"] = steps_below(kpi_rate, target, step) if dims.get("agent") else None
            out.append(row)
        return out

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        notes = ["due = follow-ups whose deadline falls in the period and that are settled or past the deadline "
                 "at --now, exempt (F6) excluded; success = reached ÷ (due − refused − cancelled before contact)"]
        docked = [r for r in rows if r.get("kpi_deduction")]
        if docked:
            notes.append("G15 KPI deductions: " + ", ".join(
                f"{r.get('agent') or '-'} −{r['kpi_deduction']}" for r in docked))
        late = backfilled(ctx) if any(r.get("backfilled") for r in rows) else {}
        if late:
            notes += backfill_note([r.row.code for r in followup_records(ctx)], late)
        return notes

    def chart(self, rows: list[dict[str, Any]], ctx: ReportContext) -> Chart | None:
        return Chart("trend", self.title) if "month" in ctx.by else Chart("bars", self.title)


class SatisfactionReport(Report):
    name = "satisfaction"
    title = "满意度 Satisfaction (four-level scale)"
    rules = ["G16", "M8"]
    default_by = ("department",)

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        recs = followup_records(ctx, extra=[followups.c.status == "completed", followups.c.satisfaction.is_not(None)])
        out = []
        late = backfilled(ctx)
        for dims, items in ctx.group(recs, lambda r: r.dims):
            counts = {LEVEL_KEYS[level]: 0 for level in SATISFACTION}
            satisfied = 0
            for r in items:
                level = r.row.satisfaction
                if level in SATISFACTION:
                    counts[LEVEL_KEYS[level]] += 1
                if level in getattr(ctx.settings(r.row.plugin), "satisfied_levels", SATISFACTION[:2]):
                    satisfied += 1
            n = len(items)
            threshold = ctx.strictest([r.row.plugin for r in items] or ([ctx.plugin] if ctx.plugin else []),
                                      "satisfaction_threshold")
            share = ratio(satisfied, n)
            out.append({**dims, "responses": n, **counts, "satisfied_share": share,
                        "dissatisfied_share": ratio(counts["dissatisfied"], n), "threshold": threshold,
                        "flagged": share is not None and share < threshold})
            if late:
                out[-1]["backfilled"] = sum(1 for r in items if r.row.code in late)
        return out

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        notes = ["satisfied share = (满意 + 较满意) ÷ responses (setting satisfied_levels)"]
        low = [r for r in rows if r.get("flagged")]
        if low:
            notes.append("below threshold — causes must be explained (G16/M8): " + ", ".join(
                " / ".join(str(r.get(d) or "-") for d in ctx.by) or "all" for r in low))
        if any(r.get("backfilled") for r in rows):
            recs = followup_records(ctx, extra=[followups.c.status == "completed"])
            notes += backfill_note([r.row.code for r in recs], backfilled(ctx))
        return notes

    def chart(self, rows: list[dict[str, Any]], ctx: ReportContext) -> Chart | None:
        return Chart("satisfaction", self.title)


class LostReport(Report):
    name = "lost"
    title = "失访原因 Lost follow-ups by reason"
    rules = ["G14"]

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        recs = followup_records(ctx, extra=[followups.c.status == "lost"])
        out = []
        for dims, items in ctx.group(recs, lambda r: r.dims):
            reasons: dict[str, int] = {}
            for r in items:
                reason = (r.row.closed_reason or "").strip() or "(none)"
                reasons[reason] = reasons.get(reason, 0) + 1
            for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
                out.append({**dims, "reason": reason, "lost": n, "lost_share": ratio(n, len(items))})
        return out

    def chart(self, rows: list[dict[str, Any]], ctx: ReportContext) -> Chart | None:
        return Chart("bars", self.title, exclude=("lost_share",))


def ticket_records(ctx: ReportContext, opened_before_end_only: bool = False) -> list[Record]:
    t, f = tickets.c, followups.c
    q = select(tickets, f.owner.label("agent"), f.visit_type.label("visit_type"), f.branch.label("branch")) \
        .select_from(tickets.outerjoin(followups, f.code == t.followup))
    if opened_before_end_only:
        _, hi = ctx.bounds()
        if hi:
            q = q.where(t.opened_at < hi)
    else:
        q = q.where(*ctx.within(t.opened_at))
    if ctx.plugin:
        q = q.where(t.plugin == ctx.plugin)
    out = []
    for r in ctx.conn.execute(q.order_by(t.code)):
        out.append(Record(r, {"plugin": r.plugin, "visit_type": r.visit_type, "department": r.department,
                              "agent": r.agent, "branch": r.branch, "month": ctx.month_of(r.opened_at),
                              "quarter": ctx.quarter_of(r.opened_at), "category": r.category}))
    return out


def ticket_overdue(r: Any, now_ts: str) -> bool:
    """Not handled by its deadline (G12: 24 h; finance 5 working days): handled late, or still
    unhandled past it."""
    return (r.resolved_at or now_ts) > r.deadline


class TicketsReport(Report):
    name = "tickets"
    title = "问题件 Tickets"
    rules = ["G12", "F8"]
    dimensions = TICKET_DIMENSIONS

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        recs = ticket_records(ctx)
        f = followups.c
        seconds_done = {r.ticket for r in ctx.conn.execute(
            select(f.ticket).where(f.ticket.is_not(None), f.status == "completed"))}
        now = ctx.now_ts()
        out = []
        for dims, items in ctx.group(recs, lambda r: r.dims):
            rows = [r.row for r in items]
            n = len(rows)
            open_ = sum(1 for r in rows if r.status == "open")
            resolved = sum(1 for r in rows if r.status == "resolved")
            closed = sum(1 for r in rows if r.status == "closed")
            row = {**dims, "tickets": n, "major": sum(1 for r in rows if r.severity == "major"),
                   "open": open_, "resolved": resolved, "closed": closed, "unresolved": open_ + resolved,
                   "resolution_rate": ratio(resolved + closed, n), "unresolved_share": ratio(open_ + resolved, n),
                   "overdue": sum(1 for r in rows if ticket_overdue(r, now)),
                   "second_followup_done": sum(1 for r in rows if r.code in seconds_done),
                   "reopened": sum(1 for r in rows if (r.reopened or 0) > 0)}
            if "category" not in ctx.by:
                cats: dict[str, int] = {}
                for r in rows:
                    cats[r.category] = cats.get(r.category, 0) + 1
                row["categories"] = dict(sorted(cats.items(), key=lambda kv: (-kv[1], kv[0])))
            out.append(row)
        return out

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        return ["resolution rate = (resolved + closed) ÷ tickets; closed = confirmed by the second "
                "follow-up (G12); overdue = not handled by its deadline"]


class ParetoReport(Report):
    name = "pareto"
    title = "帕累托 Pareto of complaint causes"
    rules = ["G19"]
    VITAL = 0.8  # the vital few: the causes that together make up the first 80%

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        out = []
        cut = float(ctx.options.get("vital", self.VITAL))
        for dims, items in ctx.group(ticket_records(ctx), lambda r: r.dims):
            causes: dict[str, int] = {}
            for r in items:
                causes[r.row.category] = causes.get(r.row.category, 0) + 1
            total = len(items)
            running = 0
            before = 0.0
            for cause, n in sorted(causes.items(), key=lambda kv: (-kv[1], kv[0])):
                running += n
                cumulative = ratio(running, total)
                out.append({**dims, "cause": cause, "tickets": n, "ticket_share": ratio(n, total),
                            "cumulative_share": cumulative, "vital_few": before < cut - 1e-12})
                before = running / total
        return out

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        vital = [r["cause"] for r in rows if r.get("vital_few")]
        return [f"vital few (first {int(self.VITAL * 100)}% of tickets): {', '.join(vital) or '-'}"]

    def chart(self, rows: list[dict[str, Any]], ctx: ReportContext) -> Chart | None:
        return Chart("pareto", self.title)


class QAReport(Report):
    name = "qa"
    title = "质检 Quality checks: pass rate per agent"
    rules = ["G17"]
    default_by = ("agent",)

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        q, f = qa_checks.c, followups.c
        stmt = select(qa_checks, f.visit_type, f.department, f.branch, f.completed_at) \
            .select_from(qa_checks.join(followups, f.code == q.followup)).where(*ctx.within(f.completed_at))
        if ctx.plugin:
            stmt = stmt.where(q.plugin == ctx.plugin)
        recs = [Record(r, {"plugin": r.plugin, "visit_type": r.visit_type, "department": r.department,
                           "agent": r.agent, "branch": r.branch, "month": ctx.month_of(r.completed_at),
                           "quarter": ctx.quarter_of(r.completed_at)})
                for r in ctx.conn.execute(stmt.order_by(q.followup))]
        out = []
        for dims, items in ctx.group(recs, lambda r: r.dims):
            passed = sum(1 for r in items if r.row.result == "pass")
            out.append({**dims, "checked": len(items), "passed": passed, "failed": len(items) - passed,
                        "pass_rate": ratio(passed, len(items))})
        return out


class OpinionsReport(Report):
    name = "opinions"
    title = "意见建议 Opinions and suggestions"
    rules = ["G19", "G4", "G8"]

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        recs = followup_records(ctx, extra=[followups.c.status == "completed"])
        found: list[tuple[dict[str, Any], Any, str]] = []
        for dims, items in ctx.group(recs, lambda r: r.dims):
            for r in sorted(items, key=lambda r: (r.row.completed_at or "", r.row.code)):
                for key, stored in _opinions(ctx, r.row):
                    found.append(({**dims, "followup": r.row.code, "date": str(ctx.local_date(r.row.completed_at)),
                                   "visit_type": r.row.visit_type, "department": r.row.department,
                                   "agent": r.dims["agent"], "satisfaction": r.row.satisfaction, "question": key},
                                  stored, r.row.subject))
        reader = FreeTextReads(ctx)
        shown = reader.record({subject for _, _, subject in found})
        out = []
        for row, stored, subject in found:
            text = str(reader.reveal(stored)).strip() if subject in shown else WITHHELD
            out.append({**row, "text": text})
        ctx.options["_opinions_withheld"] = reader.why_withheld(len([1 for *_, s in found if s not in shown]))
        return out

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        why = ctx.options.get("_opinions_withheld")
        return [why] if why else []

    def chart(self, rows: list[dict[str, Any]], ctx: ReportContext) -> Chart | None:
        return Chart("counts", self.title, key="department")


WITHHELD = "[withheld: G8]"


class FreeTextReads:
    """G8: opinions are the subjects' own words. Like `subject show`, the text is shown only to an
    actor who may read that subject's personal data (role, ladder or department; a reason once
    access control is on), and each subject's read is recorded (one `ReadLog.Read` per subject,
    what=opinions) before any of it is shown. Other rows keep their place and counts, text withheld."""

    def __init__(self, ctx: ReportContext):
        self.app = ctx.app
        self.actor = str(ctx.options.get("actor") or "cli")
        self.reason = (str(ctx.options.get("reason") or "")).strip()
        self.kind = ctx.kind or "opinions"
        self.blocked: str | None = None

    def _allowed(self, subjects: set[str]) -> set[str]:
        from huifang.core.access import ACTIONS, ANONYMOUS
        from huifang.core.errors import HuifangError

        access = getattr(self.app, "access", None)
        if access is None:
            self.blocked = "no application to check who may read them"
            return set()
        staff = access.staff(self.actor)
        enforced = access.enforced()
        roles = ACTIONS["subject.read"][0]
        refusal = None
        if self.actor not in ANONYMOUS and staff is None:
            refusal = f"'{self.actor}' is not registered staff"
        elif enforced and staff is None:
            self.blocked = "access control is on: run the report --as a staff member who may read them"
        elif enforced and staff.role not in roles:
            refusal = f"{self.actor} is {staff.role}: only {', '.join(sorted(roles))} may read personal data"
        elif enforced and not self.reason:
            self.blocked = "say why you read them: --reason TEXT"
        if refusal is not None:
            with contextlib.suppress(HuifangError):  # recorded once per report, like a refused `subject show`
                access.deny(self.actor, "subject.read", f"report:{self.kind}", refusal)
            self.blocked = refusal
        if self.blocked is not None:
            return set()
        if not enforced or staff is None or staff.role == "auditor":
            return set(subjects)
        return {s for s in subjects if access.reaches_subject(staff, s)}

    def record(self, subjects: set[str]) -> set[str]:
        """The subjects whose free text may be shown, their reads recorded (one commit)."""
        from huifang.core.audit.trail import ReadLog
        from huifang.core.errors import HuifangError

        if not subjects:
            return set()
        allowed = self._allowed(subjects)
        if not allowed:
            return set()
        app, why = self.app, self.reason
        for _ in range(4):
            logs = []
            for subject in sorted(allowed):
                log = app.find_by_id(ReadLog.create_id(subject)) or ReadLog(subject=subject, actor=self.actor)
                log.read(what="opinions", target=f"report:{self.kind}", actor=self.actor, approval=None,
                         reason=app.keyring.seal_note(subject, why) if why else "(none given)")
                logs.append(log)
            try:
                app.commit_trail(*logs)
                self.blocked = None
                return allowed
            except HuifangError as e:  # a concurrent read of one of them, or the store is busy
                self.blocked = f"the reads could not be recorded ({e})"
        return set()

    def reveal(self, stored: Any) -> Any:
        return self.app.keyring.reveal(stored)

    def why_withheld(self, n: int) -> str | None:
        if not n:
            return None
        return (f"G8: the text of {n} opinion(s) is withheld: "
                + (self.blocked or "outside the subjects you may read (your follow-ups, ladder or department)"))


def _opinions(ctx: ReportContext, row: Any) -> list[tuple[str, Any]]:
    """(question, stored answer) of the free-text answers: tokens (G8) until a recorded read reveals them."""
    answers = row.answers or {}
    keys: list[str] | None = None
    app = ctx.app
    if app is not None:
        survey: SurveyTemplate | None = SECOND_FOLLOWUP_SURVEY
        if row.visit_type != "second_followup":
            vt = app.registry.visit_type(row.plugin, row.visit_type)
            survey = vt.survey if vt else None
        if survey is not None:
            keys = [q.key for q in survey.questions if q.kind == "text"] + \
                [q.key for q in survey.record_fields if q.kind == "text" and q.key in OPINION_KEYS]  # G4
    if keys is None:
        keys = [k for k in answers if k in OPINION_KEYS]
    return [(k, answers[k]) for k in keys if str(answers.get(k) or "").strip()]


class UnresolvedReport(Report):
    name = "unresolved"
    title = "未结问题件 Unresolved tickets"
    rules = ["G19", "G12", "F8"]
    dimensions = TICKET_DIMENSIONS

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        """Tickets opened up to the end of the period and not closed at --now."""
        now = ctx.now_ts()
        now_day = ctx.local_date(ctx.now) if ctx.now else None
        out = []
        recs = [r for r in ticket_records(ctx, opened_before_end_only=True) if r.row.status != "closed"]
        for dims, items in ctx.group(recs, lambda r: r.dims):
            for r in sorted(items, key=lambda r: (r.row.opened_at, r.row.code)):
                t = r.row
                opened = ctx.local_date(t.opened_at)
                out.append({**dims, "ticket": t.code, "category": t.category, "department": t.department,
                            "severity": t.severity, "status": t.status, "opened": str(opened),
                            "deadline": ctx.local(t.deadline).isoformat(timespec="minutes"),
                            "overdue": ticket_overdue(t, now),
                            "days_open": (now_day - opened).days if now_day and opened else None})
        return out


# -- the management report (G19) ---------------------------------------------------------------------------
def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


class ManagementReport(Report):
    """G19: subjects followed, callback rate, satisfaction, opinions, tickets, categories, cause
    analysis (Pareto), unresolved tickets, lost reasons, agents' KPI and QA — and every plugin report
    marked `in_management_report` — in one document (xlsx: one sheet per section; html: charts inline)."""

    name = "monthly"
    title = "月度回访报告 Monthly follow-up report"
    rules = ["G19", "G15", "G16", "G14", "G12", "G17"]
    in_management_report = False
    months = 1
    dimensions = ()

    def prepare(self, ctx: ReportContext) -> None:
        """Default period: the last complete month (quarter) before --now."""
        if ctx.date_from or ctx.date_to:
            if ctx.date_from is None or ctx.date_to is None:
                from huifang.core.errors import HuifangError

                raise HuifangError(f"report {self.name}: give both --from and --to (or --month / --quarter)")
            return

        today = ctx.local_date(ctx.now or clock.now())
        start = month_start(today)
        if self.months == 3:
            start = date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
        ctx.date_from = add_months(start, -self.months)
        ctx.date_to = start - timedelta(days=1)

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        return self.sections(ctx)[0].rows

    def sections(self, ctx: ReportContext) -> list[Section]:
        def sub(report: Report, name: str, title: str, by: tuple[str, ...], chart: bool = False,
                **changes: Any) -> Section:
            c = dataclasses.replace(ctx, by=list(by), kind=report.name, **changes)
            rows = report.rows(c)
            return Section(name, title, rows, report, c, report.notes(rows, c), chart=chart)

        assert ctx.date_to is not None
        trend_from = add_months(month_start(ctx.date_to), -11)
        out = [
            sub(RatesReport(), "summary", "回访概况 Summary: subjects followed, callback and success rates (G15)", ()),
            sub(RatesReport(), "plugins", "分行业 Rates per plugin (G15)", ("plugin",)),
            sub(RatesReport(), "trend", "趋势 Rate trend by month, last 12 months (G15)", ("month",), True,
                date_from=trend_from),
            sub(RatesReport(), "agents", "坐席考核 Rates and KPI deduction per agent (G15)", ("agent",)),
            sub(SatisfactionReport(), "satisfaction", "满意度 Satisfaction by department (G16/M8)",
                ("department",), True),
            sub(OpinionsReport(), "opinions", "意见建议 Opinions and suggestions (G19)", ()),
            sub(LostReport(), "lost", "失访原因 Lost follow-ups by reason (G14)", ()),
            sub(TicketsReport(), "tickets", "问题件 Tickets by category (G12)", ("category",)),
            sub(ParetoReport(), "pareto", "原因分析 Pareto of complaint causes (G19)", (), True),
            sub(UnresolvedReport(), "unresolved", "未结问题件 Unresolved tickets (G19)", ()),
            sub(QAReport(), "qa", "质检 QA pass rate per agent (G17)", ("agent",)),
        ]
        for entry in plugin_entries(ctx.app):
            if not entry.report.in_management_report:
                continue
            r = entry.report
            out.append(sub(r, f"{entry.owner}.{r.name}", f"{r.title or r.name} ({entry.owner})",
                           tuple(r.default_by)))
        return out


class QuarterlyReport(ManagementReport):
    name = "quarterly"
    title = "季度回访报告 Quarterly follow-up report"
    months = 3


CORE_REPORTS: list[type[Report]] = [RatesReport, SatisfactionReport, LostReport, TicketsReport, ParetoReport,
                                    QAReport, OpinionsReport, UnresolvedReport, ManagementReport, QuarterlyReport]
