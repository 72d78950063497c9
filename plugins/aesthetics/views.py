"""Read view of batch campaigns (A7) for `huifang campaign list`, fed from the notification log."""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, update
from sqlalchemy.engine import Connection

from huifang.projections.core_views import ts
from huifang.projections.engine import View

metadata = MetaData()
campaigns = Table(
    "aesthetics_campaigns", metadata,
    Column("id", String(40), primary_key=True),
    Column("code", String(100), nullable=False, index=True),
    Column("title", String(300)),
    Column("department", String(100)),
    Column("status", String(20), nullable=False),
    Column("targets", Integer, nullable=False, default=0),
    Column("owner", String(100)),
    Column("requester", String(100)),
    Column("reviewer", String(100)),
    Column("approver", String(100)),
    Column("missing", JSON),
    Column("followups", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("requested_at", String(30)),
    Column("updated_at", String(30)),
)


def _count_targets(plan: dict) -> int:
    t = plan.get("targets")
    return len(t) if isinstance(t, list) else 0


class CampaignView(View):
    name = "aesthetics_campaigns"
    version = 1
    metadata = metadata
    topics = frozenset("huifang:Campaign." + n for n in
                       ("Requested", "Resubmitted", "Returned", "Reviewed", "Approved"))

    def handle(self, conn: Connection, e: Any, notification_id: int) -> None:
        name = type(e).__qualname__.split(".")[-1]
        key = str(e.originator_id)
        at = ts(e.timestamp)
        c = campaigns.c
        if name == "Requested":
            conn.execute(campaigns.insert(), dict(
                id=key, code=e.code, title=e.title, department=e.department, status="requested",
                targets=_count_targets(e.plan), owner=e.plan.get("owner"), requester=e.actor, missing=[],
                followups=0, skipped=0, requested_at=at, updated_at=at))
            return
        values: dict[str, Any] = {"updated_at": at}
        if name == "Resubmitted":
            values.update(title=e.title, department=e.department, status="requested", missing=[],
                          targets=_count_targets(e.plan), owner=e.plan.get("owner"), requester=e.actor)
        elif name == "Returned":
            values.update(status="returned", missing=list(e.missing))
        elif name == "Reviewed":
            values.update(status="reviewed", reviewer=e.actor)
        elif name == "Approved":
            values.update(status="approved", approver=e.actor, followups=len(e.followups),
                          skipped=len(e.skipped))
        conn.execute(update(campaigns).where(c.id == key).values(values))
