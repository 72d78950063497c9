"""Roles and permissions (G8, G9): who may do what, and the record of every refusal.

Roles (contract.ROLES) and what each may do, in which scope: the one table in policy.py (also the
README's role table, `python -m huifang.core.policy --markdown`); this module enforces it.

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
from .policy import ANY, DEPARTMENT, LADDER, ORG_WIDE, POLICY, SUBJECT_DEPT
from .ports import ReadSide

ANONYMOUS = ("cli", "system")

# action -> (roles allowed in enforced mode, human label): the policy table (policy.py) as the checks read it
ACTIONS: dict[str, tuple[frozenset[str], str]] = {a: (frozenset(r.roles), r.label) for a, r in POLICY.items()}
READS = frozenset(a for a, r in POLICY.items() if r.read)


A = TypeVar("A")


class Records(Protocol):
    """What access control reads and writes of its application (HuifangApp conforms)."""

    def find(self, cls: type[A], code: str) -> A | None: ...

    def find_by_id(self, uid: Any) -> Any | None: ...

    def commit_trail(self, *aggregates: Any) -> None: ...

    def ladder(self, code: str) -> list[str]: ...

    def unlockers(self, staff: Any) -> str:
        """Who may lift an A4 lock of `staff`, and how, in words."""
        ...

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
        self._recorders: dict[str, str | None] = {}
        self._delegated: dict[str, str] = {}  # actor -> the one follow-up it may work on (on_behalf)

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

    @contextlib.contextmanager
    def on_behalf(self, actor: str, followup: str) -> Iterator[None]:
        """A subject answering their own survey through a verified link (core/usecases/invites.py):
        inside the block `actor` (e.g. `subject:web`, never registered staff) may work on that one
        follow-up and write what it changes; anything else it tries is refused and recorded. No
        command line reaches this: only the link's use case enters it, after checking the link."""
        before = dict(self._delegated)
        self._delegated[actor] = followup
        try:
            yield
        finally:
            self._delegated = before

    def renewed(self) -> Access:
        """A fresh Access for the next command of a long-lived application (`huifang serve`): staff roles
        and A4 locks are read afresh; enforced mode, once seen on, is kept (it is never switched off)."""
        fresh = Access(self.app)
        fresh._enforced = self._enforced
        return fresh

    def enforced(self) -> bool:
        if not self._enforced and not self._pinned:
            from .audit.trail import AccessPolicy

            # G8: also on when the sealed high-water mark says so: cutting the AccessPolicy record
            # off the end of the log does not switch access control off
            sealed = getattr(getattr(self.app, "recorder", None), "sealed_enforced", None)
            self._enforced = self.app.find_by_id(AccessPolicy.create_id()) is not None or bool(sealed and sealed())
        return self._enforced

    def staff(self, actor: str) -> Any:
        if actor in ANONYMOUS or actor in self._delegated:
            return None
        if actor not in self._roles:
            from .domain import Staff

            self._roles[actor] = self.app.find(Staff, actor)
        return self._roles[actor]

    def registered(self, actor: str, action: str, target: str) -> Any:
        """The staff member acting (None for cli/system); a name that is not registered staff is
        refused in any mode, and the refusal recorded like every other (G8)."""
        staff = self.staff(actor)
        if staff is None and actor not in ANONYMOUS and actor not in self._delegated:
            raise self.deny(actor, action, target, f"staff '{actor}' is not registered (huifang staff add {actor} ...)",
                            field="actor")
        return staff

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
        refused = self.refusal(actor, action, fu=fu, subject=subject, ticket=ticket, target_staff=target_staff,
                               target=target)
        if refused is not None:
            raise self.deny(actor, action, _target(target, fu, ticket, subject), refused[0], field=refused[1])
        return self.staff(actor)

    def refusal(self, actor: str, action: str, *, fu: Any = None, subject: str | None = None,
                ticket: Any = None, target_staff: Any = None, target: str = "") -> tuple[str, str | None] | None:
        """Why `require` would refuse (message, field), recording nothing; None: it would allow. For a
        command that must name another refusal first when there is one (subject add: an existing id)."""
        roles, label = ACTIONS[action]
        what = _target(target, fu, ticket, subject)
        staff = self.staff(actor)
        if actor in self._delegated:  # a subject through their link: that follow-up's work, nothing else
            if action == "followup.work" and fu is not None and fu.code == self._delegated[actor]:
                return None
            return f"{actor} may only answer follow-up {self._delegated[actor]}", None
        if actor not in ANONYMOUS and staff is None and (self.enforced() or action in READS):
            return f"'{actor}' is not registered staff (huifang staff add {actor} ...)", "actor"
        if staff is not None and staff.role == "auditor" and action not in READS:
            return (f"{actor} is an auditor: auditors read history and reports "
                    f"but change nothing (may not {label} {what})".strip()), None
        if staff is not None and POLICY[action].locked and getattr(staff, "lock", None):  # A4, in any mode
            return (f"A4: {actor} is locked (level {staff.lock['level']}, overdue "
                    f"{', '.join(staff.lock['followups'][:3])}): {self.app.unlockers(staff)}"), None
        if not self.enforced():
            return None
        if staff is None:
            return (f"access control is on: name the staff member acting with --as "
                    f"STAFF_ID (or HUIFANG_ACTOR); '{actor}' may not {label} {what}"), None
        if staff.role not in roles:
            return (f"{actor} is {staff.role}: only {', '.join(sorted(roles))} may "
                    f"{label} {what}".replace("  ", " ").strip()), None
        scope = self._scope(staff, action, fu=fu, subject=subject, ticket=ticket, target_staff=target_staff)
        return (scope, None) if scope else None

    def _scope(self, staff: Any, action: str, fu: Any, subject: str | None, ticket: Any,
               target_staff: Any) -> str | None:
        """Why the policy's scope for the staff member's role does not reach the record (None = it does)."""
        scope = POLICY[action].roles[staff.role]
        me, label = staff.code, POLICY[action].label
        if scope == ANY:
            return None
        if action == "followup.reassign" and fu is not None:
            if not self._within(staff, scope, fu.owner, fu.department):
                return f"{me} may not reassign {fu.code}: its owner {fu.owner} is not in {me}'s ladder"
            if target_staff is not None and not (target_staff.code == me or self._below(me, target_staff.code)
                                                 or self._whole_department(staff, scope, target_staff.dept)):
                return f"{me} may not give {fu.code} to {target_staff.code}: not in {me}'s ladder"
            return None
        if action == "staff.unlock" and target_staff is not None:
            if self._below(me, target_staff.code) or self._whole_department(staff, scope, target_staff.dept):
                return None
            return f"{me} may not unlock {target_staff.code}: not in {me}'s ladder"
        if fu is not None:
            if self._within(staff, scope, fu.owner, fu.department):
                return None
            if action != "followup.work":
                return f"{me} may not {label} {fu.code}: its owner {fu.owner or 'nobody'} is not in {me}'s {scope}"
            return (f"{me} may not work on {fu.code}: it is owned by {fu.owner or 'nobody'}"
                    + (f" (department {fu.department})" if fu.department else "")
                    + "; agents act only on their own or their department's unowned follow-ups — ask a "
                      "supervisor to reassign it")
        if ticket is not None:
            if self._within(staff, scope, ticket.owner, ticket.department):
                return None
            return f"{me} may not resolve {ticket.code}: it belongs to department {ticket.department}"
        if subject and scope == SUBJECT_DEPT:
            depts = self.subject_departments(subject)
            if not depts or staff.dept in depts or (staff.dept is None and staff.role in ORG_WIDE):
                return None
            who = " or ".join(sorted(r for r, sc in POLICY[action].roles.items() if sc == SUBJECT_DEPT))
            rule = "F6" if action == "subject.exempt" else "G8"
            return (f"{rule}: only a {who} of the data-owning department ({', '.join(sorted(depts))}) may {label} "
                    f"subject {subject}")
        if subject:
            if self.reaches_subject(staff, subject, scope):
                return None
            if action in ("subject.read", "subject.export"):
                return (f"{me} may not read subject {subject}'s personal data: none of their follow-ups is "
                        f"owned by {me} or below {me} in the ladder")
            return (f"{me} may not {label} subject {subject}: none of their follow-ups is owned by {me}, "
                    f"below {me} in the ladder" + (" or in their department" if scope == DEPARTMENT else ""))
        return None

    def _below(self, me: str, code: str | None) -> bool:
        return code is not None and code != "" and me in self.app.ladder(code)

    def _whole_department(self, staff: Any, scope: str, dept: str | None) -> bool:
        """The department scope: every record of their department (ORG_WIDE roles without one: all)."""
        if scope != DEPARTMENT:
            return False
        if staff.dept is None:
            return staff.role in ORG_WIDE
        return dept is not None and dept == staff.dept

    def _within(self, staff: Any, scope: str, owner: str | None, dept: str | None) -> bool:
        """Whether `scope` (policy.py) reaches a record owned by `owner` in department `dept`."""
        if scope == ANY:
            return True
        me = staff.code
        if owner == me or (owner is None and dept and staff.dept == dept):  # own, or the department's pool
            return True
        if scope in (LADDER, DEPARTMENT) and self._below(me, owner):
            return True
        return self._whole_department(staff, scope, dept)

    def reaches_subject(self, staff: Any, subject: str, scope: str | None = None) -> bool:
        """Whether the staff member's scope (default: for reading) reaches one of the subject's follow-ups.
        A follow-up planned by a trigger they recorded themself does not count: naming oneself the
        responsible nurse grants no read of the subject's file or earlier history (G8)."""
        scope = scope or POLICY["subject.read"].roles.get(staff.role)
        if scope is None:
            return False
        if scope == ANY:
            return True
        return any(self._within(staff, scope, owner, dept)
                   for owner, dept in self.subject_owners(subject, excluding=staff.code))

    def subject_owners(self, subject: str, excluding: str | None = None) -> list[tuple[str | None, str | None]]:
        """Owner and department of each of the subject's follow-ups, as their aggregates say (G8): the
        views only name the candidates, so a view row edited to grant access grants nothing. With
        `excluding`, follow-ups of triggers that staff member recorded are left out."""
        from .domain import FollowUp

        owners: set[tuple[str | None, str | None]] = set()
        for code in {r.code for r in self.app.read_side.followup_records(subject)}:
            fu = self.app.find(FollowUp, code)
            if fu is not None and fu.subject == subject:
                if excluding is not None and self.recorded_by(fu.trigger) == excluding:
                    continue
                owners.add((fu.owner, fu.department))
        return sorted(owners, key=lambda o: (o[0] or "", o[1] or ""))

    def subject_departments(self, subject: str) -> set[str]:
        return {d for _, d in self.subject_owners(subject) if d}

    def recorded_by(self, trigger: str) -> str | None:
        """Who recorded a trigger (kept: a trigger's recorder never changes)."""
        if trigger not in self._recorders:
            from .domain import Trigger

            found = self.app.find(Trigger, trigger)
            self._recorders[trigger] = getattr(found, "recorded_by", None)
        return self._recorders[trigger]

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
            if staff is None and actor != "system" and actor not in self._delegated and self.enforced():
                raise self.deny(actor, "write", "", f"access control is on: name the staff member acting with "
                                                    f"--as STAFF_ID (or HUIFANG_ACTOR); '{actor}' may not change "
                                                    f"records")


def _target(target: str, fu: Any, ticket: Any, subject: str | None) -> str:
    """What a refusal names: the given target, else the follow-up, ticket or subject acted on."""
    return target or (f"follow-up {fu.code}" if fu is not None else f"ticket {ticket.code}" if ticket is not None
                      else f"subject {subject}" if subject else "")
