"""The dashboard in a real browser: `huifang serve` on 127.0.0.1 and headless Chromium (Debian's, driven
by Playwright). A supervisor signs in with the password set by `huifang staff password`; the headline
figures read off the page equal `huifang report rates --json` for the same period; clicking a number
lists exactly the follow-ups it counts, masked; the charts are drawn by the vendored ECharts (served
by the app, no CDN). Screenshots are kept in build/test-artefacts/ (G8, G15)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.browser_support import artefacts, chromium  # noqa: F401
from tests.conftest import Huifang
from tests.dashboard_kit import NOW, PASSWORD, PERIOD, set_password, ward
from tests.service_support import server

pytestmark = pytest.mark.slow  # a server process and a browser


@pytest.fixture(scope="module")
def ward_store(hf_module: Huifang) -> Huifang:
    """The ward on each backend (SQLite, and PostgreSQL when HUIFANG_TEST_PG is set)."""
    hf = ward(hf_module)
    set_password(hf, "hn")
    return hf


def backend(hf: Huifang) -> str:
    return "postgres" if hf.db.startswith("postgresql") else "sqlite"


def test_G15_dashboard_in_a_browser_figures_equal_report_rates_and_drill_down(
        ward_store: Huifang, chromium: Any) -> None:  # noqa: F811
    hf = ward_store
    [rates] = hf.ok("report", "rates", "--from", PERIOD[0], "--to", PERIOD[1], now=NOW)["rows"]
    requests: list[str] = []
    with server(hf, now=NOW) as base:
        page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.on("request", lambda r: requests.append(r.url))
        try:
            page.goto(f"{base}/dashboard")
            page.fill("#staff", "hn")
            page.fill("#password", PASSWORD)
            page.click("#signin button[type=submit]")
            page.wait_for_selector("#headline")
            assert f"核心指标（{PERIOD[0]} 至 {PERIOD[1]}）" in page.inner_text("#headline h2")  # this month
            for key in ("callback_rate", "success_rate", "on_time_rate"):
                card = page.locator(f'#headline .card[data-key="{key}"]')
                assert card.get_attribute("data-value") == str(rates[key])
                assert card.locator(".big").inner_text() == f"{100 * rates[key]:.1f}%"
            assert page.locator('#headline .card[data-key="overdue"] .big').inner_text() == str(rates["overdue"])
            page.wait_for_selector('.chart[data-chart="trend"] canvas')  # ECharts drew the trend
            page.screenshot(path=str(artefacts() / f"dashboard-{backend(hf)}.png"), full_page=True)

            page.click('#headline a.num[data-figure="completed"]')
            page.wait_for_selector("#drill")
            ids = page.locator("#drill tr[data-followup]").evaluate_all(
                "rows => rows.map(r => r.getAttribute('data-followup'))")
            assert len(ids) == rates["completed"] and ids == ["D1-1", "D2-1", "D6-1"]
            assert page.inner_text("#drill-count") == str(rates["completed"])
            text = page.inner_text("#drill")
            assert "138****1234" in text and "13812341234" not in text and "张三丰" not in text
            page.fill('tr[data-followup="D1-1"] input[name=reason]', "核对回访记录")
            page.click('tr[data-followup="D1-1"] button[type=submit]')
            page.wait_for_selector(".notice")
            assert "张三丰" in page.inner_text('#drill tr[data-followup="D1-1"]')  # unmasked: a recorded read
            page.screenshot(path=str(artefacts() / f"dashboard-drill-{backend(hf)}.png"), full_page=True)
        finally:
            page.close()
    assert requests and all(u.startswith(base) for u in requests)  # nothing from a CDN
    reads = hf.ok("audit", "reads", "--subject", "P1", actor="adm", now=NOW)["reads"]
    assert any(r["actor"] == "hn" and r["what"] == "dashboard" for r in reads)
