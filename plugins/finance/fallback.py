"""F5 channel fallback and F9 recordings.

F5 (004 §4 art.11–14): a phone round ends after `phone_round_attempts` failed calls (G5: 3) or at once
on an invalid number (wrong/suspended). After the first round the business department re-determines
the number and the agent phones again (二次电话回访); after the second round the follow-up moves to a
home visit by someone other than the seller (G9 exclusions stay on it) or a letter with a reply-paid
questionnaire. Home visits + letters should stay ≤ 10% of follow-ups: a new fallback that would take
the share above it comes with a warning (the move itself is still made: 原则上不应超过).

F9/G11: the core refuses an unrecorded phone attempt unless the recording system is flagged as failed
with another line named; here that line must be named and, when `recorded_lines` is configured, be one
of the recorded lines: a failed recording system never means an unrecorded call.
"""
from __future__ import annotations

from typing import Any

from huifang.core.plugin_api import FollowUpInfo, History, Notify, Reaction, SwitchChannel, Warn, clock

from .settings import FinanceSettings

FAILED = ("no_answer", "busy", "wrong_number", "suspended", "powered_off")
INVALID_NUMBER = ("wrong_number", "suspended")


def phone_rounds(attempts: list[dict[str, Any]], per_round: int) -> int:
    """How many phone rounds have failed (see module doc)."""
    rounds = fails = 0
    for a in attempts:
        if a["channel"] != "phone" or a["outcome"] not in FAILED:
            continue
        fails += 1
        if a["outcome"] in INVALID_NUMBER or fails >= per_round:
            rounds, fails = rounds + 1, 0
    return rounds


def on_attempt(followup: FollowUpInfo, attempt: dict[str, Any], settings: FinanceSettings,
               history: History) -> list[Reaction]:
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
    target = (followup.meta or {}).get("fallback")
    if not target:
        return [Warn(message=f"F5: second phone round failed ({why}) and the subject opted out of home visits "
                             f"and letters: close as lost after G5 with the reason")]
    seller = (followup.meta or {}).get("seller")
    named = f" {seller}" if seller else ""
    how = (f"home visit by someone other than the seller{named} (G9)" if target == "home_visit"
           else "letter with a reply-paid questionnaire")
    out: list[Reaction] = [SwitchChannel(channel=target, reason=f"F5: second phone round on the re-determined number "
                                                      f"failed ({why}): {how}")]
    out += quota_warning(settings, history)
    return out


def quota_warning(settings: FinanceSettings, history: History) -> list[Reaction]:
    """F5: warn when one more home visit or letter takes the share above the limit (the share the
    `fallback` report shows, F8)."""
    from .figures import fallback_counts  # SQLAlchemy: only when a fallback happens

    now = clock.now()
    total, fallbacks = history.read(lambda conn: fallback_counts(conn, now))
    share = (fallbacks + 1) / max(total, 1)
    if share <= settings.max_fallback_share:
        return []
    return [Warn(message=f"F5: home visits + letters would be {fallbacks + 1} of {total} follow-ups "
                         f"({share:.1%}), above the {settings.max_fallback_share:.0%} limit")]


def check_attempt(followup: FollowUpInfo, attempt: dict[str, Any], settings: FinanceSettings) -> str | None:
    if attempt["channel"] != "phone":
        return None
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
