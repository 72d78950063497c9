"""Plans: which follow-ups a hospital event creates (M1, M2, M3/M4 first call, M5, M9)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from huifang.core.plugin_api import (
    OPEN,
    CloseFollowUp,
    Guide,
    History,
    PlanContext,
    PlanFunction,
    PlanItem,
    PlannedVisit,
    Skip,
)

from . import curve
from .settings import MedicalSettings

FINDING_ADVICE = {  # M5: what the targeted call is about, per abnormal item (003 §3)
    "lipids": "diet low in fat, exercise; re-check lipids in 3 months",
    "glucose": "re-check fasting glucose / HbA1c; endocrinology clinic",
    "blood_pressure": "home blood-pressure log; cardiology or hypertension clinic",
    "liver": "avoid alcohol; re-check liver function; hepatology clinic",
    "nodule": "imaging re-check or specialist referral as the report says",
    "kidney": "re-check renal function; nephrology clinic",
    "uric_acid": "low-purine diet; re-check uric acid",
    "thyroid": "re-check thyroid function / ultrasound",
    "ecg": "cardiology review of the ECG",
    "imaging": "specialist review of the imaging finding",
    "other": "re-examination as the report advises",
}


def recovery_template(diagnosis: str | None, surgery: bool, settings: MedicalSettings) -> dict[str, Any]:
    """M6: the per-disease template the 0–10 recovery score is judged on (its Chinese name and items)."""
    templates = settings.recovery_templates
    name = diagnosis if diagnosis in templates else "surgery" if surgery and "surgery" in templates else "default"
    return {"name": name, "title": settings.recovery_template_names.get(name, name),
            "score_guide": list(templates.get(name, []))}


def template_guide(template: dict[str, Any]) -> Guide:
    """M6: the recovery-score template as `show` prints it for the call."""
    return Guide(title=f"康复评分模板：{template['title']} (0-10 分)",
                 lines=[*template["score_guide"], "每项达到记高分，未达到酌情扣分；请同时做好健康宣教并记录 (G4)"])


def open_curve(history: History, subject: str, condition: str) -> str | None:
    """An open call of the subject's curve for this condition (a second enrolment must not fork it)."""
    for row in history.followups(subject):
        meta = row.get("meta") or {}
        if row.get("plugin") == "medical" and meta.get("curve") == condition and row.get("status") in OPEN:
            return str(row["code"])
    return None


def discharge(ctx: PlanContext) -> list[PlanItem]:
    """M1: first follow-up 7 days after discharge, due within 10, owned by the responsible nurse (M9).
    With a condition it is also call 1 of the chronic curve (M3/M4): its answers set the next interval."""
    trigger = ctx.trigger
    settings: MedicalSettings = ctx.settings
    a = trigger.attributes
    w = ctx.scheduler.window(trigger.at, settings.discharge_open_days, settings.discharge_due_days)
    template = recovery_template(a["diagnosis"], a.get("surgery", False), settings)
    meta: dict[str, Any] = {
        "diagnosis": a["diagnosis"], "attending_doctor": a["attending_doctor"], "department": a["department"],
        "surgery": a.get("surgery", False), "recovery_template": template}
    out: list[PlanItem] = []
    cond = a.get("condition")
    if cond:
        existing = open_curve(ctx.history, trigger.subject, cond)
        if existing:
            out.append(Skip(key="curve", reason=f"already on the {cond} curve: {existing} continues it (M3/M4)",
                            meta={"followup": existing}))
        else:
            meta.update(curve.curve_meta(cond, 1, curve.first_step(cond, "early", settings), trigger.at))
    out.insert(0, PlannedVisit(key="1", visit_type="discharge_first", owner=a["responsible_nurse"],
                               owner_role="nurse", department=a["department"], meta=meta,
                               guides=[template_guide(template)], **w.fields()))
    return out


def outpatient(ctx: PlanContext) -> list[PlanItem]:
    """M2: specialist first visit after 7 days, basic department after 10. A visit that is the
    re-examination of an earlier health check (M5: it names the finding, or is in a department that
    re-examines it) cancels the pending re-examination reminder; any other visit does not."""
    trigger = ctx.trigger
    settings: MedicalSettings = ctx.settings
    a = trigger.attributes
    out: list[PlanItem] = []
    for row in ctx.history.followups(trigger.subject):
        if row.get("plugin") == "medical" and row.get("visit_type") == "reexam_reminder" \
                and row.get("status") in OPEN and is_reexamination(a, row.get("meta") or {}, settings):
            out.append(CloseFollowUp(followup=row["code"], reason="re-examined at an outpatient visit (M5)"))
    if not (a["first_visit"] or settings.outpatient_return_visits):
        out.append(Skip(key="1", reason="M2: a return visit (not 初诊) has no routine follow-up"))
        return out
    days = settings.outpatient_specialist_days if a["specialist"] else settings.outpatient_basic_days
    w = ctx.scheduler.window(trigger.at, days, days + settings.outpatient_window_days)
    template = recovery_template(None, False, settings)
    meta = {"department": a["department"], "specialist": a["specialist"], "first_visit": a["first_visit"],
            "attending_doctor": a.get("attending_doctor"), "recovery_template": template}
    out.insert(0, PlannedVisit(key="1", visit_type="outpatient_first", owner=settings.outpatient_owner,
                               department=a["department"], meta=meta, guides=[template_guide(template)],
                               **w.fields()))
    return out


def chronic(ctx: PlanContext) -> list[PlanItem]:
    """M3/M4: the first call of the curve; each completion plans the next."""
    trigger = ctx.trigger
    settings: MedicalSettings = ctx.settings
    a = trigger.attributes
    cond = a["condition"]
    existing = open_curve(ctx.history, trigger.subject, cond)
    if existing:
        return [Skip(key="c1", reason=f"already on the {cond} curve: {existing} continues it (M3/M4)",
                     meta={"followup": existing})]
    dept = a.get("department") or settings.chronic_department
    step = curve.first_step(cond, a.get("phase") or "early", settings)
    return [curve.plan_call(cond, 1, step, trigger.at, trigger.at, ctx.scheduler, settings,
                            owner=a.get("responsible_nurse"), department=dept,
                            extra={"department": dept, "attending_doctor": a.get("attending_doctor")})]


def health_check(ctx: PlanContext) -> list[PlanItem]:
    """M5: abnormal findings -> a targeted call once the report is out (003 §3)."""
    trigger = ctx.trigger
    settings: MedicalSettings = ctx.settings
    a = trigger.attributes
    findings = list(dict.fromkeys(a["findings"]))
    if not findings:
        return [Skip(key="recall", reason="M5: no abnormal findings, no recall call")]
    dept = a.get("department") or settings.health_check_department
    w = ctx.scheduler.window(trigger.at, settings.health_check_open_days, settings.health_check_due_days)
    owner = a.get("responsible_nurse") or settings.health_check_owner
    return [PlannedVisit(key="recall", visit_type="health_check_recall", owner=owner,
                         owner_role="nurse" if owner else None, department=dept,
                         meta={"department": dept, "findings": findings, "check_at": trigger.at.isoformat(),
                               "advice": {f: FINDING_ADVICE.get(f, "") for f in findings}}, **w.fields())]


def is_reexamination(visit: dict[str, Any], check: dict[str, Any], settings: MedicalSettings) -> bool:
    """M5: an outpatient visit is the re-examination of a health check's findings (`check` is the recall's
    or reminder's meta: findings, department) when it names one of the findings as an exam done, or is in
    the check's own department or one that re-examines a finding (settings.reexam_departments)."""
    findings = set(check.get("findings") or [])
    if findings & set(visit.get("exams") or []):
        return True
    departments = {check.get("department")} | {d for f in findings for d in settings.reexam_departments.get(f, [])}
    return visit.get("department") in departments - {None}


def reexamined_since(history: History, subject: str, since: datetime, days: int, check: dict[str, Any],
                     settings: MedicalSettings) -> str | None:
    """M5: the first outpatient visit within `days` after `since` that is the re-examination, if any."""
    for t in history.triggers(subject, kind="medical.outpatient_visit"):
        at = datetime.fromisoformat(t["occurred_at"])
        if since < at and (at - since).days <= days and is_reexamination(t.get("attributes") or {}, check, settings):
            return str(t["code"])
    return None


PLANS: dict[str, PlanFunction] = {"discharge": discharge, "outpatient_visit": outpatient,
                                  "chronic_enrolment": chronic, "health_check": health_check}
