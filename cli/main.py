"""The `huifang` command line (click).

Global options come before the command: --db, --now, --as, --config. Every command takes
--json and then prints only JSON on stdout. Errors are one line on stderr with exit code 2
and nothing written; an unexpected failure is one line with exit code 1 (HUIFANG_DEBUG=1
shows the traceback).
"""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import Any

import click

from huifang.core import clock
from huifang.core.errors import HuifangError

from .importing import TriggerCommand, import_group, subject_import  # issue 9: bulk import
from .output import emit, table

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class State:
    def __init__(self, db: str | None, now: datetime, actor: str, config_path: str | None, as_json: bool):
        self.db = db
        self.now = now
        self.actor = actor
        self.config_path = config_path
        self.json = as_json
        self._app: Any = None

    def app(self, must_exist: bool = True) -> Any:
        if self._app is None:
            from huifang.core.application import HuifangApp
            from huifang.core.config import load_config
            from huifang.core.store import Store

            config = load_config(self.config_path)
            store = Store.parse(self.db)
            if must_exist and not store.exists():
                raise HuifangError(f"--db: store '{store.url}' does not exist: run 'huifang --db {store.url} init' "
                                   f"first (or 'huifang demo')")
            self._app = HuifangApp(self.db, config)
        return self._app


def json_option(f: Any) -> Any:
    def callback(ctx: click.Context, _param: Any, value: bool) -> bool:
        if value:
            ctx.find_object(State).json = True
        return value

    return click.option("--json", "as_json", is_flag=True, expose_value=False, callback=callback,
                        help="Print only JSON on stdout.")(f)


def run(ctx: click.Context, fn: Any) -> Any:
    """Run a command at the logical now."""
    state: State = ctx.find_object(State)
    with clock.at(state.now):
        try:
            return fn(state)
        finally:
            _release(state)


def _release(state: State) -> None:
    """Give the store's connections back when the command ends (in-process callers, e.g. tests, run
    many commands: leaked pools would exhaust PostgreSQL's max_connections)."""
    app, state._app = state._app, None
    if app is None:
        return
    try:
        if getattr(app, "_projector", None) is not None:
            app._projector.engine.dispose()
        app.close()
    except Exception:
        pass


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="huifang", prog_name="huifang")
@click.option("--db", envvar="HUIFANG_DB", default=None, metavar="PATH|URL",
              help="SQLite file (default ./huifang.db) or postgresql://user:pw@host/db[?schema=S]. Env HUIFANG_DB.")
@click.option("--now", "now_text", envvar="HUIFANG_NOW", default=None, metavar="ISO-8601",
              help="The instant the command runs at (env HUIFANG_NOW; default: the wall clock).")
@click.option("--as", "actor", envvar="HUIFANG_ACTOR", default="cli", metavar="STAFF_ID",
              help="Who is acting (env HUIFANG_ACTOR).")
@click.option("--config", "config_path", envvar="HUIFANG_CONFIG", default=None, metavar="FILE",
              help="huifang.toml (default ./huifang.toml if present).")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.pass_context
def cli(ctx: click.Context, db: str | None, now_text: str | None, actor: str, config_path: str | None,
        as_json: bool) -> None:
    """huifang (回访): plan, run and audit follow-up contacts."""
    if now_text:
        now = clock.parse_instant(now_text, "--now")
    else:
        now = datetime.now().astimezone()  # the CLI edge is the one place the wall clock is read
    ctx.obj = State(db, now, actor, config_path, as_json)


# -- setup ----------------------------------------------------------------------------------------
@cli.command()
@json_option
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the store (SQLite file or PostgreSQL tables) and the views."""
    def go(s: State) -> None:
        from huifang.core.audit import ensure_keys

        app = s.app(must_exist=False)
        app.projector.ensure()
        ensure_keys(app)  # issue 8: seal key and master key (made here, with a warning, on a fresh store)
        emit(s, {"store": app.store.url, "kind": app.store.kind, "plugins": list(app.registry.plugins)},
             f"store ready: {app.store.url} ({app.store.kind}); plugins: {', '.join(app.registry.plugins)}")
    run(ctx, go)


@cli.command()
@json_option
@click.pass_context
def plugins(ctx: click.Context) -> None:
    """Enabled plugins, their trigger kinds and visit types."""
    def go(s: State) -> None:
        from huifang.core.config import load_config
        from huifang.core.registry import Registry

        config = load_config(s.config_path)
        registry = Registry(config.huifang.plugins, config.plugins)  # reads no store, writes nothing
        data = []
        for name in registry.plugins:
            kinds = [k for k in registry.kinds.values() if k.plugin == name]
            vts = [vt for (p, _), vt in registry.visit_types.items() if p == name]
            data.append({
                "plugin": name,
                "trigger_kinds": [{"kind": k.qualified, "attributes": list(k.spec.attributes.model_fields),
                                   "rules": k.spec.rules, "description": k.spec.description} for k in kinds],
                "visit_types": [{"name": v.name, "rules": v.rules,
                                 "survey": v.survey.public() if v.survey else []} for v in vts],
            })
        rows = [[d["plugin"], k["kind"], ", ".join(k["attributes"]), " ".join(k["rules"])]
                for d in data for k in d["trigger_kinds"]]
        emit(s, data, table(["plugin", "trigger kind", "attributes", "rules"], rows))
    run(ctx, go)


# -- staff ----------------------------------------------------------------------------------------
@cli.group()
def staff() -> None:
    """Staff: owners, supervisors and the reporting ladder."""


@staff.command("add")
@click.argument("staff_id")
@click.option("--name", required=True)
@click.option("--role", required=True, help="agent|supervisor|manager|auditor|admin|sales")
@click.option("--dept", default=None)
@click.option("--reports-to", default=None, metavar="STAFF_ID")
@json_option
@click.pass_context
def staff_add(ctx: click.Context, staff_id: str, name: str, role: str, dept: str | None,
              reports_to: str | None) -> None:
    """Register a staff member."""
    from huifang.core.queries import staff_json

    def go(s: State) -> None:
        app = s.app()
        app.add_staff(staff_id, name, role, dept, reports_to, actor=s.actor)
        emit(s, staff_json(app, staff_id), f"staff {staff_id} added ({role})")
    run(ctx, go)


@staff.command("show")
@click.argument("staff_id")
@json_option
@click.pass_context
def staff_show(ctx: click.Context, staff_id: str) -> None:
    """A staff member, their ladder and any lock (A4)."""
    from huifang.core.queries import staff_json

    def go(s: State) -> None:
        data = staff_json(s.app(), staff_id)
        lock = data["lock"]
        text = (f"{data['id']} {data['name']} ({data['role']}, {data['dept'] or '-'}), reports to "
                f"{data['reports_to'] or '-'}\n" +
                (f"LOCKED level {lock['level']} ({lock['days_overdue']} days overdue: "
                 f"{', '.join(lock['followups'])}); {data['unlock']}" if lock else "not locked"))
        emit(s, data, text)
    run(ctx, go)


@cli.command()
@click.argument("staff_id")
@click.option("--report", default=None, metavar="FILE", help="Approved rectification report (hard lock).")
@json_option
@click.pass_context
def unlock(ctx: click.Context, staff_id: str, report: str | None) -> None:
    """Unlock an agent locked for overdue follow-ups (A4); run --as their supervisor."""
    from huifang.core.queries import staff_json

    def go(s: State) -> None:
        app = s.app()
        app.actor_staff(s.actor)
        app.unlock(staff_id, report, actor=s.actor)
        emit(s, staff_json(app, staff_id), f"{staff_id} unlocked by {s.actor}")
    run(ctx, go)


# -- subjects -------------------------------------------------------------------------------------
@cli.group()
def subject() -> None:
    """Subjects (客户/患者): the people followed up."""


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise HuifangError(f"{option}: '{item}' is not KEY=VALUE")
        v: Any = value
        if value[:1] in ("[", "{"):
            try:
                v = json.loads(value)
            except json.JSONDecodeError:
                raise HuifangError(f"{option} {key}: '{value}' is not valid JSON") from None
        out[key.strip()] = v
    return out


@subject.command("add")
@click.argument("subject_id")
@click.option("--name", required=True)
@click.option("--phone", multiple=True)
@click.option("--email", default=None)
@click.option("--tz", default=None, help="IANA time zone (default Asia/Shanghai).")
@click.option("--attr", multiple=True, metavar="K=V")
@json_option
@click.pass_context
def subject_add(ctx: click.Context, subject_id: str, name: str, phone: tuple[str, ...], email: str | None,
                tz: str | None, attr: tuple[str, ...]) -> None:
    """Register a subject (G1)."""
    from huifang.core.queries import subject_json

    def go(s: State) -> None:
        app = s.app()
        app.add_subject(subject_id, name, list(phone), email, tz, parse_pairs(attr, "--attr"), actor=s.actor)
        emit(s, subject_json(app, subject_id), f"subject {subject_id} added")
    run(ctx, go)


@subject.command("show")
@click.argument("subject_id")
@click.option("--reason", default=None, help="Why you read this personal data (G8; required once roles are on).")
@json_option
@click.pass_context
def subject_show(ctx: click.Context, subject_id: str, reason: str | None) -> None:
    """A subject's file (the read is recorded, G8)."""
    from huifang.core.audit.reads import record_read
    from huifang.core.domain import Subject
    from huifang.core.queries import subject_json

    def go(s: State) -> None:
        app = s.app()
        app.load(Subject, subject_id, "subject")
        record_read(app, s.actor, subject_id, "subject", f"subject:{subject_id}", reason)
        data = subject_json(app, subject_id)
        emit(s, data, "\n".join(f"{k}: {v}" for k, v in data.items()))
    run(ctx, go)


@subject.command("optout")
@click.argument("subject_id")
@click.option("--channel", required=True)
@json_option
@click.pass_context
def subject_optout(ctx: click.Context, subject_id: str, channel: str) -> None:
    """Opt a subject out of a channel (G7)."""
    from huifang.core.queries import subject_json

    def go(s: State) -> None:
        app = s.app()
        app.opt_out(subject_id, channel, actor=s.actor)
        emit(s, subject_json(app, subject_id), f"{subject_id} opted out of {channel}")
    run(ctx, go)


@subject.command("exempt")
@click.argument("subject_id")
@click.option("--statement", required=True, help="The signed no-follow-up statement (F6), e.g. its number.")
@json_option
@click.pass_context
def subject_exempt(ctx: click.Context, subject_id: str, statement: str) -> None:
    """Record a signed statement declining all follow-up (F6/G7)."""
    from huifang.core.queries import subject_json

    def go(s: State) -> None:
        app = s.app()
        app.sign_exemption(subject_id, statement, actor=s.actor)
        emit(s, subject_json(app, subject_id), f"{subject_id}: exemption recorded; open follow-ups closed as exempt")
    run(ctx, go)


# -- triggers and follow-ups ----------------------------------------------------------------------------
@cli.command(cls=TriggerCommand)  # also `trigger import FILE` (cli/importing.py)
@click.argument("kind")
@click.option("--subject", "subject_id", required=True)
@click.option("--id", "trigger_id", default=None, help="Trigger ID; re-sending it is a no-op.")
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
        emit(s, data, head + "\n" + table(["follow-up", "visit type", "window opens", "due", "owner", "status"],
                                          rows) + skipped)
    run(ctx, go)


@cli.command()
@click.option("--agent", default=None, metavar="STAFF_ID")
@click.option("--on", "on_text", default=None, metavar="DATE", help="Day (default: today at --now).")
@click.option("--overdue", is_flag=True)
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="At most this many rows, soonest deadline first (0 = all).")
@json_option
@click.pass_context
def queue(ctx: click.Context, agent: str | None, on_text: str | None, overdue: bool, limit: int) -> None:
    """Today's follow-ups (open windows), soonest deadline first."""
    from huifang.core import queries

    def go(s: State) -> None:
        on = clock.parse_day(on_text) if on_text else None
        rows = queries.queue(s.app(), agent, on, overdue, limit=limit)
        emit(s, rows, table(["follow-up", "subject", "visit type", "status", "due", "owner", "tries", "next try"],
                            [[r["id"], r["subject"], r["visit_type"], r["status"],
                              r["due"] + (" (provisional)" if r["provisional"] else ""), r["owner"] or "-",
                              r["attempts"], r["next_attempt_at"] or "-"] for r in rows])
             + f"\n{len(rows)} follow-up(s)"
             + (f" (the first {limit}: --limit to see more)" if limit and len(rows) == limit else ""))
    run(ctx, go)


@cli.command()
@click.argument("followup_id")
@json_option
@click.pass_context
def show(ctx: click.Context, followup_id: str) -> None:
    """One follow-up: window, owner, attempts, survey."""
    from huifang.core.domain import FollowUp
    from huifang.core.queries import followup_json

    def go(s: State) -> None:
        app = s.app()
        data = followup_json(app, app.load(FollowUp, followup_id, "follow-up"))
        emit(s, data, render_followup(data))
    run(ctx, go)


def render_followup(d: dict[str, Any]) -> str:
    lines = [f"{d['id']}  {d['plugin']}/{d['visit_type']}  [{d['status']}]",
             f"subject {d['subject']}  owner {d['owner'] or '-'}  channel {d['channel']}",
             f"window {d['window_open']} .. due {d['due']}" + ("  PROVISIONAL (no official calendar yet)"
                                                              if d["provisional"] else "")]
    for a in d["attempts"]:
        lines.append(f"  attempt {a['n']}: {a['at']} {a['channel']} {a['outcome']}" + (f" — {a['note']}" if a.get("note") else ""))
    if d["next_attempt_at"]:
        lines.append(f"next attempt from {d['next_attempt_at']}")
    if d["answers"]:
        lines.append("answers: " + ", ".join(f"{k}={v}" for k, v in d["answers"].items()))
    elif d["survey"]:
        lines.append("survey:")
        lines += [f"  {q['key']}: {q['text']}" + (f" [{' | '.join(q['choices'])}]" if q["choices"] else "")
                  for q in d["survey"]]
    if d["closed_reason"]:
        lines.append(f"closed: {d['closed_reason']}")
    if d["tickets"]:
        lines.append("tickets: " + ", ".join(d["tickets"]))
    return "\n".join(lines)


@cli.command()
@click.argument("followup_id")
@click.option("--channel", required=True)
@click.option("--outcome", required=True,
              help="reached|no_answer|busy|wrong_number|suspended|powered_off|refused|call_later")
@click.option("--recording", default=None, metavar="FILE")
@click.option("--recording-failed-line", default=None, metavar="LINE",
              help="Recording system failed: the other recorded line used (F9).")
@click.option("--note", default=None)
@json_option
@click.pass_context
def attempt(ctx: click.Context, followup_id: str, channel: str, outcome: str, recording: str | None,
            recording_failed_line: str | None, note: str | None) -> None:
    """Record one contact attempt (G4, G5)."""
    from huifang.core.queries import followup_json

    def go(s: State) -> None:
        app = s.app()
        fu, messages = app.record_attempt(followup_id, channel, outcome, note, recording, actor=s.actor,
                                          recording_failed_line=recording_failed_line)
        data = {**followup_json(app, fu), "messages": messages}
        emit(s, data, render_followup(data) + "".join(f"\n! {m}" for m in messages))
    run(ctx, go)


@cli.command()
@click.argument("followup_id")
@click.option("--answer", multiple=True, metavar="KEY=VALUE")
@click.option("--answers", "answers_file", default=None, metavar="FILE.json")
@json_option
@click.pass_context
def complete(ctx: click.Context, followup_id: str, answer: tuple[str, ...], answers_file: str | None) -> None:
    """Complete a follow-up with the survey answers."""
    from huifang.core.queries import followup_json

    def go(s: State) -> None:
        answers = parse_pairs(answer, "--answer")
        if answers_file:
            try:
                with open(answers_file, encoding="utf-8") as f:
                    loaded = json.load(f)
            except FileNotFoundError:
                raise HuifangError(f"--answers: file '{answers_file}' does not exist") from None
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise HuifangError(f"--answers: '{answers_file}' is not valid JSON ({e})") from None
            if not isinstance(loaded, dict):
                raise HuifangError("--answers: the file must hold one JSON object {\"key\": \"value\"}")
            answers = {**loaded, **answers}
        app = s.app()
        fu, messages = app.complete(followup_id, answers, actor=s.actor)
        data = {**followup_json(app, fu), "messages": messages}
        emit(s, data, render_followup(data) + "".join(f"\n! {m}" for m in messages))
    run(ctx, go)


@cli.command()
@click.argument("followup_id")
@click.option("--lost", "lost", default=None, metavar="REASON", help="Close as lost (G14; needs 3 attempts, G5).")
@click.option("--cancel", "cancel", default=None, metavar="REASON")
@click.option("--exempt", is_flag=True, help="Close as exempt (signed statement, F6).")
@click.option("--statement", default=None, help="With --exempt: the signed statement.")
@json_option
@click.pass_context
def close(ctx: click.Context, followup_id: str, lost: str | None, cancel: str | None, exempt: bool,
          statement: str | None) -> None:
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
        fu = app.close_followup(followup_id, status, reason, actor=s.actor)
        data = followup_json(app, fu)
        emit(s, data, render_followup(data))
    run(ctx, go)


@cli.command()
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
        app.actor_staff(s.actor)
        fu = app.reassign(followup_id, to, reason, actor=s.actor)
        emit(s, followup_json(app, fu), f"{followup_id} now owned by {to}")
    run(ctx, go)


# -- tickets -------------------------------------------------------------------------------------------
@cli.group()
def ticket() -> None:
    """Tickets (问题件, G12): problems found during follow-ups."""


def ticket_json(t: Any, app: Any = None) -> dict[str, Any]:
    data = {"id": t.code, "followup": t.followup, "subject": t.subject, "category": t.category,
            "department": t.department, "severity": t.severity, "status": t.status, "owner": t.owner,
            "deadline": clock.iso(t.deadline), "resolution": t.resolution,
            "second_followup": t.second_followup, "escalations": t.escalations}
    return app.keyring.reveal_all(data) if app is not None else data  # issue 8: the resolution is encrypted


@ticket.command("open")
@click.argument("followup_id")
@click.option("--category", required=True)
@click.option("--dept", required=True)
@click.option("--severity", default="normal", help="normal|major")
@click.option("--note", default="")
@json_option
@click.pass_context
def ticket_open(ctx: click.Context, followup_id: str, category: str, dept: str, severity: str, note: str) -> None:
    """Open a ticket on a follow-up."""
    def go(s: State) -> None:
        t = s.app().open_ticket(followup_id, category, dept, severity, note, actor=s.actor)
        emit(s, ticket_json(t, s.app()), f"ticket {t.code} opened for {dept}, due {clock.iso(t.deadline)}")
    run(ctx, go)


@ticket.command("resolve")
@click.argument("ticket_id")
@click.option("--note", required=True)
@json_option
@click.pass_context
def ticket_resolve(ctx: click.Context, ticket_id: str, note: str) -> None:
    """Record the department's handling; plans the second follow-up (二次回访)."""
    def go(s: State) -> None:
        t, second = s.app().resolve_ticket(ticket_id, note, actor=s.actor)
        emit(s, {**ticket_json(t, s.app()), "second_followup_due": clock.iso(second.due)},
             f"ticket {t.code} resolved; second follow-up {second.code} due {clock.iso(second.due)}")
    run(ctx, go)


@ticket.command("show")
@click.argument("ticket_id")
@json_option
@click.pass_context
def ticket_show(ctx: click.Context, ticket_id: str) -> None:
    """One ticket."""
    from huifang.core.domain import Ticket

    def go(s: State) -> None:
        data = ticket_json(s.app().load(Ticket, ticket_id, "ticket"), s.app())
        emit(s, data, "\n".join(f"{k}: {v}" for k, v in data.items()))
    run(ctx, go)


# -- timers, history, calendar ------------------------------------------------------------------------------
@cli.command()
@json_option
@click.pass_context
def tick(ctx: click.Context) -> None:
    """Advance to --now: open windows, reminders (G3), overdue and escalation, locks (A4)."""
    from huifang.core.timers import tick as do_tick

    def go(s: State) -> None:
        result = do_tick(s.app(), actor="system")
        text = (f"tick at {result['now']}: opened {result['opened']}, reminded {result['reminded']}, "
                f"overdue {result['overdue']}, escalated {result['escalated']}, locked {result['locked']}")
        text += "".join(f"\nreminder: {r['followup']} to {r['to'] or '-'} (due {r['due']})"
                        for r in result["reminders"][:50])
        emit(s, result, text)
    run(ctx, go)


@cli.command()
@click.argument("ident", metavar="ID")
@click.option("--as-of", "as_of", default=None, metavar="ISO", help="State at that instant.")
@click.option("--reason", default=None, help="Why you read this personal data (G8; required once roles are on).")
@json_option
@click.pass_context
def history(ctx: click.Context, ident: str, as_of: str | None, reason: str | None) -> None:
    """Every event of a subject, follow-up, ticket, trigger or staff member, with actor and time
    (reading a subject's records is itself recorded, G8)."""
    from huifang.core import queries
    from huifang.core.audit.reads import record_read, subject_of

    def go(s: State) -> None:
        when = clock.parse_instant(as_of, "--as-of") if as_of else None
        app = s.app()
        target, subj = subject_of(app, ident)
        if subj:
            record_read(app, s.actor, subj, "history", target, reason)
        data = queries.history(app, ident, when)
        rows = [[e["at"], e["aggregate"], e["event"], e["actor"] or "-",
                 json.dumps(e["data"], ensure_ascii=False)[:80]] for e in data["events"]]
        emit(s, data, table(["at", "record", "event", "actor", "data"], rows))
    run(ctx, go)


@cli.group()
def calendar() -> None:
    """The business calendar (G6): official holidays and make-up workdays."""


@calendar.command("import")
@click.argument("file")
@json_option
@click.pass_context
def calendar_import(ctx: click.Context, file: str) -> None:
    """Import the State Council's schedule (JSON or CSV); re-plans provisional deadlines."""
    from huifang.core.calendar import CalendarFileError, load_schedule_file

    def go(s: State) -> None:
        try:
            schedules = load_schedule_file(file)
        except CalendarFileError as e:
            raise HuifangError(str(e)) from None
        result = s.app().import_calendar(schedules, actor=s.actor)
        emit(s, result, f"imported {', '.join(map(str, result['years']))}; rescheduled {result['rescheduled']} "
                        f"of {result['checked']} provisional follow-up(s)")
    run(ctx, go)


@calendar.command("show")
@click.argument("year", type=int)
@json_option
@click.pass_context
def calendar_show(ctx: click.Context, year: int) -> None:
    """Whether a year has official data, and its holidays and make-up workdays."""
    def go(s: State) -> None:
        cal = s.app().calendar
        sched = cal.schedule(year)
        data = {"year": year, "official": cal.is_official(year),
                **({k: v for k, v in sched.to_json().items() if k != "year"} if sched else {})}
        emit(s, data, f"{year}: " + (f"official ({data.get('source')}), {len(data.get('holidays', []))} holidays, "
                                     f"{len(data.get('workdays', []))} make-up workdays" if data["official"]
                                     else "no official data: deadlines are provisional (Mon–Fri rule)"))
    run(ctx, go)


@cli.group()
def projections() -> None:
    """Read views: status and rebuild."""


@projections.command("status")
@json_option
@click.pass_context
def projections_status(ctx: click.Context) -> None:
    """Each view's position against the log head."""
    def go(s: State) -> None:
        rows = s.app().projector.status()
        emit(s, rows, table(["view", "position", "head", "behind"],
                            [[r["view"], r["position"], r["head"], r["behind"]] for r in rows]))
    run(ctx, go)


@projections.command("rebuild")
@click.argument("name", required=False)
@json_option
@click.pass_context
def projections_rebuild(ctx: click.Context, name: str | None) -> None:
    """Rebuild one view (or all) from the start of the log."""
    from .output import progress_bar

    def go(s: State) -> None:
        app = s.app()
        if name and name not in app.projector.views:
            raise HuifangError(f"projections rebuild: no view '{name}'; views: {', '.join(app.projector.views)}")
        with progress_bar(s, "rebuilding") as update:
            n = app.projector.rebuild([name] if name else None, progress=update)
        emit(s, {"rebuilt": [name] if name else list(app.projector.views), "events": n},
             f"rebuilt {name or 'all views'} from {n} events")
    run(ctx, go)


@cli.command()
@click.option("--subjects", default=300, show_default=True)
@click.option("--days", default=90, show_default=True, help="Months of history, in days.")
@click.option("--seed", default=7, show_default=True)
@json_option
@click.pass_context
def demo(ctx: click.Context, subjects: int, days: int, seed: int) -> None:
    """Build a realistic, seeded data set in a fresh store and say what was made."""
    from huifang.core.demo import build_demo

    def go(s: State) -> None:
        from huifang.core.store import Store

        store = Store.parse(s.db)
        if store.kind == "sqlite" and store.exists():
            raise HuifangError(f"demo: '{store.url}' already exists; demo builds a fresh store "
                               f"(remove it or pass another --db)")
        result = build_demo(s.app(must_exist=False), subjects=subjects, days=days, seed=seed,
                            quiet=s.json)
        emit(s, result, result["summary"])
    run(ctx, go)


from .report import qa as _qa, report as _report  # noqa: E402  (issue 7: reports G14–G20, QA G17)

cli.add_command(_report)
cli.add_command(_qa)

from .audit import register as _register_audit  # noqa: E402  (issue 8: audit, retention, subject erase/export)

_register_audit(cli, subject)

subject.add_command(subject_import)  # huifang subject import FILE (issue 9)
cli.add_command(import_group)  # huifang import subjects|triggers FILE


@cli.command()
@click.option("--occasion", required=True, help="birthday|holiday")
@click.option("--name", default="", help="The holiday (e.g. 春节) for --occasion holiday.")
@click.option("--channel", default="sms", show_default=True, help="sms|wechat|email|app")
@json_option
@click.pass_context
def greetings(ctx: click.Context, occasion: str, name: str, channel: str) -> None:
    """Send today's birthday or holiday greetings as one recorded batch (G21)."""
    from huifang.core.greetings import send

    def go(s: State) -> None:
        b = send(s.app(), occasion, name, channel, actor=s.actor)
        data = {"batch": b.code, "day": b.day, "recipients": b.recipients, "skipped": b.skipped}
        emit(s, data, f"{b.code}: {len(b.recipients)} greeting(s) sent, {len(b.skipped)} left out"
             + "".join(f"\n  not sent to {x['subject']}: {x['reason']}" for x in b.skipped))
    run(ctx, go)


def add_plugin_commands() -> None:
    """Plugins may add command groups (e.g. aesthetics' `campaign`)."""
    from huifang.core.registry import discover

    for name, ep in discover().items():
        try:
            obj = ep.load()
        except Exception:
            continue  # reported when the plugin is enabled
        hook = getattr(obj, "huifang_cli_commands", None)
        if hook is None:
            continue
        for command in hook() or []:
            if command.name not in cli.commands:
                cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--json" in argv
    try:
        add_plugin_commands()
        cli.main(args=argv, prog_name="huifang", standalone_mode=False)
    except HuifangError as e:
        fail(str(e), e.exit_code, as_json)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.Abort:
        fail("aborted", 1, as_json)
    except click.ClickException as e:
        fail(e.format_message().replace("\n", " "), 2, as_json)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as e:  # never a traceback for an operator
        if os.environ.get("HUIFANG_DEBUG"):
            raise
        fail(f"internal error: {type(e).__name__}: {e}".replace("\n", " ")[:400] +
             " (set HUIFANG_DEBUG=1 for details; nothing was written)", 1, as_json)
    sys.exit(0)


def fail(message: str, code: int, as_json: bool) -> None:
    click.echo(f"huifang: error: {message}", err=True)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
