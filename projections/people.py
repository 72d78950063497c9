"""People as the everyday commands list them: the staff directory (`staff list`, `queue --team`),
the names and masked numbers on an operator's work list (`queue`), and finding a subject by phone or
name (`subject find`). Names and numbers are personal data (G8): a list shows those of the subjects
the actor's scope reaches, each read recorded (core/audit/reads.record_list_read)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from huifang.core.phones import mask_phone, matches

if TYPE_CHECKING:
    from huifang.core.application import HuifangApp

STAFF_TOPIC = "huifang:Staff.Registered"


def staff_codes(app: HuifangApp) -> list[str]:
    """Every registered staff member's id, in the order registered."""
    from huifang.core.greetings import registered_codes

    return registered_codes(app, STAFF_TOPIC)


def staff_rows(app: HuifangApp, dept: str | None = None, role: str | None = None) -> list[dict[str, Any]]:
    """The staff directory (names of staff are not subjects' personal data)."""
    from huifang.core.domain import Staff

    out = []
    for code in staff_codes(app):
        s = app.find(Staff, code)
        if s is None or (dept is not None and s.dept != dept) or (role is not None and s.role != role):
            continue
        out.append({"id": s.code, "name": s.name, "role": s.role, "dept": s.dept, "reports_to": s.reports_to,
                    "locked": bool(getattr(s, "lock", None))})
    return sorted(out, key=lambda r: (r["dept"] or "", r["id"]))


def team_of(app: HuifangApp, code: str) -> list[str]:
    """`queue --team`: the staff member, everyone below them in the reporting ladder, and the
    colleagues of their department."""
    from huifang.core.domain import Staff

    me = app.find(Staff, code)
    team = [code]
    for other in staff_codes(app):
        if other == code:
            continue
        s = app.find(Staff, other)
        if s is None:
            continue
        if code in app.ladder(other) or (me is not None and me.dept is not None and s.dept == me.dept):
            team.append(other)
    return team


def names_and_phones(app: HuifangApp, subject: str) -> tuple[str, list[str]]:
    from huifang.core.domain import Subject

    s = app.find(Subject, subject)
    if s is None:
        return subject, []
    k = app.keyring
    return str(k.reveal(s.name)), [str(p) for p in k.reveal_all(list(s.phones))]


def list_people(app: HuifangApp, actor: str, subjects: list[str], what: str, target: str
                ) -> dict[str, dict[str, Any]]:
    """Name and masked first number of each subject the actor may read, the reads recorded (G8);
    subjects missing from the answer are shown by their code only."""
    from huifang.core.audit.reads import record_list_read

    shown = record_list_read(app, actor, subjects, what, target, f"{what}: names on the work list")
    out = {}
    for code in shown:
        name, phones = names_and_phones(app, code)
        out[code] = {"name": name, "phone": mask_phone(phones[0]) if phones else ""}
    return out


def find_subjects(app: HuifangApp, actor: str, phone: str | None = None, name: str | None = None
                  ) -> tuple[list[dict[str, Any]], int]:
    """Subjects whose number or name matches, among those the actor may read (each read recorded,
    G8), and how many more matched outside their scope (left out). When every match lies outside it,
    the search is refused (AccessDenied) and the refusal recorded."""
    from huifang.core.errors import HuifangError
    from huifang.core.greetings import subject_codes

    if not (phone or "").strip() and not (name or "").strip():
        raise HuifangError("give --phone NUMBER (or its last 4+ digits, or 138****0001) or --name TEXT",
                           field="phone")
    access = app.access
    access.require(actor, "subject.read", target="subject find")  # role and registration (refusal recorded)
    wanted_name = (name or "").strip().casefold()
    found: list[str] = []
    for code in subject_codes(app):
        n, phones = names_and_phones(app, code)
        if phone and not any(matches(p, phone.strip()) for p in phones):
            continue
        if wanted_name and wanted_name not in n.casefold():
            continue
        found.append(code)
    allowed = set(found)
    if access.enforced():
        staff = access.staff(actor)
        allowed = {c for c in found if access.reaches_subject(staff, c)}
    if found and not allowed:  # every match is someone else's: the search is refused, and recorded
        raise access.deny(actor, "subject.read", "subject find",
                          f"G8: {len(found)} subject(s) match, none of them in {actor}'s scope: ask their owner or a "
                          f"supervisor")
    shown = list_people(app, actor, [c for c in found if c in allowed], "find", "subject find")
    from huifang.core.domain import Subject

    rows = []
    for code in found:
        if code not in shown:
            continue
        s = app.find(Subject, code)
        _, phones = names_and_phones(app, code)
        rows.append({"id": code, "name": shown[code]["name"], "phones": [mask_phone(p) for p in phones],
                     "open_followups": app.read_side.open_followups_of(code) if s is not None else []})
    return rows, len(found) - len(rows)
