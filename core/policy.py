"""The access policy (G8, G9, G17, F6, A4): ONE table of which role may do which action, in which scope.

core/access.py enforces it (roles, scopes, the A4 lock, "auditors change nothing"); the matrix test
(tests/attacks/test_access_matrix.py) runs every command x role x same/other department cell of it
through the CLI; `python -m huifang.core.policy --markdown` prints the README's role table from it.

A role missing from an action's row may not do it at all. A scope limits which records it reaches:

  any          every record
  own          records they own, and their department's unowned ones (the department's pool)
  ladder       own, plus records owned by anyone below them in the reporting ladder
  department   ladder, plus every record of their department (a role in ORG_WIDE registered without a
               department: every department)
  subject-dept staff of a department the subject is followed up in (any, while no department follows
               the subject up; a role in ORG_WIDE registered without a department: any)

A subject is reached through its follow-ups (as their aggregates say): the scope must reach one of them.
A follow-up of a trigger the staff member recorded themself does not count: they may work it, but naming
oneself the responsible nurse grants no read (or change) of the subject's file and earlier history.

These rules apply only in enforced mode (after the first admin); in setup mode only "auditors change
nothing", the A4 lock, G9 and "a named actor must be registered staff" apply.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass

from .contract import ROLES

ANY, OWN, LADDER, DEPARTMENT, SUBJECT_DEPT = "any", "own", "ladder", "department", "subject-dept"
SCOPES: dict[str, str] = {
    ANY: "every record",
    OWN: "records they own, and their department's unowned ones (the pool)",
    LADDER: "own, plus records of anyone below them in the reporting ladder",
    DEPARTMENT: "ladder, plus every record of their department (a manager without one: every department)",
    SUBJECT_DEPT: "staff of a department that follows the subject up (any while none does)",
}

# Roles whose staff registered without a department reach every department ("department" and
# "subject-dept" scopes): the organisation's managers.
ORG_WIDE = frozenset({"manager"})

ROLE_NOTES: dict[str, str] = {
    "agent": "works the follow-ups they own or their department's pool; reads those subjects' files",
    "supervisor": "as agent, for everyone below them in the reporting ladder; reassigns, unlocks (A4), "
                  "records quality checks (G17) and signed exemptions (F6) of their department",
    "manager": "as supervisor, for their whole department (every department if registered without one); "
               "approves personal-data exports of their department's subjects; reads the audit trail",
    "auditor": "reads history, reports and the audit trail; changes nothing (in any mode)",
    "admin": "staff, identities, calendar, privacy settings, erasure; no follow-up work, no personal data",
    "sales": "registers subjects and service events (their sales); works no follow-up (G9)",
    "intake": "registers subjects and service events (front desk, HIS/CRM integration); works no "
              "follow-up, reads no file",
}


@dataclass(frozen=True)
class Rule:
    """One action: how a refusal words it, the commands that need it, and role -> scope."""

    label: str
    commands: tuple[str, ...]
    roles: Mapping[str, str]
    read: bool = False  # a read: open to auditors, and needs registered staff even in setup mode
    locked: bool = False  # A4: refused to a locked staff member, in any mode
    note: str = ""  # a further rule the use case checks (shown in the table)


_WORK = {"agent": OWN, "supervisor": LADDER, "manager": DEPARTMENT}
_REGISTER = {"agent": ANY, "supervisor": ANY, "manager": ANY, "admin": ANY, "sales": ANY, "intake": ANY}
_AUDIT = {"auditor": ANY, "manager": ANY, "admin": ANY}

POLICY: dict[str, Rule] = {
    "staff.add": Rule("register staff or bind their identities", ("staff add", "staff bind"), {"admin": ANY}),
    "calendar.import": Rule("import the official calendar", ("calendar import",), {"admin": ANY}),
    "privacy.widen": Rule("widen the privacy settings", ("privacy widen",), {"admin": ANY}),
    "subject.add": Rule("register a subject", ("subject add", "import subjects"), _REGISTER),
    "trigger": Rule("record a service event", ("trigger", "import triggers"), {"sales": ANY, "intake": ANY},
                    note="a follow-up planned by one's own trigger grants no read"),
    "subject.change": Rule("change the file of", ("subject optout", "subject edit", "aesthetics blacklist"), _WORK),
    "subject.exempt": Rule("record a signed no-follow-up statement (F6) of", ("subject exempt", "close --exempt"),
                           {"supervisor": SUBJECT_DEPT, "manager": SUBJECT_DEPT},
                           note="F6: the statement is required; `close --exempt` also needs the follow-up"),
    "subject.erase": Rule("erase", ("subject erase",), {"admin": ANY}),
    "followup.work": Rule("work on", ("attempt", "complete", "close", "ticket open"), _WORK, locked=True,
                          note="G9: never their own customer's; A4: not while locked"),
    "followup.reassign": Rule("reassign", ("reassign",), {"supervisor": LADDER, "manager": DEPARTMENT},
                              note="to someone in their ladder"),
    "staff.unlock": Rule("unlock", ("unlock",), {"supervisor": LADDER, "manager": DEPARTMENT},
                         note="A4: as far up the ladder as the lock needs"),
    "ticket.resolve": Rule("resolve", ("ticket resolve",),
                           {"agent": DEPARTMENT, "supervisor": DEPARTMENT, "manager": DEPARTMENT},
                           note="the ticket's department"),
    "qa.record": Rule("record a quality check (G17) of", ("qa record",), {"supervisor": LADDER, "manager": DEPARTMENT},
                      note="G17: never of their own work"),
    "subject.read": Rule("read the personal data of", ("subject show", "history", "show", "subject find"),
                         {**_WORK, "auditor": ANY}, read=True,
                         note="`show` (the call sheet) and `subject find` too; `queue` shows the names in scope"),
    "subject.export": Rule("export the personal data of", ("subject export",), {**_WORK, "auditor": ANY}, read=True,
                           note="G8: beyond the subject's departments only with a manager's approval"),
    "audit.read": Rule("read the audit trail", ("audit reads",), _AUDIT, read=True),
    "audit.export": Rule("export the log", ("audit export",), _AUDIT, read=True),
    "audit.approve": Rule("approve a personal-data export of", ("audit approve-export",),
                          {"manager": SUBJECT_DEPT}),
    "write": Rule("change records", ("campaign request",), {r: ANY for r in ROLES if r != "auditor"}),
}


def _check() -> None:
    for action, rule in POLICY.items():
        for role, scope in rule.roles.items():
            if role not in ROLES or scope not in SCOPES:
                raise ValueError(f"policy {action}: unknown role {role!r} or scope {scope!r}")


_check()


def scope_of(action: str, role: str) -> str | None:
    """The scope in which `role` may do `action` (None: not at all)."""
    return POLICY[action].roles.get(role)


def commands() -> dict[str, str]:
    """CLI command -> the action it needs."""
    return {c: action for action, rule in POLICY.items() for c in rule.commands}


def markdown() -> str:
    """The README's role table: one row per command group, one column per role, the scope in each cell."""
    head = "| command | " + " | ".join(f"`{r}`" for r in ROLES) + " | also |"
    lines = [head, "|---|" + "---|" * (len(ROLES) + 1)]
    for rule in POLICY.values():
        cells = [rule.roles.get(r, "–") for r in ROLES]
        cmds = ", ".join(f"`{c}`" for c in rule.commands)
        lines.append(f"| {cmds} | " + " | ".join(cells) + f" | {rule.note} |")
    lines += ["", "Scopes: " + "; ".join(f"**{k}** — {v}" for k, v in SCOPES.items()) + ".", "",
              "| role | in short |", "|---|---|"]
    lines += [f"| `{r}` | {ROLE_NOTES[r]} |" for r in ROLES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m huifang.core.policy --markdown
    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m huifang.core.policy --markdown")
    sys.stdout.write(markdown())
