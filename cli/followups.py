"""Follow-up work: `huifang trigger`, `show`, `attempt`, `complete`, `close`, `reassign`, `tick`,
`history` and `greetings` (G3–G5, G8, G14, G21); `queue` is in queue.py (it has a fast path)."""
from __future__ import annotations

import json
from typing import Any

import click

from huifang.core import clock
from huifang.core.errors import HuifangError
from huifang.core.plugin_api.cli import json_option

from .importing import TriggerCommand
from .output import emit, table
from .params import load_answers, parse_pairs
from .state import State, run


@click.command(cls=TriggerCommand)  # also `trigger import FILE` (cli/importing.py)
@click.argument("kind")
@click.option("--subject", "subject_id", required=True)
@click.option("--id", "trigger_id", default=None, help="Trigger ID; re-sending it with the same data is a no-op (other data is refused: "
                   "correct it with `trigger amend ID`).")
@click.option("--at", "at_text", default=None, metavar="ISO", help="When the event happened (default --now).")
@click.option("--attr", multiple=True, metavar="K=V")
@json_option
@click.pass_context
def trigger(ctx: click.Context, kind: str, subject_id: str, trigger_id: str | None, at_text: str | None,
            attr: tuple[str, ...]) -> None:
    """Record a service event and plan its follow-ups."""
    from huifang.core.queries import followup_json

    def go(s: State) -> None:
        app = s.app()
        at = clock.parse_instant(at_text, "--at", app.config.huifang.timezone) if at_text else None
        if at is not None and at > s.now:
            raise HuifangError(f"--at: {at_text} is after --now; a service event cannot be in the future")
        t, fus, created = app.receive_trigger(kind, subject_id, parse_pairs(attr, "--attr"), trigger_id, at,
                                              actor=s.actor)
        data = {"trigger": t.code, "kind": t.kind, "created": created,
                "followups": [followup_json(app, f) for f in fus], "skipped": t.skipped}
        rows = [[f["id"], f["visit_type"], f["window_open"], f["due"] + (" (provisional)" if f["provisional"] else ""),
                 f["owner"] or "-", f["status"]] for f in data["followups"]]
        head = f"trigger {t.code} ({t.kind}) {'planned' if created else 'already received; nothing changed'}"
        skipped = "".join(f"\nnot followed up: {x['key']}: {x['reason']}" for x in t.skipped)
        # told at entry (A2 defaults assumed, G6/A4 windows already passed: catch-up calls)
        data["warnings"] = [f"{f['id']}: {w}" for f in data["followups"] for w in f["warnings"]] if created else []
        emit(s, data, head + "\n" + table(["follow-up", "visit type", "window opens", "due", "owner", "status"],
                                          rows) + skipped + "".join(f"\n! {w}" for w in data["warnings"]))
    run(ctx, go)


@click.command()
@click.argument("followup_id")
@click.option("--reason", default=None, help="Why you read this personal data (G8; default: the call sheet).")
@json_option
@click.pass_context
def show(ctx: click.Context, followup_id: str, reason: str | None) -> None:
    """The call sheet of one follow-up: who and why, earlier answers, the script (the read is recorded, G8)."""
    from huifang.core.domain import FollowUp
    from huifang.core.queries import followup_json
    from huifang.projections.callsheet import build_call_sheet, render_call_sheet

    def go(s: State) -> None:
        app = s.app()
        sheet = build_call_sheet(app, followup_id, actor=s.actor, reason=reason)
        data = {**followup_json(app, app.load(FollowUp, followup_id, "follow-up")), "sheet": sheet.model_dump()}
        if sheet.personal:
            app.read_side.catch_up()  # past the read just recorded: `queue --json` stays on the fast path
        emit(s, data, render_call_sheet(sheet))
    run(ctx, go)


# What the operator reads after `attempt`, `complete` and `close`: labels and short local times, in the
# chosen language (zh_CN first); `--json` keeps the codes and ISO instants.
WORDS = {
    "zh_CN": {"subject": "客户", "owner": "负责人", "channel": "渠道", "window": "回访窗口", "due": "截止",
              "provisional": "临时日程（当年官方节假日未导入）", "calendar": "日历假设", "clinical": "临床日 (G6 例外)",
              "attempt": "第{n}次", "next": "下次尝试", "answers": "回答", "survey": "问卷", "record": "记录项",
              "closed": "关闭", "tickets": "问题件", "before": "（不计入失联次数：回访窗口开启前）",
              "outside": "（不计入失联次数：不在呼叫时段内）"},
    "en": {"subject": "subject", "owner": "owner", "channel": "channel", "window": "window", "due": "due",
           "provisional": "PROVISIONAL (no official calendar yet)", "calendar": "calendar",
           "clinical": "clinical day (G6 exception)", "attempt": "attempt {n}:", "next": "next attempt from",
           "answers": "answers", "survey": "survey", "record": "record", "closed": "closed", "tickets": "tickets",
           "before": "  [before the window opened: not counted]",
           "outside": "  [outside the calling windows: not counted]"},
}


def _words() -> dict[str, str]:
    from huifang.core.labels import current_lang

    return WORDS["en"] if current_lang().startswith("en") else WORDS["zh_CN"]


def _uncounted(a: dict[str, Any]) -> str:
    """G5/G6: why an attempt does not count toward the attempts needed before lost."""
    from huifang.core.usecases.followups import counts_for_lost

    if counts_for_lost(a):
        return ""
    return _words()["before"] if a.get("before_window") else _words()["outside"]


def _short(value: Any) -> str:
    """`10-08 15:10` in the instant's own offset (the follow-up's time zone); '-' when unset."""
    from huifang.core.humantime import parse

    at = parse(value) if isinstance(value, str) else value
    return at.strftime("%m-%d %H:%M") if at is not None else "-"


def render_followup(d: dict[str, Any]) -> str:
    from huifang.core.labels import label
    from huifang.projections.callsheet import choice_label

    w, plugin = _words(), d["plugin"]
    lines = [f"{d['id']}  {label('visit_type', d['visit_type'], plugin=plugin)}  [{label('status', d['status'])}]",
             f"{w['subject']} {d['subject']}  {w['owner']} {d['owner'] or '-'}  "
             f"{w['channel']} {label('channel', d['channel'])}",
             f"{w['window']} {_short(d['window_open'])} .. {w['due']} {_short(d['due'])}"
             + (f"  {w['provisional']}" if d["provisional"] else "")]
    if d.get("calendar_assumption"):  # G6: what the provisional deadline rests on
        lines.append(f"  {w['calendar']}: {d['calendar_assumption']['text']}")
    if d.get("clinical_exception"):
        lines.append(f"  {w['clinical']}: {d['clinical_exception']}")
    lines += [f"! {x}" for x in d.get("warnings") or []]
    for a in d["attempts"]:
        lines.append(f"  {w['attempt'].format(n=a['n'])} {_short(a['at'])} {label('channel', a['channel'])} "
                     f"{label('outcome', a['outcome'])}" + (f" — {a['note']}" if a.get("note") else "")
                     + _uncounted(a))
    if d["next_attempt_at"]:
        lines.append(f"{w['next']} {_short(d['next_attempt_at'])}")
    if d["answers"]:
        lines.append(f"{w['answers']}: " + ", ".join(f"{k}={v}" for k, v in d["answers"].items()))
    elif d["survey"]:
        lines.append(f"{w['survey']}:")
        lines += [f"  {q['key']}: {q['text']}"
                  + (f" [{' | '.join(choice_label(q['key'], c, plugin) for c in q['choices'])}]" if q["choices"] else "")
                  for q in d["survey"]]
    if not d["answers"] and d.get("record_fields"):  # G4: recorded by the agent, not asked
        lines.append(f"{w['record']}: " + ", ".join(f"{q['key']} ({q['text']})" for q in d["record_fields"]))
    for g in d.get("guides") or []:  # M6 recovery-score template, scripts of merged steps
        lines.append(f"{g['title']}:")
        lines += [f"  - {x}" for x in g["lines"]]
    if d["closed_reason"]:
        lines.append(f"{w['closed']}: {d['closed_reason']}" + (f" — {d['closed_note']}" if d.get("closed_note") else ""))
    if d["tickets"]:
        lines.append(f"{w['tickets']}: " + ", ".join(d["tickets"]))
    return "\n".join(lines)


@click.command()
@click.argument("followup_id")
@click.option("--channel", required=True)
@click.option("--outcome", default=None,
              help="reached|no_answer|busy|wrong_number|suspended|powered_off|call_later, refused (拒绝回访: "
                   "the follow-up itself) or refused_channel (拒绝此渠道: only this channel, G7), or the Chinese "
                   "label (on a terminal, asked from a numbered list when left out)")
@click.option("--recording", default=None, metavar="FILE")
@click.option("--recording-failed-line", default=None, metavar="LINE",
              help="Recording system failed: the other recorded line used (F9).")
@click.option("--language", default=None, metavar="LANG",
              help="The call's language (F9): mandarin (普通话) or dialect (本地话, at the client's request).")
@click.option("--note", default=None)
@json_option
@click.pass_context
def attempt(ctx: click.Context, followup_id: str, channel: str, outcome: str | None, recording: str | None,
            recording_failed_line: str | None, language: str | None, note: str | None) -> None:
    """Record one contact attempt (G4, G5)."""
    from huifang.core.queries import followup_json

    from . import prompts

    if outcome is None and not prompts.on_terminal():  # scripts: as when --outcome was required
        raise click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == "outcome"))

    def go(s: State) -> None:
        app = s.app()
        chosen = outcome if outcome is not None else prompts.outcome(s)
        with prompts.saving(s, prompted=outcome is None):
            fu, messages = app.record_attempt(followup_id, channel, chosen, note, recording, actor=s.actor,
                                              recording_failed_line=recording_failed_line, language=language)
        data = {**followup_json(app, fu), "messages": messages}
        emit(s, data, render_followup(data) + "".join(f"\n! {m}" for m in messages))
    run(ctx, go)


@click.command()
@click.argument("followup_id")
@click.option("--answer", multiple=True, metavar="KEY=VALUE")
@click.option("--answers", "answers_file", default=None, metavar="FILE.json")
@click.option("--reason-code", default=None, metavar="CODE",
              help="With satisfaction=不满意: why (G16), e.g. attitude|waiting|result|fees|other or its label.")
@click.option("--reason", default=None, metavar="TEXT", help="With satisfaction=不满意: the subject's words.")
@json_option
@click.pass_context
def complete(ctx: click.Context, followup_id: str, answer: tuple[str, ...], answers_file: str | None,
             reason_code: str | None, reason: str | None) -> None:
    """Complete a follow-up with the survey answers."""
    from huifang.core.contract import DISSATISFACTION_CODE, DISSATISFACTION_REASON
    from huifang.core.queries import followup_json

    from . import prompts

    def go(s: State) -> None:
        answers = parse_pairs(answer, "--answer")
        if answers_file:
            answers = {**load_answers(answers_file), **answers}
        given = {k: v for k, v in ((DISSATISFACTION_CODE, reason_code), (DISSATISFACTION_REASON, reason)) if v}
        answers = {**answers, **given}  # G16: the reason for 不满意 travels with the answers
        asked = not answers and not answers_file and prompts.on_terminal()  # an operator: ask the survey
        if asked:
            answers = prompts.survey_answers(s, followup_id)
        app = s.app()
        with prompts.saving(s, prompted=asked):
            fu, messages = app.complete(followup_id, answers, actor=s.actor)
        data = {**followup_json(app, fu), "messages": messages}
        emit(s, data, render_followup(data) + "".join(f"\n! {m}" for m in messages))
    run(ctx, go)


@click.command()
@click.argument("followup_id")
@click.option("--lost", "lost", default=None, metavar="REASON",
              help="Close as lost (G14): no_answer|wrong_number|suspended|powered_off|refused|deceased|moved|other "
                   "or its Chinese label; needs 3 attempts in the calling windows, G5.")
@click.option("--note", default=None, help="With --lost: the details (required for 'other').")
@click.option("--cancel", "cancel", default=None, metavar="REASON")
@click.option("--exempt", is_flag=True, help="Close as exempt (signed statement, F6).")
@click.option("--statement", default=None, help="With --exempt: the signed statement.")
@json_option
@click.pass_context
def close(ctx: click.Context, followup_id: str, lost: str | None, note: str | None, cancel: str | None,
          exempt: bool, statement: str | None) -> None:
    """Close a follow-up as lost, cancelled or exempt."""
    from huifang.core.queries import followup_json

    def go(s: State) -> None:
        chosen = [x for x in (lost is not None, cancel is not None, exempt) if x]
        if len(chosen) != 1:
            raise HuifangError("close: give exactly one of --lost REASON, --cancel REASON, --exempt")
        if lost is not None:
            status, reason = "lost", lost
        elif cancel is not None:
            status, reason = "cancelled", cancel
        else:
            status, reason = "exempt", statement or ""
        app = s.app()
        fu = app.close_followup(followup_id, status, reason, actor=s.actor, note=note)
        data = followup_json(app, fu)
        emit(s, data, render_followup(data))
    run(ctx, go)


@click.command()
@click.argument("followup_id")
@click.option("--to", "to", required=True, metavar="STAFF_ID")
@click.option("--reason", default="reassigned")
@json_option
@click.pass_context
def reassign(ctx: click.Context, followup_id: str, to: str, reason: str) -> None:
    """Give a follow-up to another owner."""
    from huifang.core.queries import followup_json

    def go(s: State) -> None:
        app = s.app()
        fu = app.reassign(followup_id, to, reason, actor=s.actor)  # an unregistered actor: refused, recorded
        emit(s, followup_json(app, fu), f"{followup_id} now owned by {to}")
    run(ctx, go)


@click.command()
@json_option
@click.pass_context
def tick(ctx: click.Context) -> None:
    """Advance to --now: open windows, reminders (G3), overdue and escalation, locks (A4)."""
    from huifang.core.timers import tick as do_tick

    def go(s: State) -> None:
        result = do_tick(s.app(), actor="system")
        text = (f"tick at {result['now']}: opened {result['opened']}, reminded {result['reminded']}, "
                f"overdue {result['overdue']}, escalated {result['escalated']}, locked {result['locked']}")
        if result["tickets_escalated"]:  # G12
            text += f", overdue tickets escalated {result['tickets_escalated']}"
        if result.get("invites_expired"):  # unanswered survey links: the follow-up's next channel (G7)
            text += f", survey links expired {result['invites_expired']}"
        text += "".join(f"\nsurvey link {r['invite']} of {r['followup']} expired: next by {r['next_channel'] or '-'}"
                        for r in result.get("invites", [])[:50])
        if result.get("delivered"):  # G3/G12/G13/G21 messages sent through the adapters
            text += f", messages delivered {result['delivered']} (huifang delivery list)"
        text += "".join(f"\nreminder: {r['followup']} to {r['to'] or '-'} (due {r['due']})"
                        for r in result["reminders"][:50])
        text += "".join(f"\nsample floor {r['rule']} {r['period']}: {', '.join(r['followups'])} planned "
                        f"({r['required']} of {r['population']} required)" for r in result.get("top_ups", [])[:50])
        emit(s, result, text)
    run(ctx, go)


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--as-of", "as_of", default=None, metavar="ISO", help="State at that instant.")
@click.option("--reason", default=None, help="Why you read this personal data (G8; required once roles are on).")
@json_option
@click.pass_context
def history(ctx: click.Context, ident: str, as_of: str | None, reason: str | None) -> None:
    """Every event of a subject, follow-up, ticket, trigger or staff member, with actor and time
    (reading a subject's records is itself recorded, G8)."""
    from huifang.core import queries
    from huifang.core.audit.reads import record_read

    def go(s: State) -> None:
        when = clock.parse_instant(as_of, "--as-of") if as_of else None
        app = s.app()
        target, subj = queries.subject_of(app, ident)
        if subj:
            record_read(app, s.actor, subj, "history", target, reason)
        data = queries.history(app, ident, when)
        rows = [[e["at"], e["aggregate"], e["event"], e["actor"] or "-",
                 json.dumps(e["data"], ensure_ascii=False)[:80]] for e in data["events"]]
        emit(s, data, table(["at", "record", "event", "actor", "data"], rows))
    run(ctx, go)


@click.command()
@click.option("--occasion", required=True, help="birthday|holiday")
@click.option("--name", default="", help="The holiday (e.g. 春节) for --occasion holiday.")
@click.option("--channel", default="sms", show_default=True, help="sms|wechat|email|app")
@json_option
@click.pass_context
def greetings(ctx: click.Context, occasion: str, name: str, channel: str) -> None:
    """Record today's birthday or holiday greetings as one batch for the messaging channel (G21)."""
    from huifang.core.greetings import send

    def go(s: State) -> None:
        from huifang.core.delivery import deliver_batch, outcome_lines

        app = s.app()
        b = send(app, occasion, name, channel, actor=s.actor)
        sent = deliver_batch(app, b, actor=s.actor)  # through each channel's adapter; a repeat sends nothing
        data = {"batch": b.code, "day": b.day, "recipients": b.recipients, "skipped": b.skipped, "deliveries": sent}
        emit(s, data, f"{b.code}: {len(b.recipients)} greeting(s), {len(b.skipped)} left out"
             + "".join(f"\n  {line}" for line in outcome_lines(sent))
             + "".join(f"\n  left out {x['subject']}: {x['reason']}" for x in b.skipped))
    run(ctx, go)
