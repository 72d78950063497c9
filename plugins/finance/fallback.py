"""F5 channel fallback and lost only at its end, the letter's states, F9 recordings and language.

F5 (004 §4 art.11–14): a phone round ends after `phone_round_attempts` failed calls (G5: 3) or at once
on an invalid number (wrong/suspended); attempts outside the calling windows or before the window
opened do not count (G5/G6). After the first round the business department re-determines the number
and the agent phones again (二次电话回访); after the second round the follow-up moves to a home visit by
someone other than the seller (G9 exclusions stay on it) or a letter with a reply-paid questionnaire.
Home visits + letters should stay ≤ 10% of follow-ups (原则上不应超过): when one more would take the
share above it, the quota is spent: the move is still made, with a warning, and the decision is
recorded on the follow-up (a notification to the callback department): the ladder may end there.

A letter has states of its own, recorded as attempts on the letter channel: `sent` (寄出: awaiting the
reply, and the follow-up's deadline becomes the reply deadline, `letter_reply_workdays` later),
`returned` (退信: undeliverable), and the reply itself (`reached`, or `refused`), which comes by post: not
before the letter was sent, nor on the day it was sent.

Lost (G14) for the 100% callbacks (`full_ladder_visit_types`, default the new policy, 004 §4 art.7):
refused until the whole ladder was tried: two failed phone rounds, then the letter returned or its
reply deadline passed, or the home visit failed; or no fallback was possible (the subject opted out
of both, G7, or the quota is spent, judged again at the close). A refusal or a death on record needs
no ladder.

F9/G11: the core refuses an unrecorded phone attempt unless the recording system is flagged as failed
with another line named; here that line must be named and, when `recorded_lines` is configured, be one
of the recorded lines: a failed recording system never means an unrecorded call. A phone conversation
records its language (004 art.12: 普通话, 本地话 only when the client asks for it — say so in the note).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from huifang.core.plugin_api import (
    FollowUpInfo,
    History,
    Notify,
    PluginError,
    Reaction,
    Reschedule,
    Scheduler,
    SwitchChannel,
    Warn,
    clock,
)

from .settings import FinanceSettings

FAILED = ("no_answer", "busy", "wrong_number", "suspended", "powered_off")
INVALID_NUMBER = ("wrong_number", "suspended")
FALLBACK_CHANNELS = ("home_visit", "letter")
CONVERSATION = ("reached", "refused", "refused_channel", "call_later")  # F9: someone answered the phone
LETTER_OUTCOMES = ("sent", "returned", "reached", "refused")
NO_LADDER = ("refused", "deceased")  # G14 reasons that need no fallback (H1's check: the refusal is on record)
SIGNED_CONFIRMATION = "signed_confirmation"


def instant(value: Any) -> datetime:
    """An attempt's time as plugins see it (ISO text) or as the fakes give it (a datetime)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def counts(a: dict[str, Any]) -> bool:
    """G5/G6: only attempts inside a calling window, once the window opened, count."""
    return not (a.get("outside_window") or a.get("before_window"))


def phone_rounds(attempts: list[dict[str, Any]], per_round: int) -> int:
    """How many phone rounds have failed (see module doc)."""
    rounds = fails = 0
    for a in attempts:
        if a["channel"] != "phone" or a["outcome"] not in FAILED or not counts(a):
            continue
        fails += 1
        if a["outcome"] in INVALID_NUMBER or fails >= per_round:
            rounds, fails = rounds + 1, 0
    return rounds


def letter_state(attempts: list[dict[str, Any]]) -> tuple[str | None, datetime | None]:
    """F5: the latest letter's state and since when: None (none sent yet), `awaiting_reply`, `returned`
    or `replied`."""
    state: str | None = None
    since: datetime | None = None
    for a in attempts:
        if a["channel"] != "letter":
            continue
        if a["outcome"] == "sent":
            state, since = "awaiting_reply", instant(a["at"])
        elif a["outcome"] == "returned":
            state, since = "returned", instant(a["at"])
        elif a["outcome"] in ("reached", "refused"):
            state, since = "replied", instant(a["at"])
    return state, since


# -- attempts ------------------------------------------------------------------------------------------
def check_attempt(followup: FollowUpInfo, attempt: dict[str, Any], settings: FinanceSettings) -> str | None:
    channel, outcome = attempt["channel"], attempt["outcome"]
    if outcome in ("sent", "returned") and channel != "letter":
        return f"F5: --outcome {outcome} is a letter's state: record it with --channel letter"
    if channel == "letter":
        return check_letter(followup, outcome)
    if channel != "phone":
        return None
    return check_recording(attempt, settings) or check_language(attempt, settings)


def check_recording(attempt: dict[str, Any], settings: FinanceSettings) -> str | None:
    rec = attempt.get("recording") or {}
    if not rec.get("failed_system"):
        return None
    line = str(rec.get("line") or "").strip()
    if not line:
        return "F9: --recording-failed-line must name the other recorded line the call was made on"
    if settings.recorded_lines and line not in settings.recorded_lines:
        return (f"F9: --recording-failed-line: '{line}' is not a recorded line "
                f"({', '.join(settings.recorded_lines)}); a failed recording system never means an unrecorded call")
    return None


def check_language(attempt: dict[str, Any], settings: FinanceSettings) -> str | None:
    """F9 (004 art.12): a conversation on the phone is in 普通话, or in 本地话 at the client's request."""
    if not settings.require_language or attempt["outcome"] not in CONVERSATION:
        return None
    language = attempt.get("language")
    if not language:
        return ("F9: --language: say which language the call was held in: mandarin (普通话), or dialect "
                "(本地话) when the client asked for it")
    if language == "dialect" and not str(attempt.get("note") or "").strip():
        return ("F9: --note: a call in 本地话 (dialect) only at the client's own request: note the request "
                "(004 art.12: 回访必须用普通话, 除非客户主动要求)")
    return None


def check_letter(followup: FollowUpInfo, outcome: str) -> str | None:
    """F5: a letter is sent, then returned or answered by post (module doc)."""
    if outcome not in LETTER_OUTCOMES:
        return (f"F5: a letter is recorded as sent, returned, or its reply (reached, or refused); "
                f"not {outcome}: a letter without a reply by its deadline may be closed as lost")
    state, since = letter_state(followup.attempts)
    now = clock.now()
    if outcome == "sent":
        if state == "awaiting_reply" and since is not None:
            return (f"F5: a letter to {followup.subject} was sent {since.date().isoformat()} and awaits its reply "
                    f"until {followup.due.date().isoformat()}")
        return None
    if state != "awaiting_reply" or since is None:
        what = "the letter came back undelivered" if state == "returned" else "no letter has been sent yet"
        return (f"F5: {what}: record --outcome sent when the letter goes out (then its reply or its return)")
    zone = clock.zone(None)  # the deployment's day: a letter and its reply are dated by the post office
    if outcome in ("reached", "refused") and now.astimezone(zone).date() <= since.astimezone(zone).date():
        return (f"F5: the letter was sent {since.isoformat()}: a reply-paid letter comes back by post, "
                f"not the day it was sent")
    return None


def on_attempt(followup: FollowUpInfo, attempt: dict[str, Any], settings: FinanceSettings,
               scheduler: Scheduler, history: History) -> list[Reaction]:
    if attempt["channel"] == "letter":
        return on_letter(followup, attempt, settings, scheduler)
    if attempt["channel"] != "phone" or attempt["outcome"] not in FAILED or followup.channel != "phone":
        return []
    per = settings.phone_round_attempts
    rounds = phone_rounds(followup.attempts, per)
    if rounds == phone_rounds(followup.attempts[:-1], per):
        return []  # this attempt did not end a round
    why = "invalid number" if attempt["outcome"] in INVALID_NUMBER else f"{per} failed calls"
    if rounds == 1:
        msg = (f"F5: phone round 1 failed ({why}): {settings.number_check_department} re-determines "
               f"{followup.subject}'s number, then phone again (second round)")
        return [Notify(to=settings.number_check_department, message=msg), Warn(message=msg)]
    if rounds > 2:
        return []
    target = (followup.meta or {}).get("fallback")
    if not target:
        return [Warn(message=f"F5: second phone round failed ({why}) and the subject opted out of home visits "
                             f"and letters: close as lost after G5 with the reason")]
    seller = (followup.meta or {}).get("seller")
    named = f" {seller}" if seller else ""
    how = (f"home visit by someone other than the seller{named} (G9)" if target == "home_visit"
           else "letter with a reply-paid questionnaire: record --outcome sent when it goes out")
    out: list[Reaction] = [SwitchChannel(channel=target, reason=f"F5: second phone round on the re-determined "
                                                                f"number failed ({why}): {how}")]
    spent = quota_spent(settings, history, counted=False)
    if spent:
        msg = f"F5: {spent}: the ladder may end here (close as lost with the reason after G5)"
        out += [Notify(to=settings.callback_department, message=msg), Warn(message=msg)]
    return out


def on_letter(followup: FollowUpInfo, attempt: dict[str, Any], settings: FinanceSettings,
              scheduler: Scheduler) -> list[Reaction]:
    """F5: a sent letter's reply deadline becomes the follow-up's; a returned one ends the ladder."""
    if attempt["outcome"] == "sent":
        now = clock.now()
        reply_by = scheduler.end_of(scheduler.workday_after(now, settings.letter_reply_workdays))
        due = max(reply_by, followup.due)
        out: list[Reaction] = [Warn(message=f"F5: letter sent: awaiting the reply until "
                                            f"{reply_by.date().isoformat()}")]
        if due != followup.due:
            out.append(Reschedule(due=due, reason=f"F5: letter sent {now.date().isoformat()}: awaiting the reply "
                                                  f"({settings.letter_reply_workdays} working days)"))
        return out
    if attempt["outcome"] == "returned":
        return [Warn(message="F5: the letter came back undelivered: the fallback ladder is done; close as lost "
                             "(e.g. moved) after G5, or send it again to a corrected address")]
    return []


def quota_spent(settings: FinanceSettings, history: History, counted: bool) -> str | None:
    """F5: why this follow-up's home visit or letter takes the share above the limit (the share the
    `fallback` report shows, F8), else None; `counted`: its fallback is already in the view."""
    from .figures import fallback_counts  # SQLAlchemy: only when a fallback happens

    total, fallbacks = history.read(lambda conn: fallback_counts(conn, clock.now()))
    n = fallbacks if counted else fallbacks + 1
    share = n / max(total, 1)
    if share <= settings.max_fallback_share:
        return None
    return (f"the home-visit/letter share is spent: home visits + letters would be {n} of {total} follow-ups "
            f"({share:.1%}), above the {settings.max_fallback_share:.0%} limit")


# -- lost ----------------------------------------------------------------------------------------------
def check_lost(followup: FollowUpInfo, reason: str, settings: FinanceSettings, history: History) -> str | None:
    """F5: a 100% callback is lost only at the end of the ladder (module doc)."""
    if followup.visit_type not in settings.full_ladder_visit_types or reason in NO_LADDER:
        return None
    head = f"F5: {followup.id} is a 100% callback ({followup.visit_type}): lost only after the whole fallback ladder"
    rounds = phone_rounds(followup.attempts, settings.phone_round_attempts)
    if rounds < 2:
        step = ("phone round 1" if rounds == 0 else
                f"the second phone round on the number {settings.number_check_department} re-determined")
        return f"{head}; {rounds} of 2 phone rounds failed: next, {step}"
    home = [a for a in followup.attempts if a["channel"] == "home_visit" and a["outcome"] != "reached"]
    state, _ = letter_state(followup.attempts)
    if home or state == "returned":
        return None
    if state == "awaiting_reply":
        if clock.now() > followup.due:
            return None
        return f"{head}; the letter awaits its reply until {followup.due.isoformat()}"
    target = (followup.meta or {}).get("fallback")
    if not target or quota_spent(settings, history, counted=followup.channel in FALLBACK_CHANNELS):
        return None  # G7: opted out of both; or the quota is spent (recorded when round 2 ended)
    how = "a home visit (by a non-seller, G9)" if target == "home_visit" else \
        "a letter (attempt --channel letter --outcome sent, then its reply, its return or its deadline)"
    return f"{head}; next, {how}"


# -- completion ----------------------------------------------------------------------------------------
def check_home_visit(followup: FollowUpInfo, answers: dict[str, Any]) -> None:
    """F5 (004 §4 art.13: 交客户确认并签章): a follow-up done by a home visit is completed with the
    reference of the record the client confirmed and signed."""
    reached = [a for a in followup.attempts if a["outcome"] == "reached"]
    if reached and reached[-1]["channel"] == "home_visit" and not str(answers.get(SIGNED_CONFIRMATION) or "").strip():
        raise PluginError("F5: a home visit is completed with the reference of the record the client confirmed "
                          "and signed (004 §4 art.13: 交客户确认并签章)", field=f"answers.{SIGNED_CONFIRMATION}")
