"""Staff: owners of follow-ups, the supervisor ladder, and the A4 overdue lock."""
from __future__ import annotations

from typing import Any

from eventsourcing.domain import event

from .base import Base, aggregate_uuid


class Staff(Base):
    # the platform identities that authenticate this staff member (G8); class defaults keep staff
    # registered before identities existed (and their snapshots) readable
    db_role: str | None = None
    os_user: str | None = None
    password_hash: str | None = None  # the dashboard password's argon2id hash (`staff password`); never the password

    class Registered(Base.Created):
        code: str
        name: str
        role: str
        dept: str | None
        reports_to: str | None
        actor: str

    @event(Registered)
    def __init__(self, code: str, name: str, role: str, dept: str | None, reports_to: str | None,
                 actor: str):
        self.code = code
        self.name = name
        self.role = role
        self.dept = dept
        self.reports_to = reports_to
        self.lock: dict | None = None  # {"level": 1|2|3, "followups": [...], "since": iso}
        self.reports: list[dict] = []  # approved rectification reports (A4 hard lock)
        self.cleared: dict[str, int] = {}  # follow-up -> lock level already unlocked (no re-lock)

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("staff", code)

    class Locked(Base.Event):
        level: int
        followups: list
        days_overdue: int
        actor: str

    @event(Locked)
    def lock_at(self, level: int, followups: list, days_overdue: int, actor: str) -> None:
        self.lock = {"level": level, "followups": list(followups), "days_overdue": days_overdue}

    class RectificationApproved(Base.Event):
        """A4 hard lock: the rectification report (file hash, follow-ups it addresses) approved."""

        report: dict
        actor: str

    @event(RectificationApproved)
    def approve_rectification(self, report: dict, actor: str) -> None:
        pass

    class Unlocked(Base.Event):
        level: int
        report: dict | None
        actor: str

    @event(Unlocked)
    def unlock(self, level: int, report: dict | None, actor: str) -> None:
        for f in (self.lock or {}).get("followups", []):
            self.cleared[f] = level
        self.lock = None
        if report:
            self.reports.append(report)

    class Reassigned(Base.Event):
        """Staff changed role, department or supervisor."""

        changes: dict
        actor: str

    @event(Reassigned)
    def change(self, changes: dict, actor: str) -> None:
        for k, v in changes.items():
            setattr(self, k, v)

    class IdentityBound(Base.Event):
        """G8: the PostgreSQL login role and/or operating-system user that authenticate this staff
        member; the CLI then acts as them without `--as` and refuses `--as` naming anyone else."""

        db_role: str | None
        os_user: str | None
        actor: str

    @event(IdentityBound)
    def bind_identity(self, db_role: str | None, os_user: str | None, actor: str) -> None:
        self.db_role = db_role
        self.os_user = os_user

    class PasswordSet(Base.Event):
        """G8: the password the staff member signs in to the dashboard with, as its argon2id hash (salted,
        memory-hard): the password itself is never stored; a new one ends the sessions of the old one."""

        password_hash: str
        actor: str

    @event(PasswordSet)
    def set_password(self, password_hash: str, actor: str) -> None:
        self.password_hash = password_hash


class Login(Base):
    """One platform identity (kind `db_role` or `os_user`) and the staff member it authenticates.

    An aggregate per identity (the id is derived from kind and name) makes the lookup at every
    command one read, and makes binding one identity to two staff members impossible: a second,
    concurrent binding conflicts on commit."""

    class Bound(Base.Created):
        kind: str
        name: str
        staff: str | None
        actor: str

    @event(Bound)
    def __init__(self, kind: str, name: str, staff: str | None, actor: str):
        self.kind = kind
        self.name = name
        self.staff = staff

    @staticmethod
    def create_id(kind: str, name: str) -> Any:
        return aggregate_uuid("login", f"{kind}:{name}")

    class Rebound(Base.Event):
        staff: str | None  # None: released (the staff member was bound to another identity)
        actor: str

    @event(Rebound)
    def rebind(self, staff: str | None, actor: str) -> None:
        self.staff = staff


class Department(Base):
    """A department and its head (G12: a ticket routed to the department is owned by its head).

    One aggregate per department name (the id is derived from it), so finding the head of a ticket's
    department is one read; set by `staff add --head-of DEPT` or `staff head DEPT STAFF_ID`."""

    class Registered(Base.Created):
        name: str
        head: str
        actor: str

    @event(Registered)
    def __init__(self, name: str, head: str, actor: str):
        self.name = name
        self.head = head

    @staticmethod
    def create_id(name: str) -> Any:
        return aggregate_uuid("department", name)

    class HeadChanged(Base.Event):
        head: str
        actor: str

    @event(HeadChanged)
    def change_head(self, head: str, actor: str) -> None:
        self.head = head
