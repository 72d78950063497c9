"""Staff: who works follow-ups, and the reporting ladder escalations (G13) and unlocks (A4) climb."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..contract import ROLES
from ..domain import Staff
from ..domain.staff import Department, Login
from ..errors import HuifangError, Refused
from ..labels import resolve
from . import need_code

if TYPE_CHECKING:
    from ..services import App


def add_staff(app: App, code: str, name: str, role: str, dept: str | None = None,
              reports_to: str | None = None, actor: str = "cli", db_role: str | None = None,
              os_user: str | None = None, head_of: list[str] | None = None) -> Staff:
    need_code(code, "staff ID")
    role = resolve("role", role, ROLES, "role")  # the code, 回访员 or Agent
    if app.find(Staff, code):
        raise Refused(f"staff '{code}' already exists")
    if reports_to:
        if reports_to == code:
            raise HuifangError("a staff member cannot report to themself", field="reports_to")
        app.load(Staff, reports_to, "staff", field="reports_to")
    app.access.require(actor, "staff.add", target=f"staff {code}")
    staff = Staff(code=code, name=name, role=role, dept=dept, reports_to=reports_to, actor=actor)
    changed: list[Any] = [staff, *_bind(app, staff, db_role, os_user, actor)]  # the staff member, then logins
    changed += [_headed(app, d, code, actor) for d in dict.fromkeys(head_of or [])]  # G12 ticket owners
    if role == "admin" and not app.access.enforced():  # G8: the first admin turns access control on
        from ..audit.trail import AccessPolicy

        changed.append(AccessPolicy(admin=code, actor=actor))
    app.commit(*changed)
    return staff


def bind_identity(app: App, code: str, db_role: str | None, os_user: str | None, actor: str = "cli") -> Staff:
    """G8: bind a staff member to the PostgreSQL login role and/or OS user that authenticate them
    (an admin's act once access control is on); a value of "" removes that binding."""
    if db_role is None and os_user is None:
        raise HuifangError("name the identity to bind: --db-role ROLE and/or --os-user USER", field="db_role")
    staff = app.load(Staff, code, "staff")
    app.access.require(actor, "staff.add", target=f"staff {code}")
    logins = _bind(app, staff, db_role, os_user, actor)
    if logins:
        app.commit(staff, *logins)
    return staff


def _bind(app: App, staff: Staff, db_role: str | None, os_user: str | None, actor: str) -> list[Any]:
    """Record the given bindings (None: unchanged, "": unbound) as the staff member's IdentityBound
    event; returns the Login records (one per identity) to save with it, [] if nothing changes."""
    want = {"db_role": staff.db_role if db_role is None else (db_role.strip() or None),
            "os_user": staff.os_user if os_user is None else (os_user.strip() or None)}
    changed: list[Any] = []
    for kind, name in want.items():
        old = getattr(staff, kind)
        if name == old:
            continue
        if name is not None:
            need_code(name, field=kind)
            login = app.find_by_id(Login.create_id(kind, name))
            if login is not None and login.staff not in (None, staff.code):
                label = "database role" if kind == "db_role" else "OS user"
                raise Refused(f"{label} '{name}' already authenticates staff {login.staff}; "
                              f"unbind it there first (huifang staff bind {login.staff} --{kind.replace('_', '-')} '')")
            if login is None:
                login = Login(kind=kind, name=name, staff=staff.code, actor=actor)
            else:
                login.rebind(staff=staff.code, actor=actor)
            changed.append(login)
        if old is not None:
            previous = app.find_by_id(Login.create_id(kind, old))
            if previous is not None and previous.staff == staff.code:
                previous.rebind(staff=None, actor=actor)
                changed.append(previous)
    if changed:
        staff.bind_identity(db_role=want["db_role"], os_user=want["os_user"], actor=actor)
    return changed


def set_head(app: App, dept: str, code: str, actor: str = "cli") -> Department:
    """G12: make a staff member the head of a department (tickets to it are theirs)."""
    app.load(Staff, code, "staff")
    app.access.require(actor, "staff.add", target=f"department {dept}")
    department = _headed(app, dept, code, actor)
    app.commit(department)
    return department


def _headed(app: App, dept: str, code: str, actor: str) -> Department:
    """The department record with `code` as its head (not saved)."""
    dept = (dept or "").strip()
    if not dept or len(dept) > 100:
        raise HuifangError("name the department (1-100 characters)", field="head_of")
    department = app.find_by_id(Department.create_id(dept))
    if department is None:
        return Department(name=dept, head=code, actor=actor)
    if department.head != code:
        department.change_head(head=code, actor=actor)
    return department


def department_head(app: App, dept: str | None) -> str | None:
    """The head of a department (G12), None if none was named."""
    department = app.find_by_id(Department.create_id(dept)) if dept else None
    return department.head if department is not None else None


def ladder(app: App, code: str) -> list[str]:
    """Supervisors of a staff member, nearest first."""
    chain: list[str] = []
    current = app.find(Staff, code)
    while current is not None and current.reports_to and current.reports_to not in chain:
        chain.append(current.reports_to)
        current = app.find(Staff, current.reports_to)
    return chain


# -- dashboard passwords (G8) ---------------------------------------------------------------------------
MIN_PASSWORD = 10  # characters; argon2id makes guessing slow, length makes it hopeless


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current (RFC 9106 low-memory) parameters


def set_password(app: App, code: str, password: str, actor: str = "cli") -> Staff:
    """Set the password a staff member signs in to the dashboard with: their own, or anyone's as an
    admin. Stored as a PasswordSet event holding the argon2id hash, never the password."""
    staff = app.load(Staff, code, "staff")
    if actor != code:
        app.access.require(actor, "staff.add", target=f"password of staff {code}")
    else:
        app.access.registered(actor, "staff.add", f"password of staff {code}")
    if len(password) < MIN_PASSWORD:
        raise HuifangError(f"at least {MIN_PASSWORD} characters", field="password")
    if password != password.strip():
        raise HuifangError("no spaces at the start or end", field="password")
    if password.strip() in (code, staff.name):
        raise HuifangError("not the staff id or name", field="password")
    staff.set_password(password_hash=_hasher().hash(password), actor=actor)
    app.commit(staff)
    return staff


def check_password(app: App, code: str, password: str) -> Staff | None:
    """The staff member if `password` is theirs, else None (no password set, unknown id or wrong one);
    the same argon2 work is done either way, so the answer's timing tells nothing about the id."""
    from argon2.exceptions import InvalidHashError, VerificationError

    staff = app.find(Staff, code) if code else None
    stored = getattr(staff, "password_hash", None) if staff is not None else None
    hasher = _hasher()
    try:
        hasher.verify(stored or _DUMMY.get(hasher), password)
    except (VerificationError, InvalidHashError):
        return None
    return staff if stored else None


class _Dummy:
    """A hash of a random password to verify against when there is none (constant work)."""

    value: str | None = None

    def get(self, hasher: Any) -> str:
        if self.value is None:
            import secrets

            self.value = str(hasher.hash(secrets.token_urlsafe(16)))
        return self.value


_DUMMY = _Dummy()
