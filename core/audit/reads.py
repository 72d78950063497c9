"""Read audit (G8): reading a subject's history or file, or exporting their personal data, is
recorded as a `ReadLog.Read` event (who, what, why) before the data is shown; a personal-data export
for someone outside the subject's departments needs an export approval recorded first by a manager
of one of those departments (the data owner). `audit reads --subject ID` lists it all.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from .. import clock
from ..errors import ConflictError, HuifangError, Refused
from .trail import AccessLog, ReadLog


def check_reason(reason: str | None, enforced: bool, field: str = "reason") -> str:
    """The stated reason for reading personal data: required once access control is on (G8)."""
    r = (reason or "").strip()
    if enforced and not r:
        raise HuifangError("say why you read this personal data (G8), e.g. --reason 'follow-up D1-1'", field=field)
    return r


def _append(app: Any, subject: str, actor: str, change: Any) -> ReadLog:
    for _ in range(8):
        log = app.find_by_id(ReadLog.create_id(subject)) or ReadLog(subject=subject, actor=actor)
        change(log)
        try:
            app.commit_trail(log)
            return log
        except ConflictError:
            continue
    raise ConflictError(f"the read log of {subject} is busy; nothing was shown: re-run the command")


def record_read(app: Any, actor: str, subject: str, what: str, target: str, reason: str | None) -> None:
    """Check the actor may read the subject's personal data, then record the read (G8)."""
    app.access.require(actor, "subject.read", subject=subject, target=target)
    why = check_reason(reason, app.access.enforced())
    sealed = app.keyring.seal_note(subject, why) if why else "(none given)"  # G8: a read reason is free text
    _append(app, subject, actor, lambda log: log.read(what=what, target=target, reason=sealed,
                                                      approval=None, actor=actor))


def record_system_read(app: Any, subject: str, what: str, target: str, reason: str) -> None:
    """A disclosure the system makes under a standing configuration an admin set up (a delivery to the
    subject's own address, a personal webhook): no person's role to check, but recorded all the same (G8)."""
    sealed = app.keyring.seal_note(subject, reason)
    _append(app, subject, "system", lambda log: log.read(what=what, target=target, reason=sealed,
                                                         approval=None, actor="system"))


def record_export(app: Any, actor: str, subject: str, reason: str | None) -> int | None:
    """A personal-data export: beyond the actor's own department it needs a live approval."""
    staff = app.access.require(actor, "subject.export", subject=subject, target=f"subject:{subject}")
    why = check_reason(reason, app.access.enforced())
    approval = None
    if app.access.enforced() and staff is not None:
        depts = app.access.subject_departments(subject)
        if depts and staff.dept not in depts:
            now = clock.now()
            log = app.find_by_id(ReadLog.create_id(subject))
            live = [a for a in (log.approvals if log else []) if a["grantee"] == actor and a["until"] >= now]
            if not live:
                raise app.access.deny(actor, "subject.export", f"subject:{subject}",
                                      f"G8: exporting {subject}'s personal data beyond {staff.dept or 'no department'} "
                                      f"needs an approval by a manager of {', '.join(sorted(depts))} first "
                                      f"(huifang --as MANAGER audit approve-export {subject} --for {actor} "
                                      f"--reason ...)")
            approval = live[-1]["n"]
    sealed = app.keyring.seal_note(subject, why) if why else "(none given)"
    _append(app, subject, actor, lambda log: log.read(what="export", target=f"subject:{subject}",
                                                      reason=sealed, approval=approval, actor=actor))
    return approval


def approve_export(app: Any, actor: str, subject: str, grantee: str, reason: str, days: int) -> dict[str, Any]:
    from ..domain import Staff, Subject

    app.load(Subject, subject, "subject")
    app.load(Staff, grantee, "staff", field="grantee")
    if not (reason or "").strip():
        raise HuifangError("say why the export is approved", field="reason")
    if not 1 <= days <= 90:
        raise HuifangError(f"{days} is outside 1..90", field="days")
    staff = app.access.require(actor, "audit.approve", subject=subject, target=f"subject:{subject}")
    if app.access.enforced() and staff is not None:
        depts = app.access.subject_departments(subject)
        if staff.role != "manager" or not (staff.dept is None or not depts or staff.dept in depts):
            raise app.access.deny(actor, "audit.approve", f"subject:{subject}",
                                  f"G8: only a manager of the data-owning department ({', '.join(sorted(depts))}) "
                                  f"may approve exporting {subject}'s personal data")
    until = clock.now() + timedelta(days=days)
    sealed = app.keyring.seal_note(subject, reason.strip())  # G8: free text, gone with the subject's key
    _append(app, subject, actor, lambda log: log.approve_export(grantee=grantee, reason=sealed, until=until,
                                                                actor=actor))
    return {"subject": subject, "grantee": grantee, "until": clock.iso(until), "by": actor, "reason": reason.strip()}


def list_reads(app: Any, actor: str, subject: str | None = None, who: str | None = None) -> dict[str, Any]:
    app.access.require(actor, "audit.read", target=f"subject:{subject}" if subject else f"staff:{who or ''}")
    out: dict[str, Any] = {}
    if subject is not None:
        from ..domain import Subject

        app.load(Subject, subject, "subject")
        log = app.find_by_id(ReadLog.create_id(subject))
        out["subject"] = subject
        reveal = app.keyring.reveal_all  # reasons are stored encrypted (G8)
        out["reads"] = reveal([{**r, "at": clock.iso(r["at"])} for r in (log.reads if log else [])])
        out["approvals"] = reveal([{**a, "at": clock.iso(a["at"]), "until": clock.iso(a["until"])}
                                   for a in (log.approvals if log else [])])
    if who is not None:
        log = app.find_by_id(AccessLog.create_id(who))
        out["actor"] = who
        out["refusals"] = [{**r, "at": clock.iso(r["at"])} for r in (log.refusals if log else [])]
        out["log_exports"] = [{**x, "at": clock.iso(x["at"])} for x in (log.exports if log else [])]
    if subject is None and who is None:
        raise Refused("audit reads: give --subject ID or --actor STAFF_ID")
    return out


def record_log_export(app: Any, actor: str, info: dict[str, Any], reason: str) -> None:
    for _ in range(8):
        log = app.find_by_id(AccessLog.create_id(actor)) or AccessLog(who=actor, actor=actor)
        log.exported(period_from=info.get("from"), period_to=info.get("to"), records=info["records"],
                     first_position=info.get("first_position"), last_position=info.get("last_position"),
                     sha256=info["sha256"], reason=reason, actor=actor)
        try:
            app.commit_trail(log)
            return
        except ConflictError:
            continue
    raise ConflictError("the access log is busy: re-run the export")


def record_list_read(app: Any, actor: str, subjects: list[str], what: str, target: str, reason: str) -> set[str]:
    """A list that shows several subjects' names (the queue, `subject find`): the subjects the actor's
    scope reaches, each read recorded (G8) in one transaction; the others are left out of the list
    (`subject.read` scope; no refusal: the actor asked for a list, not for them). A subject already
    read by the actor for the same `what` that local day is not recorded again (an operator runs
    the queue dozens of times a day). Nobody's data for the anonymous `cli` in enforced mode."""
    access = app.access
    enforced = access.enforced()
    staff = access.registered(actor, "subject.read", target)
    if enforced and staff is None:
        return set()
    shown = {s for s in dict.fromkeys(subjects) if not enforced or access.reaches_subject(staff, s)}
    if not shown:
        return shown
    tz = clock.zone(app.config.huifang.timezone)
    today = clock.now().astimezone(tz).date()
    for _ in range(8):
        logs = []
        for subject in sorted(shown):
            log = app.find_by_id(ReadLog.create_id(subject)) or ReadLog(subject=subject, actor=actor)
            if any(r["actor"] == actor and r["what"] == what and r["at"].astimezone(tz).date() == today
                   for r in log.reads[-20:]):
                continue
            log.read(what=what, target=target, reason=app.keyring.seal_note(subject, reason), approval=None,
                     actor=actor)
            logs.append(log)
        if not logs:
            return shown
        try:
            app.commit_trail(*logs)
            return shown
        except ConflictError:
            continue
    raise ConflictError("the read logs are busy; nothing was shown: re-run the command")
