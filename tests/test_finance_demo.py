"""`huifang demo` includes the finance vertical with a realistic mix (run on a fresh store, finance only)."""
from __future__ import annotations

from datetime import datetime

import pytest

from huifang.core import clock
from huifang.core.config import load_config
from huifang.core.plugin_api.reports import ReportContext
from huifang.projections import open_app
from tests.conftest import Huifang

NOW = "2026-11-23T16:00:00+08:00"


@pytest.mark.slow  # scale: a full demo store
def test_f8_demo_builds_the_finance_vertical_and_its_reports(db, tmp_path):
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[huifang]\nplugins = ["finance"]\n', encoding="utf-8")
    hf = Huifang(db, now=NOW, config=str(cfg))
    data = hf.ok("demo", "--subjects", "60", "--days", "60")
    [fin] = [p for p in data["plugins"] if p["plugin"] == "finance"]
    assert fin["subjects"] == 60 and fin["triggers"] >= 60
    assert fin["completed"] > fin["lost"] > 0 and fin["attempts"] > fin["completed"]
    app = open_app(db, load_config(str(cfg)))
    from huifang.plugins.finance.reports import BranchesReport, FallbackReport

    with clock.at(datetime.fromisoformat(NOW)):
        app.projector.catch_up()
        with app.projector.engine.connect() as conn:
            rows = BranchesReport().rows(ReportContext(conn=conn, app=app, by=["branch"]))
            [fallback] = FallbackReport().rows(ReportContext(conn=conn, app=app))
    app.projector.engine.dispose()
    app.close()
    total = rows[-1]
    assert total["branch"] == "(all)" and len(rows) == 4  # three branches and the total
    assert fin["completed"] <= total["due"] <= fin["followups"]
    assert 0.6 < total["success_rate"] <= 1 and total["policies_due"] > 0
    assert total["in_cooling_off_success_rate"] <= total["policy_success_rate"]
    assert 0 <= fallback["fallback_share"] <= 0.1
