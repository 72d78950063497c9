"""G15: per-agent rates (KPI) credit whoever completed or closed a follow-up worked from a department's
call-centre pool (no owner); the pool is not an agent and is docked no KPI point."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from huifang.core import clock
from huifang.core.config import Config
from huifang.core.contract import PlannedVisit, SurveyTemplate, TriggerKind, VisitType, satisfaction_question
from huifang.core.plugin_api import hookimpl


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _CallCentre:
    """A plugin whose follow-ups go to the call centre's pool: no owner, the department's agents work them."""

    name = "pool"

    @hookimpl
    def huifang_trigger_kinds(self):
        return [TriggerKind(name="sold", attributes=_Policy)]

    @hookimpl
    def huifang_visit_types(self):
        return [VisitType(name="callback", survey=SurveyTemplate(key="cb", title="回访",
                                                                 questions=[satisfaction_question()]))]

    @hookimpl
    def huifang_plan(self, trigger, subject, settings, scheduler, history):
        return [PlannedVisit(key="1", visit_type="callback", owner=None, department="callcentre",
                             window_open=trigger.at, due=trigger.at + timedelta(days=3))]


def at(text: str) -> Any:
    return clock.at(clock.parse_instant(text))


def test_G15_pool_followups_are_credited_to_the_agent_who_worked_them(hf):
    from huifang.projections import open_app
    from huifang.projections.render import build

    cfg = Config.model_validate({"huifang": {"plugins": ["pool"]}})
    app = open_app(hf.db, cfg, extra_plugins={"pool": _CallCentre()})
    try:
        with at("2026-11-02T09:00+08:00"):  # a Monday
            app.add_staff("sup", "主管", "supervisor", "callcentre")
            app.add_staff("ag1", "坐席一", "agent", "callcentre", "sup")
            app.add_staff("ag2", "坐席二", "agent", "callcentre", "sup")
            codes = []
            for s in ("C1", "C2", "C3"):
                app.add_subject(s, f"客户{s}", ["13800000000"])
                codes.append(app.receive_trigger("pool.sold", s, {}, trigger_id=s)[1][0].code)
        c1, c2, _ = codes  # C3: nobody works it
        with at("2026-11-02T10:10+08:00"):
            app.record_attempt(c1, "phone", "reached", actor="ag1")
            app.complete(c1, {"satisfaction": "满意"}, actor="ag1")
        for when in ("2026-11-02T10:20+08:00", "2026-11-02T15:20+08:00", "2026-11-03T10:20+08:00"):
            with at(when):
                app.record_attempt(c2, "phone", "no_answer", actor="ag2")
        with at("2026-11-03T10:30+08:00"):
            app.close_followup(c2, "lost", "no_answer", actor="ag2")
        with at("2026-11-09T09:00+08:00"):
            app.projector.catch_up()
            with app.projector.engine.connect() as conn:
                doc = build(app, conn, "rates", by=["agent"], date_from=date(2026, 11, 1),
                            date_to=date(2026, 11, 30), fmt="json", now=clock.now())
    finally:
        app.close()
    rows = {r["agent"]: r for r in doc.rows}
    assert set(rows) == {"ag1", "ag2", None}
    assert (rows["ag1"]["due"], rows["ag1"]["completed"], rows["ag1"]["kpi_deduction"]) == (1, 1, 0)
    assert (rows["ag2"]["due"], rows["ag2"]["lost"], rows["ag2"]["kpi_deduction"]) == (1, 1, 20)
    assert (rows[None]["due"], rows[None]["overdue"], rows[None]["kpi_deduction"]) == (1, 1, None)  # the pool
