"""`huifang staff …`, `huifang unlock` (A4) and `huifang subject …` (G1, G7, G8, F6, G10; bulk import)."""
from __future__ import annotations

import click

from huifang.core.plugin_api.cli import json_option

from .audit import subject_erase_cmd, subject_export_cmd
from .importing import subject_import
from .output import emit
from .params import parse_pairs
from .state import State, run


@click.group()
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


@click.command()
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
@click.group()
def subject() -> None:
    """Subjects (客户/患者): the people followed up."""


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


subject.add_command(subject_import)  # huifang subject import FILE
subject.add_command(subject_erase_cmd())
subject.add_command(subject_export_cmd())
