"""Projection machinery: a real process catching up is killed with kill -9 in the middle of the log
and restarted → the views equal a clean rebuild, figure for figure; status shows the position against
the head; a view whose code changed shape rebuilds; a failing view writes nothing. Both backends."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from huifang.core import clock
from huifang.core.application import HuifangApp
from huifang.core.config import Config
from huifang.core.errors import HuifangError
from huifang.projections import open_app as compose_app
from huifang.projections.engine import Projector, View, make_engine
from tests.conftest import Huifang
from tests.test_report_scenario import at, build_scenario, open_app

CHILD = textwrap.dedent("""
    import sys, time
    import huifang.projections.engine as engine
    from huifang.projections import open_app
    from huifang.core.config import Config
    from huifang.projections.core_views import CoreView

    engine.BATCH = 40  # many small transactions: the kill lands between and inside them
    handle = CoreView.handle

    def slow(self, conn, e, n):
        handle(self, conn, e, n)
        if n % 8 == 0:
            time.sleep(0.01)  # hold the batch's transaction open a while

    CoreView.handle = slow
    app = open_app(sys.argv[1], Config.model_validate({"huifang": {"plugins": []}}))
    app.projector.catch_up(progress=lambda done, head: print(done, head, flush=True))
    print("finished", flush=True)
""")


def big_log(db: str, n: int = 320) -> None:
    """The crafted scenario plus n more visits with attempts, completions and losses (~5 events each)."""
    build_scenario(db)
    app = open_app(db)
    try:
        start = clock.parse_instant("2026-08-03T09:00+08:00")
        for i in range(n):
            when = start + timedelta(hours=3 * i)
            with clock.at(when):
                _, fus, _ = app.receive_trigger("clinic.visit", "sA1", {
                    "department": ("cardio", "ortho", "neuro")[i % 3], "agent": ("agA", "agB")[i % 2]},
                    trigger_id=f"BULK{i:04d}")
            code = fus[0].code
            with clock.at(when + timedelta(hours=1)):
                if i % 5 == 4:
                    continue
                app.record_attempt(code, "phone", "reached" if i % 4 else "refused", actor=("agA", "agB")[i % 2])
                if i % 4:
                    sat = ("满意", "较满意", "基本满意", "不满意")[i % 4]
                    why = {"dissatisfaction_code": "other", "dissatisfaction_reason": "不想说"} if sat == "不满意" \
                        else {}  # G16
                    app.complete(code, {"satisfaction": sat, **why}, actor=("agA", "agB")[i % 2])
                else:
                    app.close_followup(code, "lost", "refused", actor=("agA", "agB")[i % 2])
    finally:
        app.close()


def dump(app: HuifangApp) -> dict[str, list[tuple]]:
    out = {}
    with app.projector.engine.connect() as conn:
        for v in app.projector.views.values():
            for t in v.tables():
                rows = [tuple(str(x) for x in r) for r in conn.execute(select(t))]
                out[t.name] = sorted(rows)
    return out


def reports(h: Huifang) -> list[bytes]:
    out = []
    for args in (("rates", "--by", "month,agent"), ("satisfaction", "--by", "department"), ("lost",),
                 ("tickets",), ("pareto",), ("qa",)):
        r = h("report", *args, "--format", "json", json_out=False)
        assert r.code == 0, r.err
        out.append(r.out.encode())
    return out


@pytest.mark.slow  # kill -9 of a real process
def test_kill_9_mid_catch_up_then_restart_equals_clean_rebuild(db, tmp_path):
    big_log(db)
    app = compose_app(db, Config.model_validate({"huifang": {"plugins": []}}))
    try:
        with clock.at(clock.parse_instant("2026-11-05T12:00+08:00")):
            p = app.projector
            p.ensure()
            with p.engine.begin() as conn:  # views back to zero: the child has the whole log to catch up
                for v in p.views.values():
                    p._clear(conn, v)
            head = p.head()
            assert head > 1200
            child = subprocess.Popen([sys.executable, "-c", CHILD, db], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
            for seen, line in enumerate(child.stdout, start=1):
                assert line.strip() != "finished", "catch-up ended before the kill: make the log bigger"
                if seen == 6:
                    os.kill(child.pid, signal.SIGKILL)
                    break
            child.wait(timeout=60)
            assert child.returncode == -signal.SIGKILL
            pos = p.positions()["core"]
            assert 0 < pos < head  # really killed in the middle
            status = {s["view"]: s for s in p.status()}
            assert status["core"]["behind"] == head - pos
            # restart: a new process catches up from the stored position
            again = subprocess.run([sys.executable, "-c", CHILD.replace("time.sleep(0.01)", "pass"), db],
                                   capture_output=True, text=True, timeout=300)
            assert again.returncode == 0, again.stderr
            assert p.lag() == 0
            resumed = dump(app)
            cfg = tmp_path / "huifang.toml"
            cfg.write_text("[huifang]\nplugins = []\n", encoding="utf-8")
            h = Huifang(db, now="2026-11-05T12:00:00+08:00", config=str(cfg))
            figures = reports(h)
            p.rebuild()  # a clean rebuild from zero
            assert dump(app) == resumed  # row for row
            assert reports(h) == figures  # figure for figure, byte for byte
    finally:
        app.close()


def test_projections_status_shows_position_against_head(db):
    build_scenario(db)
    h = Huifang(db, now="2026-11-05T12:00:00+08:00")
    rows = {r["view"]: r for r in h.ok("projections", "status")}
    assert set(rows) >= {"core", "qa"}
    head = rows["core"]["head"]
    app = open_app(db)
    try:
        with at("2026-11-05T12:00+08:00"):
            app.projector.catch_up()
            app.add_subject("sNEW", "新患者", ["13800000001"])
            app.receive_trigger("clinic.visit", "sNEW", {"department": "cardio", "agent": "agA"}, trigger_id="NEW")
    finally:
        app.close()
    rows = {r["view"]: r for r in h.ok("projections", "status")}
    assert rows["core"]["head"] > head and rows["core"]["behind"] == rows["core"]["head"] - rows["core"]["position"] > 0
    # reading commands catch up first
    assert h.ok("report", "rates", "--month", "2026-11")["rows"][0]["pending"] == 2
    assert {r["view"]: r["behind"] for r in h.ok("projections", "status")}["core"] == 0
    r = h("projections", "rebuild", "nosuch")
    assert r.code == 2 and "no view 'nosuch'" in r.err


class Counter(View):
    """A throwaway view: follow-ups planned per plugin. v2 adds a column."""

    name = "counter"

    def __init__(self, version: int = 1, fail: bool = False):
        self.version = version
        self.fail = fail
        self.metadata = MetaData()
        cols = [Column("plugin", String(50), primary_key=True), Column("planned", Integer, nullable=False)]
        if version >= 2:
            cols.append(Column("doubled", Integer))
        self.table = Table("counter_view", self.metadata, *cols)
        self.topics = frozenset({"huifang:FollowUp.Planned"})

    def handle(self, conn: Any, e: Any, notification_id: int) -> None:
        if self.fail and e.code == "A3-1":
            raise ValueError("cannot count A3")
        t = self.table
        row = conn.execute(select(t.c.planned).where(t.c.plugin == e.plugin)).first()
        values = {"planned": (row.planned if row else 0) + 1}
        if self.version >= 2:
            values["doubled"] = 2 * values["planned"]
        if row:
            conn.execute(t.update().where(t.c.plugin == e.plugin).values(values))
        else:
            conn.execute(t.insert().values(plugin=e.plugin, **values))


def test_changed_view_version_rebuilds_and_a_failing_view_writes_nothing(db):
    build_scenario(db)
    app = open_app(db)
    try:
        with at("2026-11-05T12:00+08:00"):
            v1 = Projector(app, [Counter(1)], make_engine(app.store))
            v1.catch_up()
            with v1.engine.connect() as c:
                assert [tuple(r) for r in c.execute(select(Counter(1).table))] == [("clinic", 17)]
            v2 = Projector(app, [Counter(2)], make_engine(app.store))
            v2.catch_up()  # version changed: table re-created with the new column and filled from zero
            with v2.engine.connect() as c:
                assert [tuple(r) for r in c.execute(select(Counter(2).table))] == [("clinic", 17, 34)]
            bad = Projector(app, [Counter(2, fail=True)], make_engine(app.store))
            with bad.engine.begin() as conn:
                bad.ensure()
                bad._clear(conn, bad.views["counter"])
            with pytest.raises(HuifangError) as err:
                bad.catch_up()
            assert "view 'counter' failed on event" in str(err.value) and "cannot count A3" in str(err.value)
            assert bad.positions()["counter"] == 0  # the batch rolled back: nothing half-applied
            for engine in (v1.engine, v2.engine, bad.engine):
                engine.dispose()
    finally:
        app.close()
