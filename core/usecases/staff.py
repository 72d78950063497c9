"""Staff: who works follow-ups, and the reporting ladder escalations (G13) and unlocks (A4) climb."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..contract import ROLES
from ..domain import Staff
from ..errors import HuifangError, Refused
from . import need_code

if TYPE_CHECKING:
    from ..services import App


def add_staff(app: App, code: str, name: str, role: str, dept: str | None = None,
              reports_to: str | None = None, actor: str = "cli") -> Staff:
    need_code(code, "staff ID")
    if role not in ROLES:
        raise HuifangError(f"'{role}' is not one of {', '.join(ROLES)}", field="role")
    if app.find(Staff, code):
        raise Refused(f"staff '{code}' already exists")
    if reports_to:
        if reports_to == code:
            raise HuifangError("a staff member cannot report to themself", field="reports_to")
        app.load(Staff, reports_to, "staff", field="reports_to")
    app.access.require(actor, "staff.add", target=f"staff {code}")
    staff = Staff(code=code, name=name, role=role, dept=dept, reports_to=reports_to, actor=actor)
    changed: list[Any] = [staff]
    if role == "admin" and not app.access.enforced():  # G8: the first admin turns access control on
        from ..audit.trail import AccessPolicy

        changed.append(AccessPolicy(admin=code, actor=actor))
    app.commit(*changed)
    return staff


def ladder(app: App, code: str) -> list[str]:
    """Supervisors of a staff member, nearest first."""
    chain: list[str] = []
    current = app.find(Staff, code)
    while current is not None and current.reports_to and current.reports_to not in chain:
        chain.append(current.reports_to)
        current = app.find(Staff, current.reports_to)
    return chain
