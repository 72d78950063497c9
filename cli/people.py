"""`huifang staff …`, `huifang unlock` (A4) and `huifang subject …` (G1, G7, G8, F6, G10; bulk import)."""
from __future__ import annotations

from typing import Any

import click

from huifang.core.phones import mask_name, mask_phone
from huifang.core.plugin_api.cli import json_option

from .audit import subject_erase_cmd, subject_export_cmd
from .importing import subject_import
from .output import emit, table
from .params import parse_pairs
from .state import State, run


@click.group()
def staff() -> None:
    """Staff: owners, supervisors and the reporting ladder."""


@staff.command("add")
@click.argument("staff_id")
@click.option("--name", required=True)
@click.option("--role", required=True, help="agent|supervisor|manager|auditor|admin|sales|intake")
@click.option("--dept", default=None)
@click.option("--reports-to", default=None, metavar="STAFF_ID")
@click.option("--db-role", default=None, metavar="ROLE",
              help="The PostgreSQL login role that authenticates them: connected as it, huifang acts as them (G8).")
@click.option("--os-user", default=None, metavar="USER",
              help="The operating-system user that authenticates them (SQLite, single machine; sudo deployments).")
@click.option("--head-of", multiple=True, metavar="DEPT",
              help="They head this department: its tickets are theirs (G12). Repeatable.")
@json_option
@click.pass_context
def staff_add(ctx: click.Context, staff_id: str, name: str, role: str, dept: str | None,
              reports_to: str | None, db_role: str | None, os_user: str | None, head_of: tuple[str, ...]) -> None:
    """Register a staff member."""
    from huifang.core.usecases.staff import add_staff

    def go(s: State) -> None:
        app = s.app()
        add_staff(app, staff_id, name, role, dept, reports_to, actor=s.actor, db_role=db_role, os_user=os_user,
                  head_of=list(head_of))
        emit(s, _staff_data(app, staff_id), f"staff {staff_id} added ({role})")
    run(ctx, go)


@staff.command("bind")
@click.argument("staff_id")
@click.option("--db-role", default=None, metavar="ROLE", help="PostgreSQL login role ('' removes the binding).")
@click.option("--os-user", default=None, metavar="USER", help="Operating-system user ('' removes the binding).")
@json_option
@click.pass_context
def staff_bind(ctx: click.Context, staff_id: str, db_role: str | None, os_user: str | None) -> None:
    """Bind a staff member to the database role or OS user that authenticates them (G8; admin)."""
    from huifang.core.usecases.staff import bind_identity

    def go(s: State) -> None:
        app = s.app()
        staff = bind_identity(app, staff_id, db_role, os_user, actor=s.actor)
        emit(s, _staff_data(app, staff_id), f"staff {staff_id}: database role {staff.db_role or '-'}, "
                                            f"OS user {staff.os_user or '-'}")
    run(ctx, go)


@staff.command("head")
@click.argument("dept")
@click.argument("staff_id")
@json_option
@click.pass_context
def staff_head(ctx: click.Context, dept: str, staff_id: str) -> None:
    """Make STAFF_ID the head of DEPT: tickets routed to the department are theirs (G12)."""
    from huifang.core.usecases.staff import set_head

    def go(s: State) -> None:
        app = s.app()
        set_head(app, dept, staff_id, actor=s.actor)
        emit(s, {"department": dept, "head": staff_id}, f"{staff_id} now heads {dept}")
    run(ctx, go)


@staff.command("password")
@click.argument("staff_id")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (scripts), not a prompt.")
@json_option
@click.pass_context
def staff_password(ctx: click.Context, staff_id: str, password_stdin: bool) -> None:
    """Set the password STAFF_ID signs in to the dashboard with (your own, or anyone's as admin); stored
    as an argon2id hash, never the password."""
    import sys

    from huifang.core.errors import HuifangError
    from huifang.core.usecases.staff import set_password

    def go(s: State) -> None:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif not sys.stdin.isatty():  # never echo a password a script pipes in: say how to give it
            raise HuifangError("standard input is not a terminal: pass the password with --password-stdin",
                               field="password_stdin")
        else:  # asked twice, not echoed
            password = click.prompt("新密码 New password", hide_input=True,
                                    confirmation_prompt="再输入一次 Repeat it", err=True)
        set_password(s.app(), staff_id, password, actor=s.actor)
        emit(s, {"staff": staff_id, "password_set": True}, f"password of {staff_id} set")
    run(ctx, go)


@staff.command("grants")
@click.option("--schema", default=None, help="The store's schema (default: the --db URL's, else public).")
@click.option("--staff-role", default="huifang_staff", show_default=True,
              help="The group role every operator's login role joins.")
@click.option("--erasure-role", default="huifang_erasure", show_default=True,
              help="The group role of admins who erase subjects (G10).")
@click.pass_context
def staff_grants(ctx: click.Context, schema: str | None, staff_role: str, erasure_role: str) -> None:
    """The least-privilege GRANTs for a PostgreSQL store (G8), as SQL to run as the store's owner."""
    from huifang.core.identity import grant_statements
    from huifang.core.store import Store

    s: State = ctx.obj
    store = Store.parse(s.db) if s.db else None
    chosen = schema or (store.schema if store is not None and store.kind == "postgres" else None) or "public"
    click.echo("\n".join(grant_statements(chosen, staff_role, erasure_role)))


@staff.command("list")
@click.option("--dept", default=None, help="Only this department.")
@click.option("--role", default=None, help="Only this role.")
@json_option
@click.pass_context
def staff_list(ctx: click.Context, dept: str | None, role: str | None) -> None:
    """The staff directory: id, name, role, department, who they report to, locked (A4)."""
    from huifang.core import labels
    from huifang.projections.people import staff_rows

    def go(s: State) -> None:
        rows = staff_rows(s.app(), dept=dept, role=role)
        zh = labels.current_lang() != "en"
        headers = ["工号", "姓名", "角色", "部门", "上级", "锁定"] if zh else \
            ["id", "name", "role", "department", "reports to", "locked"]
        cells = [[r["id"], r["name"], labels.label("role", r["role"]), r["dept"] or "-", r["reports_to"] or "-",
                  labels.label("choice", "yes" if r["locked"] else "no")] for r in rows]
        emit(s, rows, table(headers, cells) + (f"\n共 {len(rows)} 人" if zh else f"\n{len(rows)} staff"))
    run(ctx, go)


@staff.command("show")
@click.argument("staff_id")
@json_option
@click.pass_context
def staff_show(ctx: click.Context, staff_id: str) -> None:
    """A staff member, their ladder and any lock (A4)."""
    def go(s: State) -> None:
        data = _staff_data(s.app(), staff_id)
        lock = data["lock"]
        text = (f"{data['id']} {data['name']} ({data['role']}, {data['dept'] or '-'}), reports to "
                f"{data['reports_to'] or '-'}\n" +
                (f"LOCKED level {lock['level']} ({lock['days_overdue']} days overdue: "
                 f"{', '.join(lock['followups'])}); {data['unlock']}" if lock else "not locked"))
        emit(s, data, text)
    run(ctx, go)


def _staff_data(app: Any, code: str) -> dict[str, Any]:
    """staff_json, plus the identities bound to the staff member (G8) when there are any."""
    from huifang.core.domain import Staff
    from huifang.core.queries import staff_json

    data = staff_json(app, code)
    staff = app.load(Staff, code, "staff")
    if staff.db_role or staff.os_user:
        data.update(db_role=staff.db_role, os_user=staff.os_user)
    return data


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
        app.unlock(staff_id, report, actor=s.actor)  # an unregistered actor is refused and recorded there
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
        emit(s, data, "\n".join(f"{k}: {_text(v)}" for k, v in data.items()))
    run(ctx, go)


@subject.command("edit")
@click.argument("subject_id")
@click.option("--phone", default=None, help="The re-determined number: replaces the numbers on file (F5).")
@click.option("--add-phone", multiple=True, help="Another number (repeatable).")
@click.option("--address", default=None)
@json_option
@click.pass_context
def subject_edit(ctx: click.Context, subject_id: str, phone: str | None, add_phone: tuple[str, ...],
                 address: str | None) -> None:
    """Correct a subject's numbers or address (an event; the old values stay in the history, encrypted)."""
    from huifang.core.usecases.subjects import edit_subject

    def go(s: State) -> None:
        app = s.app()
        edit_subject(app, subject_id, phone, list(add_phone), address, actor=s.actor)
        data = masked_subject(app, subject_id)
        emit(s, data, f"{subject_id} updated: phones {', '.join(data['phones']) or '-'}"
             + (" ; address recorded" if address is not None else ""))
    run(ctx, go)


@subject.command("find")
@click.option("--phone", default=None, help="The number, its last 4+ digits, or as masked in a list (138****0001).")
@click.option("--name", default=None, help="All or part of the name.")
@json_option
@click.pass_context
def subject_find(ctx: click.Context, phone: str | None, name: str | None) -> None:
    """Find subjects by phone or name among those you may read (each shown is a recorded read, G8)."""
    from huifang.core import labels
    from huifang.projections.people import find_subjects

    def go(s: State) -> None:
        rows, hidden = find_subjects(s.app(), s.actor, phone, name)
        zh = labels.current_lang() != "en"
        headers = ["客户", "姓名", "电话", "未完成回访"] if zh else ["subject", "name", "phones", "open follow-ups"]
        cells = [[r["id"], r["name"], ", ".join(r["phones"]) or "-", ", ".join(r["open_followups"]) or "-"]
                 for r in rows]
        more = (f"\n另有 {hidden} 位不在你的权限范围内（未显示）" if zh else
                f"\n{hidden} more outside your scope (not shown)") if hidden else ""
        emit(s, {"subjects": rows, "outside_scope": hidden},
             (table(headers, cells) if rows else ("没有找到" if zh else "no subject found")) + more)
    run(ctx, go)


@subject.command("optout")
@click.argument("subject_id")
@click.option("--channel", required=True)
@json_option
@click.pass_context
def subject_optout(ctx: click.Context, subject_id: str, channel: str) -> None:
    """Opt a subject out of a channel (G7)."""
    def go(s: State) -> None:
        app = s.app()
        app.opt_out(subject_id, channel, actor=s.actor)
        emit(s, masked_subject(app, subject_id), f"{subject_id} opted out of {channel}")
    run(ctx, go)


@subject.command("exempt")
@click.argument("subject_id")
@click.option("--statement", required=True, help="The signed no-follow-up statement (F6), e.g. its number.")
@json_option
@click.pass_context
def subject_exempt(ctx: click.Context, subject_id: str, statement: str) -> None:
    """Record a signed statement declining all follow-up (F6/G7)."""
    def go(s: State) -> None:
        app = s.app()
        app.sign_exemption(subject_id, statement, actor=s.actor)
        emit(s, masked_subject(app, subject_id),
             f"{subject_id}: exemption recorded; the open follow-ups it exempts (F6) closed as exempt")
    run(ctx, go)


def _text(value: Any) -> str:
    """A field of the file as a person reads it (no Python reprs: lists joined, None as -)."""
    if value is None or value == [] or value == {}:
        return "-"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_text(v)}" for k, v in value.items())
    return str(value)


def masked_subject(app: Any, code: str) -> dict[str, Any]:
    """What a change of the subject's file (optout, exempt) shows: codes and masked contact data, as a
    change is not a recorded read of the file (G8); `subject show --reason` is."""
    from huifang.core.queries import subject_json

    data = subject_json(app, code)
    email = data.get("email")
    out = {"id": data["id"], "name": mask_name(data["name"] or ""), "phones": [mask_phone(p) for p in data["phones"]],
           "email": (email[:1] + "***" + email[email.index("@"):]) if email and "@" in email else None,
           "optouts": data["optouts"], "exempt": data["exempt"]}
    return out | ({"erased": True} if data.get("erased") else {})


subject.add_command(subject_import)  # huifang subject import FILE
subject.add_command(subject_erase_cmd())
subject.add_command(subject_export_cmd())
