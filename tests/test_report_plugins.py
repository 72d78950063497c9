"""Plugin reports and views through the hooks (`huifang_reports`, `huifang_report_views`): listed and
run by name with no per-plugin code, rendered in every format, included in the management report;
and every report of the installed verticals runs on `huifang demo` data in every format."""
from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from huifang.core.config import Config
from huifang.core.plugin_api import hookimpl
from huifang.projections import open_app
from huifang.projections.catalog import catalog
from huifang.projections.engine import View
from huifang.projections.render import FORMATS, build, render
from huifang.projections.reports import Report, ReportContext, ratio
from tests.conftest import Huifang
from tests.test_report_scenario import NOW, Clinic, _build, at

meta = MetaData()
calls = Table("plugin_calls", meta, Column("agent", String(50), primary_key=True), Column("attempts", Integer),
              Column("reached", Integer))


class CallsView(View):
    """A plugin's own view: attempts and reached attempts per agent."""

    name = "extra_calls"
    version = 1
    metadata = meta
    topics = frozenset({"huifang:FollowUp.AttemptRecorded"})

    def handle(self, conn: Any, e: Any, notification_id: int) -> None:
        row = conn.execute(select(calls).where(calls.c.agent == e.actor)).first()
        hit = int(e.outcome == "reached")
        if row:
            conn.execute(calls.update().where(calls.c.agent == e.actor).values(
                attempts=row.attempts + 1, reached=row.reached + hit))
        else:
            conn.execute(calls.insert().values(agent=e.actor, attempts=1, reached=hit))


class ContactReport(Report):
    name = "contact"
    title = "接通率 Contact rate per agent"
    rules = ["G5"]
    dimensions = ("agent",)

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        return [{"agent": r.agent, "attempts": r.attempts, "reached": r.reached,
                 "contact_rate": ratio(r.reached, r.attempts)}
                for r in ctx.conn.execute(select(calls).order_by(calls.c.agent))]


class ShadowRates(Report):
    """Same bare name as an engine report: reachable only as 'extra.rates'."""

    name = "rates"
    title = "shadow"
    in_management_report = False

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        return [{"shadow": True}]


class Extra:
    name = "extra"

    @hookimpl
    def huifang_report_views(self):
        return [CallsView()]

    @hookimpl
    def huifang_reports(self):
        return [ContactReport(), ShadowRates()]


@pytest.fixture
def app(db):
    a = open_app(db, Config.model_validate({"huifang": {"plugins": ["clinic", "extra"]}}),
                   extra_plugins={"clinic": Clinic(), "extra": Extra()})
    _build(a)
    yield a
    a.close()


def test_plugin_report_listed_and_run_generically_in_every_format(app):
    entries = catalog(app)
    assert entries["contact"].owner == "extra" and entries["extra.contact"].report is entries["contact"].report
    assert entries["rates"].owner == "core" and entries["extra.rates"].owner == "extra"
    assert "extra_calls" in app.projector.views
    with at(NOW):
        app.projector.catch_up()
        with app.projector.engine.connect() as conn:
            doc = build(app, conn, "contact", fmt="json")
            rows = json.loads(render(doc, "json"))["rows"]
            # agA: A6 1, A1 1, A2 2, A3 1, A4 3, A5 1, S4 1 attempts; reached A6 A1 A2 A3 S4
            assert one(rows, "agA") == {"agent": "agA", "attempts": 10, "reached": 5, "contact_rate": 0.5}
            for fmt in FORMATS:
                data = build(app, conn, "contact", fmt=fmt)
                out = render(data, fmt)
                assert out, fmt
            from openpyxl import load_workbook

            ws = load_workbook(io.BytesIO(render(build(app, conn, "contact", fmt="xlsx"), "xlsx"))).active
            assert [list(r) for r in ws.iter_rows(values_only=True)][1:] == [list(r.values()) for r in rows]
            assert json.loads(render(build(app, conn, "extra.rates", fmt="json"), "json"))["rows"] == [
                {"shadow": True}]
            monthly = build(app, conn, "monthly", fmt="json", date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
            names = [s.name for s in monthly.sections]
            assert "extra.contact" in names and "extra.rates" not in names


def one(rows: list[dict[str, Any]], agent: str) -> dict[str, Any]:
    (r,) = [r for r in rows if r["agent"] == agent]
    return r


@pytest.mark.slow  # scale: a full demo, every report in every format
def test_demo_every_listed_report_runs_in_every_format(sqlite_db, tmp_path):
    """Integration: the installed verticals' reports on `huifang demo` data, by name, every format."""
    h = Huifang(sqlite_db, now="2026-11-23T16:00:00+08:00")
    h.ok("demo", "--subjects", "90", "--days", "75")
    kinds = [r for r in h.ok("report")]
    owners = {r["owner"] for r in kinds}
    assert "core" in owners
    for r in kinds:
        kind = r["kind"]
        data = h.ok("report", kind)
        assert data["report"] == kind and isinstance(data["rows"], list)
        for row in data["rows"]:
            for k, v in row.items():
                if k.endswith(("_rate", "_share")) and isinstance(v, (int, float)) and not isinstance(v, bool):
                    assert 0 <= v <= 1, (kind, k, v)
        formats = ["csv", "xlsx"] + (["png", "html"] if r["owner"] != "core" or kind in ("rates", "pareto") else [])
        for fmt in formats:
            out = tmp_path / f"{kind}.{fmt}"
            res = h("report", kind, "--format", fmt, "--out", str(out))
            assert res.code == 0, (kind, fmt, res.err)
            assert out.stat().st_size > 0
        table = h("report", kind, json_out=False)
        assert table.code == 0 and table.out.strip(), (kind, table.err)
