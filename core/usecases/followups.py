"""Work on a follow-up: attempts (G5 retries, G6 calling windows, G7 consent, G11 recordings),
completing it with the survey's answers (G4, G16), closing it as lost (G14, after G5), cancelled or
exempt (F6), and reassigning it. Every command first checks the actor: G9 (no conflict of interest),
the A4 lock, and their role and ladder (access.py); refusals are recorded."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import clock
from ..audit.recordings import store_recording
from ..contract import (
    CALLING_CHANNELS,
    CHANNELS,
    LANGUAGES,
    LOST_REASONS,
    OUTCOME_ALIASES,
    OUTCOME_LABELS,
    OUTCOMES,
)
from ..domain import FollowUp, Staff, Subject
from ..errors import HuifangError, Refused
from ..labels import resolve
from ..paths import check_recording
from ..retry import retry_on_conflict
from ..status import Status
from ..surveys import seal_answers, validate_answers
from . import exemptions, tickets
from .locks import unlockers
from .reactions import react
from .subjects import record_optout

if TYPE_CHECKING:
    from ..services import App

# G14 reasons that need no further attempts once someone answered: the subject refused the follow-up
# itself (G7, the one G15 takes out of the success-rate denominator), or is deceased.
LOST_WITHOUT_RETRIES = ("refused", "deceased")


def outcome_code(text: str) -> str:
    """An attempt's outcome: its code or its Chinese label (拒绝电话 = refused_channel)."""
    t = (text or "").strip()
    found = t.lower() if t.lower() in OUTCOMES else _by_label(OUTCOME_LABELS, t) or OUTCOME_ALIASES.get(t)
    if found is None:
        raise HuifangError(f"'{t}' is not an outcome; one of " + ", ".join(
            f"{c} ({OUTCOME_LABELS.get(c, c)})" for c in OUTCOMES), field="outcome")
    return found


def language_code(text: str | None) -> str | None:
    """F9: the call's language, a code of contract.LANGUAGES or its label (普通话); None when not given."""
    t = (text or "").strip()
    if not t:
        return None
    found = t.lower() if t.lower() in LANGUAGES else _by_label(LANGUAGES, t)
    if found is None:
        raise HuifangError(f"'{t}' is not a language; one of " + ", ".join(
            f"{c} ({label})" for c, label in LANGUAGES.items()), field="language")
    return found


def lost_reason(text: str) -> str:
    """G14: a lost reason is a code of the list (or its Chinese label), never free text: the lost
    reasons are analysed (`report lost`); what the agent adds goes in the note."""
    t = (text or "").strip()
    codes = ", ".join(f"{c} ({label})" for c, label in LOST_REASONS.items())
    if not t:
        raise HuifangError(f"a reason is required (G14): one of {codes}", field="lost")
    found = t.lower() if t.lower() in LOST_REASONS else _by_label(LOST_REASONS, t)
    if found is None:
        raise HuifangError(f"'{t}' is not a lost reason (G14); use one of {codes}, and --note for the details",
                           field="lost")
    return found


def _by_label(labels: dict[str, str], text: str) -> str | None:
    """The code whose label is `text` (or one of its '/'-separated parts: 空号 for 空号/错号)."""
    return next((code for code, label in labels.items() if text == label or text in label.split("/")), None)


def counts_for_lost(attempt: dict[str, Any]) -> bool:
    """G5/G6: an attempt counts toward the attempts needed before lost only inside a calling window
    (or on a channel without windows: SMS, letter …) and once the follow-up's window has opened."""
    if attempt.get("before_window"):
        return False
    return not (attempt["channel"] in CALLING_CHANNELS and attempt.get("outside_window"))


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
    why = conflict(app, fu, staff)
    if why:
        raise deny(actor, f"followup.{action}", f"follow-up {fu.code}", f"{why}: may not {action} {fu.code}")
    if staff is not None and staff.lock:
        who = unlockers(app, staff)
        raise deny(actor, f"followup.{action}", f"follow-up {fu.code}",
                   f"A4: {actor} is locked (level {staff.lock['level']}, overdue "
                   f"{', '.join(staff.lock['followups'][:3])}): {who}")
    app.access.require(actor, "followup.work", fu=fu)
    return staff


def conflict(app: App, fu: FollowUp, staff: Staff | None) -> str | None:
    """G9 by the follow-up's own plugin (hook huifang_check_conflict: e.g. finance, the seller's
    reporting line and the sales departments); None for cli/system."""
    if staff is None or not hasattr(app.registry.plugins.get(fu.plugin), "huifang_check_conflict"):
        return None  # most plugins leave G9 to excluded_staff/excluded_roles: no follow-up info to build
    info = {"id": staff.code, "role": staff.role, "dept": staff.dept, "reports_to": staff.reports_to}
    why = app.registry.call(fu.plugin, "huifang_check_conflict", followup=app.info(fu), staff=info,
                            settings=app.settings(fu.plugin), history=app.history)
    return str(why) if why else None


@retry_on_conflict  # safe to redo after a re-read and re-check: two attempts are both real
def record_attempt(app: App, code: str, channel: str, outcome: str, note: str | None = None,
                   recording: str | None = None, actor: str = "cli",
                   recording_failed_line: str | None = None,
                   language: str | None = None) -> tuple[FollowUp, list[str]]:
    channel = resolve("channel", channel, CHANNELS, "channel")  # the code, 电话 or Phone
    outcome = outcome_code(outcome)
    language = language_code(language)
    fu = app.load(FollowUp, code, "follow-up")
    changed, messages = _attempt(app, fu, channel, outcome, note, recording, actor, recording_failed_line, language)
    app.commit(*changed)
    return fu, messages


def prepare_attempt(app: App, fu: FollowUp, channel: str, outcome: str, note: str | None = None,
                    actor: str = "cli") -> tuple[list[Any], list[str]]:
    """record_attempt on a loaded follow-up, not saved: (the aggregates to save, `fu` first; messages).
    For a command that saves it together with more (a survey link's answer: attempt, completion and the
    link in one commit)."""
    return _attempt(app, fu, resolve("channel", channel, CHANNELS, "channel"), outcome_code(outcome), note, None,
                    actor, None, None)


def _attempt(app: App, fu: FollowUp, channel: str, outcome: str, note: str | None, recording: str | None,
             actor: str, recording_failed_line: str | None, language: str | None) -> tuple[list[Any], list[str]]:
    code = fu.code
    if fu.closed:
        raise Refused(f"follow-up {code} is already {fu.status}: cannot record an attempt")
    check_actor(app, fu, actor, "attempt")
    subj = app.load(Subject, fu.subject, "subject")
    if channel in subj.optouts:
        raise Refused(f"G7: subject {subj.code} opted out of {channel}: use "
                      f"{', '.join(c for c in app.settings(fu.plugin).optout_fallback if c not in subj.optouts)}")
    # G11: copied, hashed; never the store or a key (paths.py)
    rec = store_recording(app, str(check_recording(app, recording))) if recording else None
    if rec is None and recording_failed_line:
        rec = {"failed_system": True, "line": recording_failed_line}
    attempt = {"channel": channel, "outcome": outcome, "note": note, "recording": rec, "actor": actor,
               "language": language}
    settings = app.settings(fu.plugin)
    refusal = app.registry.call(fu.plugin, "huifang_check_attempt", followup=app.info(fu), attempt=attempt,
                                settings=settings)  # the follow-up's own plugin only (F9)
    refusals = [refusal] if refusal else []
    if settings.require_recording and channel == "phone" and rec is None:
        refusals.append("G11: a phone attempt needs --recording FILE (or the recording system flagged as "
                        "failed with another recorded line)")
    if refusals:
        raise Refused(refusals[0])
    sched = app.scheduler(fu.plugin, subj.tz).for_followup(fu.meta)  # G6: a clinical exception's days count
    now = clock.now()
    early = now < fu.window_open  # G5: recorded, flagged, not counted toward lost
    retry = None if outcome in ("reached", "refused", "refused_channel", "sent") else sched.next_retry(now)
    if retry is not None and early:
        retry = max(retry, fu.window_open)
    inside = sched.in_window(now)
    fu.record_attempt(channel=channel, outcome=outcome, note=app.keyring.seal(fu.subject, note), recording=rec,
                      outside_window=not inside, before_window=early, next_attempt_at=retry, actor=actor,
                      language=language)
    messages: list[str] = []
    if not inside:
        messages.append(f"G6: {now.astimezone(sched.tz):%Y-%m-%d %H:%M} is outside the calling windows "
                        f"({', '.join(settings.calling_windows)}, workdays)"
                        + (": it does not count toward the attempts needed before lost (G5)"
                           if channel in CALLING_CHANNELS else ""))
    if early:
        messages.append(f"G5: {fu.code}'s window opens {clock.iso(fu.window_open, subj.tz)}: an attempt before "
                        f"it is recorded but does not count toward the attempts needed before lost")
    changed: list[Any] = []
    if outcome == "refused_channel":  # G7: the subject refuses this channel, not the follow-up
        changed += [subj, *record_optout(app, subj, channel, actor, loaded={fu.code: fu})]
        messages.append(f"G7: {subj.code} refuses {channel}: recorded on the subject's file; "
                        f"{fu.code} goes on by {fu.channel}")
    reactions = app.registry.call(fu.plugin, "huifang_on_attempt", followup=app.info(fu), attempt=attempt,
                                  settings=settings, scheduler=sched, history=app.history) or []
    changed += react(app, fu, subj, reactions, actor, messages)
    return [fu, *_unique(changed, fu)], messages


def _unique(aggregates: list[Any], *saved: Any) -> list[Any]:
    """Each aggregate once, and none of those already in `saved`."""
    seen = {a.id for a in saved}
    out = []
    for a in aggregates:
        if a.id not in seen:
            seen.add(a.id)
            out.append(a)
    return out


@retry_on_conflict  # the re-check refuses a follow-up another operator completed meanwhile
def complete(app: App, code: str, answers: dict[str, Any], actor: str = "cli") -> tuple[FollowUp, list[str]]:
    fu = app.load(FollowUp, code, "follow-up")
    changed, messages = prepare_completion(app, fu, answers, actor)
    app.commit(*changed)
    return fu, messages


def prepare_completion(app: App, fu: FollowUp, answers: dict[str, Any],
                       actor: str = "cli") -> tuple[list[Any], list[str]]:
    """complete on a loaded follow-up (it may carry an unsaved reached attempt), not saved: (the
    aggregates to save, `fu` first, with every reaction's; messages)."""
    code = fu.code
    if fu.closed:
        raise Refused(f"follow-up {code} is already {fu.status}: cannot complete it")
    check_actor(app, fu, actor, "complete")
    if not fu.reached:
        raise Refused(
            f"follow-up {code} has no reached attempt: record one first "
            f"(huifang attempt {code} --channel {fu.channel} --outcome reached)")
    survey = app.survey(fu)
    answers, reason = tickets.split_reason(answers)
    clean = validate_answers(survey, answers)
    clean |= tickets.dissatisfaction(clean.get("satisfaction"), reason,
                                     app.settings(fu.plugin).dissatisfaction_reasons)  # G16, before saving
    fu.complete(answers=tickets.seal_reason(app, fu.subject, seal_answers(app.keyring, survey, fu.subject, clean)),
                actor=actor)
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
    return [fu, *changed], messages


def close_followup(app: App, code: str, status: str, reason: str, actor: str = "cli",
                   note: str | None = None) -> FollowUp:
    """lost (G5, G14: a reason code and an optional note), cancelled, exempt (F6)."""
    fu = app.load(FollowUp, code, "follow-up")
    if fu.closed:
        raise Refused(f"follow-up {code} is already {fu.status}: cannot close it as {status}")
    staff = app.access.registered(actor, "followup.close", f"follow-up {code}")
    if staff is not None and staff.lock:  # A4, recorded like every refusal (G8)
        raise app.access.deny(actor, "followup.close", f"follow-up {code}",
                              f"A4: {actor} is locked: {unlockers(app, staff)}")
    app.access.require(actor, "followup.work", fu=fu)  # owner, ladder or department
    reason = (reason or "").strip()
    note = (note or "").strip() or None
    if note is not None and status != Status.LOST:
        raise HuifangError("a note goes with --lost (the lost reason's details)", field="note")
    if status == Status.LOST:
        reason = lost_reason(reason)
        if reason == "other" and note is None:
            raise HuifangError("the lost reason 'other' (其他) needs --note saying what happened (G14)", field="note")
        check_lost(app, fu, reason)
    elif status == Status.CANCELLED:
        if not reason:
            raise HuifangError("a reason is required", field="cancel")
    elif status == Status.EXEMPT and (on_trigger := exemptions.at_close(app, fu)) is not None:
        reason = on_trigger  # F6: the statement recorded on the trigger, never an ad-hoc one
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
    fu.close(status=status, reason=sealed, note=app.keyring.seal(fu.subject, note), actor=actor)  # G8: free text
    app.commit(fu)
    return fu


def check_lost(app: App, fu: FollowUp, reason: str) -> None:
    """Lost (失访) means unreachable: G14 (a refusal is on record), G5/G6 (3 counted attempts at
    different times, none before the window opened; never before the window opens), then the
    follow-up's own plugin (hook huifang_check_lost, e.g. F5's whole fallback ladder)."""
    answered = any(a["outcome"] in ("refused", "reached") for a in fu.attempts)
    if reason == "refused" and not any(a["outcome"] == "refused" for a in fu.attempts):
        raise Refused(f"G14: no attempt of {fu.code} recorded the subject refusing the follow-up: record it "
                      f"(huifang attempt {fu.code} --channel {fu.channel} --outcome refused); a subject who only "
                      f"refuses this channel is --outcome refused_channel (G7)")
    if not (reason in LOST_WITHOUT_RETRIES and answered):
        check_g5(app, fu)
    settings = app.settings(fu.plugin)
    refusal = app.registry.call(fu.plugin, "huifang_check_lost", followup=app.info(fu), reason=reason,
                                settings=settings, history=app.history)  # the follow-up's own plugin only
    if refusal:
        raise Refused(refusal)


def check_g5(app: App, fu: FollowUp) -> None:
    """G5: at least `min_attempts` counted attempts (counts_for_lost), each at a different time
    (distinct calling slots), and the follow-up's window open."""
    subj = app.load(Subject, fu.subject, "subject")
    sched = app.scheduler(fu.plugin, subj.tz).for_followup(fu.meta)
    now = clock.now()
    if now < fu.window_open:
        raise Refused(f"G5: {fu.code}'s window opens {clock.iso(fu.window_open, subj.tz)}: it cannot be closed "
                      f"as lost before then (attempts before the window do not count)")
    need = app.settings(fu.plugin).min_attempts
    counted = [a for a in fu.attempts if counts_for_lost(a)]
    slots = {sched.slot_of(a["at"]) or (sched.local_day(a["at"]), a["at"].astimezone(sched.tz).hour)
             for a in counted}
    left_out = len(fu.attempts) - len(counted)
    why = (f" ({left_out} more outside the calling windows or before the window opened do not count)"
           if left_out else "")
    if len(counted) < need:
        raise Refused(f"G5: {fu.code} has {len(counted)} attempt(s){why}; at least {need} at different "
                      f"times inside the calling windows are needed before it may be closed as lost")
    if len(slots) < need:
        raise Refused(f"G5: {fu.code}'s {len(counted)} attempts fall in {len(slots)} calling slot(s){why}; "
                      f"retry at another time ({need} different slots needed) before closing as lost")


def reassign(app: App, code: str, to: str, reason: str, actor: str = "cli") -> FollowUp:
    fu = app.load(FollowUp, code, "follow-up")
    app.access.registered(actor, "followup.reassign", f"follow-up {code}")  # G8: in setup mode too
    target = app.load(Staff, to, "staff", field="to")
    if to in fu.excluded_staff or target.role in fu.excluded_roles:
        raise app.access.deny(actor, "followup.reassign", f"follow-up {code}",
                              f"G9: {to} has an interest in {code} and cannot own it")
    why = conflict(app, fu, target)
    if why:
        raise app.access.deny(actor, "followup.reassign", f"follow-up {code}", f"{why}: {to} cannot own {code}")
    app.access.require(actor, "followup.reassign", fu=fu, target_staff=target)  # within the ladder
    fu.reassign(to_owner=to, reason=app.keyring.seal(fu.subject, reason or "reassigned"), actor=actor)  # G8: free text
    app.commit(fu)
    return fu
