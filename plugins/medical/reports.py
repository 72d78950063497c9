"""The medical plugin's contributions to `huifang report` (hook `huifang_reports`): callback rate per
responsible nurse (M9), department satisfaction with flags (M8), followed-up vs not-followed-up outcomes
(G20) and the re-examination rate after health-check recalls (M5). Rates are fractions in [0, 1]
(None when nothing is due); every figure comes from the views, never from the wall clock."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from huifang.core.plugin_api import CLOSED, CODE_SHAPED, OPEN, SATISFACTION, Status
from huifang.core.plugin_api.reports import (
    LEVEL_KEYS,
    Record,
    Report,
    ReportContext,
    followup_records,
    rate_figures,
    ratio,
    steps_below,
)
from huifang.core.plugin_api.views import followups, tickets, triggers

from .settings import MedicalSettings
from .views import answers

PLUGIN = "medical"


UNCODED = "(uncoded)"


def _diagnosis_code(value: Any) -> str:
    """G20 groups by coded diagnoses; one written out as text is stored encrypted (G8)."""
    if not value:
        return "-"
    return value if isinstance(value, str) and re.fullmatch(CODE_SHAPED, value) else UNCODED


def mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


class _Medical(Report):
    """Helpers shared by the medical reports (the engine's ReportContext does the time arithmetic)."""

    def settings(self, ctx: ReportContext) -> MedicalSettings:
        settings: MedicalSettings = ctx.settings(PLUGIN)
        return settings

    def skip(self, ctx: ReportContext) -> bool:
        """Another plugin asked for (`--plugin finance`): the hospital's reports have nothing to say."""
        return bool(ctx.plugin) and ctx.plugin != PLUGIN

    def wanted(self, ctx: ReportContext, stored: str | None) -> bool:
        d = ctx.local_date(stored)
        if d is None:
            return ctx.date_from is None and ctx.date_to is None
        return (ctx.date_from is None or d >= ctx.date_from) and (ctx.date_to is None or d <= ctx.date_to)

    def records(self, ctx: ReportContext, *extra: Any) -> list[Record]:
        """The medical follow-ups of the period (deadline in [--from, --to], like the engine's rates)."""
        f = followups.c
        return followup_records(ctx, extra=[f.plugin == PLUGIN, *extra])


class NursesReport(_Medical):
    """M9 (000 §8): the head nurse sees each responsible nurse's callback rate, with the engine's G15
    definitions (plugin_api.reports.rate_figures) so it matches `huifang report rates --by agent`."""

    name = "nurses"
    title = "责任护士回访率 Callback rate per responsible nurse (M9)"
    rules = ["M9", "G15"]
    dimensions = ("month", "quarter", "visit_type", "department")
    default_by = ()

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        if self.skip(ctx):
            return []
        settings = self.settings(ctx)
        f = followups.c
        # due by now: deadline passed, or already closed (a call done early counts as done)
        recs = self.records(ctx, f.owner.is_not(None),
                            or_(f.due < ctx.now_ts(), f.status.in_(sorted(CLOSED - {Status.EXEMPT}))))
        groups: dict[tuple, list[Any]] = defaultdict(list)
        withdrawn: dict[tuple, int] = defaultdict(int)
        for r in recs:
            key = (r.row.owner, *(r.dims.get(d) for d in ctx.by))
            if r.row.status == "cancelled" and not r.row.reached and not r.row.refused:
                withdrawn[key] += 1  # cancelled before contact (transferred, re-examined…): not the nurse's to do
                continue
            groups[key].append(r.row)
        now = ctx.now_ts()
        step = settings.kpi_step
        out = []
        for key in withdrawn:
            groups.setdefault(key, [])
        for key, rows in groups.items():
            nurse = key[0]
            staff = ctx.staff(nurse)
            figures = rate_figures(rows, now)
            out.append({
                "nurse": nurse, "name": staff.get("name") if staff else None, "ward": staff["dept"] if staff else None,
                "head_nurse": staff["reports_to"] if staff else None, **dict(zip(ctx.by, key[1:], strict=True)),
                **{k: figures[k] for k in ("due", "completed", "lost", "cancelled", "open", "overdue", "on_time",
                                           "callback_rate", "on_time_rate")},
                "cancelled_before_contact": withdrawn.get(key, 0),
                "callback_target": settings.callback_target,
                "kpi_deduction": steps_below(figures["callback_rate"], settings.callback_target, step),
            })
        return sorted(out, key=lambda r: (r["ward"] or "", r["nurse"], *(str(r.get(d)) for d in ctx.by)))

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        below = [r for r in rows if r["kpi_deduction"]]
        notes = ["due = the nurse's medical follow-ups with a deadline in the period that has passed (or that are "
                 "already closed); exempt and cancelled-before-contact ones are not due; "
                 "callback_rate = completed ÷ due (G15)"]
        if below:
            notes.append("below target (G15, one KPI point per 5% step): " + ", ".join(
                f"{r['nurse']} −{r['kpi_deduction']}" for r in below))
        return notes


class DepartmentsReport(_Medical):
    """M8/G16 (000 §1): satisfaction by clinical department; a department whose satisfied share is
    below `satisfaction_threshold` is flagged and must explain the causes. Same scale and definition
    as the engine's `satisfaction` report, plus the department's dissatisfaction tickets."""

    name = "departments"
    title = "科室满意度 Satisfaction by department, low departments flagged (M8)"
    rules = ["M8", "G16"]
    dimensions = ("month", "quarter", "visit_type")
    default_by = ()

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        if self.skip(ctx):
            return []
        settings = self.settings(ctx)
        f = followups.c
        recs = self.records(ctx, f.status == "completed", f.satisfaction.is_not(None))
        groups: dict[tuple, list[str]] = defaultdict(list)
        for r in recs:
            groups[(r.row.department or "-", *(r.dims.get(d) for d in ctx.by))].append(r.row.satisfaction)
        t = tickets.c
        dissatisfied: dict[str, int] = defaultdict(int)
        open_tickets: dict[str, int] = defaultdict(int)
        for tk in ctx.conn.execute(select(t.department, t.category, t.status, t.opened_at).where(t.plugin == PLUGIN)):
            if not self.wanted(ctx, tk.opened_at):
                continue
            if tk.category == "dissatisfied":
                dissatisfied[tk.department] += 1
            if tk.status != "closed":
                open_tickets[tk.department] += 1
        out = []
        for key, levels in groups.items():
            dept = key[0]
            n = len(levels)
            share = ratio(sum(1 for x in levels if x in settings.satisfied_levels), n)
            flagged = n >= settings.satisfaction_min_answers and share is not None \
                and share < settings.satisfaction_threshold
            out.append({
                "department": dept, **dict(zip(ctx.by, key[1:], strict=True)), "responses": n,
                **{LEVEL_KEYS[lv]: levels.count(lv) for lv in SATISFACTION},
                "satisfied_share": share, "threshold": settings.satisfaction_threshold, "flagged": flagged,
                "action": "explain the causes (M8)" if flagged else "",
                "dissatisfied_tickets": dissatisfied.get(dept, 0), "open_tickets": open_tickets.get(dept, 0),
            })
        return sorted(out, key=lambda r: (r["department"], *(str(r.get(d)) for d in ctx.by)))

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        levels = " + ".join(self.settings(ctx).satisfied_levels)
        notes = [f"satisfied share = ({levels}) ÷ responses; flagged below the threshold (M8)"]
        low = [r for r in rows if r["flagged"]]
        if low:
            notes.append("departments that must explain the causes (M8): " + ", ".join(
                f"{r['department']} {100 * r['satisfied_share']:.1f}%" for r in low))
        return notes


class EffectReport(_Medical):
    """G20 (000 §1 回访效果统计): discharges of the same diagnosis, followed up (first follow-up completed)
    vs not followed up (lost, or past due and never reached); outcome = readmission (re-discharged within
    `readmission_days`) and the recovery_score of an outpatient review within `review_days`."""

    name = "effect"
    title = "回访效果 Followed-up vs not-followed-up recovery by diagnosis (G20)"
    rules = ["G20"]
    dimensions = ("department",)
    default_by = ()

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        if self.skip(ctx):
            return []
        settings = self.settings(ctx)
        now = ctx.now
        t, f, a = triggers.c, followups.c, answers.c
        discharges = ctx.conn.execute(select(t.code, t.subject, t.occurred_at, t.attributes).where(
            t.plugin == PLUGIN, t.kind == "medical.discharge")).all()
        visits: dict[str, list[tuple[datetime, dict]]] = defaultdict(list)
        for v in ctx.conn.execute(select(t.subject, t.occurred_at, t.attributes).where(
                t.plugin == PLUGIN, t.kind == "medical.outpatient_visit")):
            visits[v.subject].append((datetime.fromisoformat(v.occurred_at), v.attributes or {}))
        by_subject: dict[str, list[datetime]] = defaultdict(list)
        for r in discharges:
            by_subject[r.subject].append(datetime.fromisoformat(r.occurred_at))
        first = {r.code: r for r in ctx.conn.execute(select(f.code, f.status, f.due, f.reached).where(
            f.plugin == PLUGIN, f.visit_type == "discharge_first"))}
        scores = {r.trigger: r.recovery for r in ctx.conn.execute(select(a.trigger, a.recovery).where(
            a.visit_type == "discharge_first", a.status == "completed"))}
        groups: dict[tuple, dict[str, Any]] = {}
        readmit = timedelta(days=settings.readmission_days)
        review = timedelta(days=settings.review_days)
        for r in discharges:
            at = datetime.fromisoformat(r.occurred_at)
            if not self.wanted(ctx, r.occurred_at):
                continue
            fu = first.get(f"{r.code}-1")
            if fu is None:
                continue
            overdue = fu.status in OPEN and now is not None and \
                datetime.fromisoformat(fu.due) < now and not fu.reached
            group = "followed_up" if fu.status == "completed" else \
                "not_followed_up" if fu.status == "lost" or overdue else None
            if group is None:
                continue  # pending, cancelled or exempt: not part of either cohort
            attrs = r.attributes or {}
            key = (_diagnosis_code(attrs.get("diagnosis")), group) + \
                ((attrs.get("department") or "-",) if "department" in ctx.by else ())
            g = groups.setdefault(key, {"discharges": 0, "readmitted": 0, "reviews": [], "followup": []})
            g["discharges"] += 1
            if any(at < later <= at + readmit for later in by_subject[r.subject]):
                g["readmitted"] += 1
            reviewed = [v.get("recovery_score") for when, v in sorted(visits[r.subject], key=lambda x: x[0])
                        if at < when <= at + review and v.get("recovery_score") is not None]
            if reviewed:
                g["reviews"].append(reviewed[0])
            if group == "followed_up" and scores.get(r.code) is not None:
                g["followup"].append(scores[r.code])
        out = []
        for key, g in groups.items():
            row = {"diagnosis": key[0], "group": key[1]}
            if "department" in ctx.by:
                row["department"] = key[2]
            row.update({
                "discharges": g["discharges"], "readmitted": g["readmitted"],
                "readmission_rate": ratio(g["readmitted"], g["discharges"]),
                "reviewed": len(g["reviews"]), "review_recovery_mean": mean(g["reviews"]),
                "followup_recovery_mean": mean(g["followup"]) if key[1] == "followed_up" else None,
            })
            out.append(row)
        return sorted(out, key=lambda r: (r.get("department") or "", r["diagnosis"], r["group"]))


class ReexaminationReport(_Medical):
    """M5/G20 (003 §3): share of health checks with abnormal findings followed by a re-examination (an
    outpatient visit within `reexam_window_days`, or the subject saying so on a recall call), overall and
    per finding, for subjects reached by the targeted call vs not reached."""

    name = "reexamination"
    title = "复检率 Re-examination rate after health-check recall (M5)"
    rules = ["M5", "G20"]
    dimensions = ()
    default_by = ()

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        if self.skip(ctx):
            return []
        settings = self.settings(ctx)
        t, f, a = triggers.c, followups.c, answers.c
        visits: dict[str, list[datetime]] = defaultdict(list)
        for v in ctx.conn.execute(select(t.subject, t.occurred_at).where(
                t.plugin == PLUGIN, t.kind == "medical.outpatient_visit")):
            visits[v.subject].append(datetime.fromisoformat(v.occurred_at))
        reached = {r.trigger for r in ctx.conn.execute(select(f.trigger).where(
            f.plugin == PLUGIN, f.visit_type == "health_check_recall", f.status == "completed"))}
        said_yes = {r.trigger for r in ctx.conn.execute(select(a.trigger).where(a.reexamined == "yes"))}
        window = timedelta(days=settings.reexam_window_days)
        counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for r in ctx.conn.execute(select(t.code, t.subject, t.occurred_at, t.attributes).where(
                t.plugin == PLUGIN, t.kind == "medical.health_check")):
            findings = (r.attributes or {}).get("findings") or []
            if not findings or not self.wanted(ctx, r.occurred_at):
                continue
            at = datetime.fromisoformat(r.occurred_at)
            by_visit = any(at < v <= at + window for v in visits[r.subject])
            by_answer = r.code in said_yes
            group = "reached" if r.code in reached else "not_reached"
            for finding in ["all", *dict.fromkeys(findings)]:
                for g in ("all", group):
                    c = counts[(finding, g)]
                    c["checks"] += 1
                    c["reexamined"] += by_visit or by_answer
                    c["by_outpatient"] += by_visit
                    c["by_answer"] += by_answer
        order = {"all": 0, "reached": 1, "not_reached": 2}
        out = [{"finding": finding, "group": group, "checks": c["checks"], "reexamined": c["reexamined"],
                "reexamination_rate": ratio(c["reexamined"], c["checks"]), "by_outpatient": c["by_outpatient"],
                "by_answer": c["by_answer"]} for (finding, group), c in counts.items()]
        return sorted(out, key=lambda r: (r["finding"] != "all", r["finding"], order[r["group"]]))


REPORTS = [NursesReport, DepartmentsReport, EffectReport, ReexaminationReport]
