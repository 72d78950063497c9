"""Roles and permissions (G8, G9): who may do what, and the record of every refusal.

Roles (contract.ROLES):
  agent       works (attempt, complete, close, ticket open) only follow-ups they own, or unowned
              follow-ups of their own department (the department's pool); reads the files of
              subjects whose follow-ups they own
  supervisor  as agent, plus every follow-up owned by someone below them in the reporting ladder;
              reassigns and unlocks (A4) within that ladder
  manager     as supervisor, plus every follow-up of their department (all if they have none);
              approves personal-data exports of their department's subjects; reads audit data
  auditor     reads history, reports and the audit trail; changes nothing (always, in any mode)
  admin       staff, calendar, configuration and erasure; no follow-up work, no personal data
  sales       registers subjects and triggers; G9 keeps them off their own customers' follow-ups

Setup mode and enforced mode: a store starts in *setup mode* (a single-user or demo installation):
roles are not enforced, the anonymous actor `cli` (no --as) may do anything, only G9, the A4 lock
and "auditors change nothing" apply. Registering the first `admin` switches the store to *enforced
mode* for good (an AccessPolicy event): every change and every personal-data read must then name a
registered staff member (--as / HUIFANG_ACTOR) whose role and ladder allow it; `cli` may still run
`tick`, `queue`, `show`, reports and `audit verify`, which change nothing and show no personal data.

Every refusal for a role, a ladder, a department or G9 raises AccessDenied (exit 2, one line) AND is
saved first as an `AccessLog.Refused` event of the actor, in its own transaction, so it survives the
refusal and is sealed into the chain like any other record.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol, TypeVar

from .errors import ConflictError, Refused
from .ports import ReadSide

ANONYMOUS = ("cli", "system")
WRITERS = frozenset({"agent", "supervisor", "manager", "admin", "sales"})
WORKERS = frozenset({"agent", "supervisor", "manager", "sales"})

# action -> (roles allowed in enforced mode, human label)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "staff.add": (frozenset({"admin"}), "register staff"),
    "calendar.import": (frozenset({"admin"}), "import the official calendar"),
    "subject.add": (WRITERS, "register a subject"),
    "subject.change": (WRITERS, "change a subject's file"),
    "subject.erase": (frozenset({"admin"}), "erase a subject"),
    "trigger": (WRITERS, "record a service event"),
    "followup.work": (WORKERS, "work on"),
    "followup.reassign": (frozenset({"supervisor", "manager"}), "reassign"),
    "staff.unlock": (frozenset({"supervisor", "manager"}), "unlock"),
    "ticket.resolve": (WORKERS, "resolve"),
    "subject.read": (frozenset({"agent", "supervisor", "manager", "auditor"}), "read the personal data of"),
    "subject.export": (frozenset({"agent", "supervisor", "manager", "auditor"}), "export the personal data of"),
    "audit.read": (frozenset({"auditor", "manager", "admin"}), "read the audit trail"),
    "audit.export": (frozenset({"auditor", "manager", "admin"}), "export the log"),
    "audit.approve": (frozenset({"manager"}), "approve a personal-data export"),
    "write": (WRITERS, "change records"),
}
READS = frozenset({"subject.read", "subject.export", "audit.read", "audit.export"})


A = TypeVar("A")


class Records(Protocol):
    """What access control reads and writes of its application (HuifangApp conforms)."""

    def find(self, cls: type[A], code: str) -> A | None: ...

    def find_by_id(self, uid: Any) -> Any | None: ...

    def commit_trail(self, *aggregates: Any) -> None: ...

    def ladder(self, code: str) -> list[str]: ...

    @property
    def read_side(self) -> ReadSide: ...


class AccessDenied(Refused):
    """A role, ladder, department or conflict-of-interest rule refused the actor (recorded)."""


class Access:
    """Access control of one application: built with it, asked by every command (`require`) and by
    every commit (`guard`)."""

    def __init__(self, app: Records):
        self.app = app
        self._enforced = False
        self._pinned = False
        self._roles: dict[str, Any] = {}

    # -- mode ---------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """One bulk command (bulk import): whether access control is on is read once, not per row
        (it is turned on only by adding the first admin, which an import does not do)."""
        self.enforced()
        before, self._pinned = self._pinned, True
        try:
            yield
        finally:
            self._pinned = before

    def enforced(self) -> bool:
        if not self._enforced and not self._pinned:
            from .audit.trail import AccessPolicy

            self._enforced = self.app.find_by_id(AccessPolicy.create_id()) is not None
        return self._enforced

    def staff(self, actor: str) -> Any:
        if actor in ANONYMOUS:
            return None
        if actor not in self._roles:
            from .domain import Staff

            self._roles[actor] = self.app.find(Staff, actor)
        return self._roles[actor]

    # -- refusals -------------------------------------------------------------------------------------
    def deny(self, actor: str, action: str, target: str, message: str, field: str | None = None) -> AccessDenied:
        """Record the refusal (its own transaction), then return the error to raise."""
        error = AccessDenied(message, field=field)
        self.record_refusal(actor, action, target, str(error))
        return error

    def record_refusal(self, actor: str, action: str, target: str, reason: str) -> None:
        from .audit.trail import AccessLog

        for _ in range(5):
            log = self.app.find_by_id(AccessLog.create_id(actor)) or AccessLog(who=actor, actor=actor)
            log.refused(action=action, target=target, reason=reason, actor=actor)
            try:
                self.app.commit_trail(log)
                return
            except ConflictError:
                continue

    # -- the check ------------------------------------------------------------------------------------
    def require(self, actor: str, action: str, *, fu: Any = None, subject: str | None = None,
                ticket: Any = None, target_staff: Any = None, target: str = "") -> Any:
        """The acting staff member (None for cli/system) if `action` is allowed, else AccessDenied."""
        roles, label = ACTIONS[action]
        what = target or (f"follow-up {fu.code}" if fu is not None else f"ticket {ticket.code}" if ticket is not None
                          else f"subject {subject}" if subject else "")
        staff = self.staff(actor)
        if actor not in ANONYMOUS and staff is None and (self.enforced() or action in READS):
            raise self.deny(actor, action, what, f"'{actor}' is not registered staff (huifang staff add {actor} ...)",
                            field="actor")
        if staff is not None and staff.role == "auditor" and action not in READS:
            raise self.deny(actor, action, what, f"{actor} is an auditor: auditors read history and reports "
                                                 f"but change nothing (may not {label} {what})".strip())
        if not self.enforced():
            return staff
        if staff is None:
            raise self.deny(actor, action, what, f"access control is on: name the staff member acting with --as "
                                                 f"STAFF_ID (or HUIFANG_ACTOR); '{actor}' may not {label} {what}")
        if staff.role not in roles:
            raise self.deny(actor, action, what, f"{actor} is {staff.role}: only {', '.join(sorted(roles))} may "
                                                 f"{label} {what}".replace("  ", " ").strip())
        scope = self._scope(staff, action, fu=fu, subject=subject, ticket=ticket, target_staff=target_staff)
        if scope:
            raise self.deny(actor, action, what, scope)
        return staff

    def _scope(self, staff: Any, action: str, fu: Any, subject: str | None, ticket: Any,
               target_staff: Any) -> str | None:
        """Why the staff member's ladder or department does not reach the record (None = it does)."""
        me = staff.code
        if action == "followup.work" and fu is not None:
            if self._reaches(staff, fu.owner, fu.department):
                return None
            return (f"{me} may not work on {fu.code}: it is owned by {fu.owner or 'nobody'}"
                    + (f" (department {fu.department})" if fu.department else "")
                    + "; agents act only on their own or their department's unowned follow-ups — ask a "
                      "supervisor to reassign it")
        if action == "followup.reassign" and fu is not None:
            if not self._reaches(staff, fu.owner, fu.department):
                return f"{me} may not reassign {fu.code}: its owner {fu.owner} is not in {me}'s ladder"
            if target_staff is not None and not (target_staff.code == me or self._below(me, target_staff.code)
                                                 or self._dept_manager(staff, target_staff.dept)):
                return f"{me} may not give {fu.code} to {target_staff.code}: not in {me}'s ladder"
            return None
        if action == "staff.unlock" and target_staff is not None:
            if self._below(me, target_staff.code) or self._dept_manager(staff, target_staff.dept):
                return None
            return f"{me} may not unlock {target_staff.code}: not in {me}'s ladder"
        if action == "ticket.resolve" and ticket is not None:
            if ticket.owner == me or (staff.dept and staff.dept == ticket.department) or \
                    self._dept_manager(staff, ticket.department):
                return None
            return f"{me} may not resolve {ticket.code}: it belongs to department {ticket.department}"
        if action in ("subject.read", "subject.export") and subject:
            if staff.role == "auditor":
                return None
            if self.reaches_subject(staff, subject):
                return None
            return (f"{me} may not read subject {subject}'s personal data: none of their follow-ups is "
                    f"owned by {me} or below {me} in the ladder")
        return None

    def _below(self, me: str, code: str | None) -> bool:
        return code is not None and code != "" and me in self.app.ladder(code)

    def _dept_manager(self, staff: Any, dept: str | None) -> bool:
        return staff.role == "manager" and (staff.dept is None or (dept is not None and dept == staff.dept))

    def _reaches(self, staff: Any, owner: str | None, dept: str | None) -> bool:
        me = staff.code
        if owner == me:
            return True
        if owner is None and dept and staff.dept == dept:
            return True  # the department's pool
        if staff.role in ("supervisor", "manager") and self._below(me, owner):
            return True
        return self._dept_manager(staff, dept)

    def reaches_subject(self, staff: Any, subject: str) -> bool:
        return any(self._reaches(staff, owner, dept) for owner, dept in self.subject_owners(subject))

    def subject_owners(self, subject: str) -> list[tuple[str | None, str | None]]:
        return self.app.read_side.followup_owners(subject)

    def subject_departments(self, subject: str) -> set[str]:
        return {d for _, d in self.subject_owners(subject) if d}

    # -- the net under every commit ---------------------------------------------------------------------
    def guard(self, aggregates: tuple[Any, ...]) -> None:
        """Whatever command or plugin writes: an auditor's change is refused; in enforced mode so is a
        change by `cli` or by someone who is not registered staff (system = timers may write)."""
        from .audit.trail import AUDIT_TRAIL

        actors: set[str] = {actor for a in aggregates if not isinstance(a, AUDIT_TRAIL)
                            for e in getattr(a, "pending_events", ()) if (actor := getattr(e, "actor", None))}
        for actor in sorted(actors):
            staff = self.staff(actor)
            if staff is not None and staff.role == "auditor":
                raise self.deny(actor, "write", "", f"{actor} is an auditor: auditors change nothing")
            if staff is None and actor != "system" and self.enforced():
                raise self.deny(actor, "write", "", f"access control is on: name the staff member acting with "
                                                    f"--as STAFF_ID (or HUIFANG_ACTOR); '{actor}' may not change "
                                                    f"records")
