"""`huifang ticket list`: tickets (问题件, G12) from the tickets view, soonest deadline first. A row
names the subject by code only (no personal data: nothing to record)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from huifang.core.plugin_api.views import tickets

if TYPE_CHECKING:
    from huifang.core.application import HuifangApp

OPEN_STATUSES = ("open",)  # not yet resolved by the department


def ticket_rows(app: HuifangApp, owner: str | None = None, dept: str | None = None, open_only: bool = False,
                limit: int | None = None) -> list[dict[str, Any]]:
    """Tickets of `owner` (or of `dept`), open ones only with `open_only`; instants as stored (UTC ISO)."""
    t = tickets.c
    query = select(t.code, t.followup, t.subject, t.plugin, t.category, t.department, t.severity, t.owner,
                   t.status, t.opened_at, t.deadline, t.resolved_at, t.second_followup).order_by(t.deadline, t.code)
    if owner is not None:
        query = query.where(t.owner == owner)
    if dept is not None:
        query = query.where(t.department == dept)
    if open_only:
        query = query.where(t.status.in_(OPEN_STATUSES))
    if limit:
        query = query.limit(limit)
    side: Any = app.read_side
    side.catch_up()
    with side.engine.connect() as conn:
        return [{"id": r.code, "followup": r.followup, "subject": r.subject, "plugin": r.plugin,
                 "category": r.category, "department": r.department, "severity": r.severity, "owner": r.owner,
                 "status": r.status, "opened_at": r.opened_at, "deadline": r.deadline,
                 "resolved_at": r.resolved_at, "second_followup": r.second_followup}
                for r in conn.execute(query)]
