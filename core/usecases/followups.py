"""Work on a follow-up: attempts (G5 retries, G6 calling windows, G7 consent, G11 recordings),
completing it with the survey's answers (G4, G16), closing it as lost (G14, after G5), cancelled or
exempt (F6), and reassigning it. Every command first checks the actor: G9 (no conflict of interest),
the A4 lock, and their role and ladder (access.py); refusals are recorded."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import clock
from ..audit.recordings import store_recording
from ..contract import CHANNELS, OUTCOMES
from ..domain import FollowUp, Staff, Subject
from ..errors import HuifangError, Refused
from ..paths import check_recording
from ..retry import retry_on_conflict
from ..status import Status
from ..surveys import seal_answers, validate_answers
from . import tickets
from .locks import unlockers
from .reactions import react
from .subjects import FALLBACK_CHANNELS

if TYPE_CHECKING:
    from ..services import App

# G14 reasons that make further attempts pointless or wrong (consent, G7).
LOST_WITHOUT_RETRIES = ("refused", "deceased")


def check_actor(app: App, fu: FollowUp, actor: str, action: str) -> Staff | None:
    """G9 (conflict of interest, for every plugin), the A4 lock and the actor's role; every refusal
    is recorded in the actor's access log before it is raised."""
    staff = app.access.registered(actor, f"followup.{action}", f"follow-up {fu.code}")  # G8: ghosts recorded
    deny = app.access.deny
    if actor in fu.excluded_staff:
        raise deny(actor, f"followup.{action}", f"follow-up {fu.code}",
                   f"G9: {actor} has an interest in {fu.code} (sold or advised it) and may not {action} it")
    if staff is not None and staff.role in fu.excluded_roles:
        raise deny(actor, f"followup.{action}", f"follow-up {fu.code}",
                   f"G9: staff in the {staff.role} role may not {action} {fu.code}")
    if staff is not None and staff.lock:
        who = unlockers(app, staff)
        raise deny(actor, f"followup.{action}", f"follow-up {fu.code}",
                   f"A4: {actor} is locked (level {staff.lock['level']}, overdue "
                   f"{', '.join(staff.lock['followups'][:3])}): {who}")
    app.access.require(actor, "followup.work", fu=fu)
    return staff


@retry_on_conflict  # safe to redo after a re-read and re-check: two attempts are both real
def record_attempt(app: App, code: str, channel: str, outcome: str, note: str | None = None,
                   recording: str | None = None, actor: str = "cli",
                   recording_failed_line: str | None = None) -> tuple[FollowUp, list[str]]:
    if channel not in CHANNELS:
        raise HuifangError(f"'{channel}' is not one of {', '.join(CHANNELS)}", field="channel")
    if outcome not in OUTCOMES:
        raise HuifangError(f"'{outcome}' is not one of {', '.join(OUTCOMES)}", field="outcome")
    fu = app.load(FollowUp, code, "follow-up")
    if fu.closed:
        raise Refused(f"follow-up {code} is already {fu.status}: cannot record an attempt")
    check_actor(app, fu, actor, "attempt")
    subj = app.load(Subject, fu.subject, "subject")
    if channel in subj.optouts:
        raise Refused(f"G7: subject {subj.code} opted out of {channel}: use "
                      f"{', '.join(c for c in FALLBACK_CHANNELS if c not in subj.optouts)}")
    # G11: copied, hashed; never the store or a key (paths.py)
    rec = store_recording(app, str(check_recording(app, recording))) if recording else None
    if rec is None and recording_failed_line:
        rec = {"failed_system": True, "line": recording_failed_line}
    attempt = {"channel": channel, "outcome": outcome, "note": note, "recording": rec, "actor": actor}
    settings = app.settings(fu.plugin)
    refusal = app.registry.call(fu.plugin, "huifang_check_attempt", followup=app.info(fu), attempt=attempt,
                                settings=settings)  # the follow-up's own plugin only (F9)
    refusals = [refusal] if refusal else []
    if settings.require_recording and channel == "phone" and rec is None:
        refusals.append("G11: a phone attempt needs --recording FILE (or the recording system flagged as "
                        "failed with another recorded line)")
    if refusals:
        raise Refused(refusals[0])
    sched = app.scheduler(fu.plugin, subj.tz)
    now = clock.now()
    retry = None if outcome in ("reached", "refused") else sched.next_retry(now)
    fu.record_attempt(channel=channel, outcome=outcome, note=app.keyring.seal(fu.subject, note), recording=rec,
                      outside_window=not sched.in_window(now), next_attempt_at=retry, actor=actor)
    messages: list[str] = []
    if not sched.in_window(now):
        messages.append(f"G6: {now.astimezone(sched.tz):%Y-%m-%d %H:%M} is outside the calling windows "
                        f"({', '.join(settings.calling_windows)}, workdays)")
    reactions = app.registry.call(fu.plugin, "huifang_on_attempt", followup=app.info(fu), attempt=attempt,
                                  settings=settings, scheduler=sched, history=app.history) or []
    changed = react(app, fu, subj, reactions, actor, messages)
    app.commit(fu, *changed)
    return fu, messages


@retry_on_conflict  # the re-check refuses a follow-up another operator completed meanwhile
def complete(app: App, code: str, answers: dict[str, Any], actor: str = "cli") -> tuple[FollowUp, list[str]]:
    fu = app.load(FollowUp, code, "follow-up")
    if fu.closed:
        raise Refused(f"follow-up {code} is already {fu.status}: cannot complete it")
    check_actor(app, fu, actor, "complete")
    if not fu.reached:
        raise Refused(
            f"follow-up {code} has no reached attempt: record one first "
            f"(huifang attempt {code} --channel {fu.channel} --outcome reached)")
    survey = app.survey(fu)
    clean = validate_answers(survey, answers)
    fu.complete(answers=seal_answers(app.keyring, survey, fu.subject, clean), actor=actor)
    subj = app.load(Subject, fu.subject, "subject")
    changed: list[Any] = []
    messages: list[str] = []
    if fu.visit_type == "second_followup":
        changed.append(tickets.confirm(app, fu, clean, actor, messages))
    else:
        sched = app.scheduler(fu.plugin, subj.tz)
        reactions = app.registry.call(fu.plugin, "huifang_on_completed", followup=app.info(fu),
                                      answers=clean, settings=app.settings(fu.plugin), scheduler=sched,
                                      history=app.history) or []
        changed += react(app, fu, subj, reactions, actor, messages)
    app.commit(fu, *changed)
    return fu, messages


def close_followup(app: App, code: str, status: str, reason: str, actor: str = "cli") -> FollowUp:
    """lost (G5, G14), cancelled, exempt (F6)."""
    fu = app.load(FollowUp, code, "follow-up")
    if fu.closed:
        raise Refused(f"follow-up {code} is already {fu.status}: cannot close it as {status}")
    staff = app.access.registered(actor, "followup.close", f"follow-up {code}")
    if staff is not None and staff.lock:  # A4, recorded like every refusal (G8)
        raise app.access.deny(actor, "followup.close", f"follow-up {code}",
                              f"A4: {actor} is locked: {unlockers(app, staff)}")
    app.access.require(actor, "followup.work", fu=fu)  # owner, ladder or department
    reason = (reason or "").strip()
    if status == Status.LOST:
        if not reason:
            raise HuifangError("a reason is required (G14), e.g. no_answer, wrong_number, moved", field="lost")
        check_g5(app, fu, reason)
    elif status == Status.CANCELLED:
        if not reason:
            raise HuifangError("a reason is required", field="cancel")
    elif status == Status.EXEMPT:
        subj = app.load(Subject, fu.subject, "subject")
        if reason and not subj.exempt:  # F6: a statement not on file yet is recorded by the department's supervisor
            app.access.require(actor, "subject.exempt", subject=fu.subject)
        if not reason and not subj.exempt:
            raise Refused(f"F6: {fu.subject} has no signed no-follow-up statement: pass --statement TEXT "
                          f"or record it with 'huifang subject exempt {fu.subject} --statement TEXT'")
        reason = reason or f"signed statement: {app.keyring.reveal(subj.exemption_note)}"
    else:
        raise HuifangError(f"close: status '{status}' is not one of lost, cancelled, exempt")
    # G8: a reason shaped like a code (no_answer, wrong_number) stays plain for the G14 report; text is sealed
    sealed = app.keyring.seal(fu.subject, reason) if status == Status.EXEMPT else \
        app.keyring.seal_reason(fu.subject, reason)
    fu.close(status=status, reason=sealed, actor=actor)
    app.commit(fu)
    return fu


def check_g5(app: App, fu: FollowUp, reason: str) -> None:
    """G5: at least 3 attempts, each at a different time (distinct calling slots), before lost."""
    if reason in LOST_WITHOUT_RETRIES and any(a["outcome"] in ("refused", "reached") for a in fu.attempts):
        return
    need = app.settings(fu.plugin).min_attempts
    subj = app.load(Subject, fu.subject, "subject")
    sched = app.scheduler(fu.plugin, subj.tz)
    slots = {sched.slot_of(a["at"]) or (sched.local_day(a["at"]), a["at"].astimezone(sched.tz).hour)
             for a in fu.attempts}
    if len(fu.attempts) < need:
        raise Refused(f"G5: {fu.code} has {len(fu.attempts)} attempt(s); at least {need} at different "
                      f"times are needed before it may be closed as lost")
    if len(slots) < need:
        raise Refused(f"G5: {fu.code}'s {len(fu.attempts)} attempts fall in {len(slots)} calling slot(s); "
                      f"retry at another time ({need} different slots needed) before closing as lost")


def reassign(app: App, code: str, to: str, reason: str, actor: str = "cli") -> FollowUp:
    fu = app.load(FollowUp, code, "follow-up")
    app.access.registered(actor, "followup.reassign", f"follow-up {code}")  # G8: in setup mode too
    target = app.load(Staff, to, "staff", field="to")
    if to in fu.excluded_staff or target.role in fu.excluded_roles:
        raise app.access.deny(actor, "followup.reassign", f"follow-up {code}",
                              f"G9: {to} has an interest in {code} and cannot own it")
    app.access.require(actor, "followup.reassign", fu=fu, target_staff=target)  # within the ladder
    fu.reassign(to_owner=to, reason=app.keyring.seal(fu.subject, reason or "reassigned"), actor=actor)  # G8: free text
    app.commit(fu)
    return fu
