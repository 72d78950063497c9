"""Unit tests on the plugin API's fakes: the engine's real scheduler and 2026 holiday calendar, no store."""
from __future__ import annotations

from datetime import date, timedelta

from huifang.core.plugin_api import OpenTicket, PlannedVisit, testing
from huifang_aftersales import plugin

INSTALLED = {"contract_value": 1_200_000, "engineer": "e7", "energise_on": "2026-10-20"}


def plan(**attributes: object) -> dict[str, PlannedVisit]:
    items = testing.plan(plugin, "equipment_installed", {**INSTALLED, **attributes}, at="2026-09-28T11:00+08:00")
    return {v.key: v for v in testing.visits(items)}


def test_conforms_to_the_plugin_api():
    testing.assert_conforms(plugin)  # hooks, kinds, surveys (G18), the example planned and reacted to


def test_trial_run_opens_one_month_after_energising_and_is_due_window_days_later():
    visits = plan()
    opens = date(2026, 11, 20)  # energised 2026-10-20 + 1 month
    assert visits["trial"].window_open.date() == opens
    assert visits["trial"].due.date() == opens + timedelta(days=testing.settings_of(plugin).window_days)
    assert visits["pre"].due.date() == date(2026, 10, 19)  # the day before energising
    assert visits["trial"].excluded_staff == ["e7"]  # G9: not the installing engineer
    assert {v.channel for v in visits.values()} == {"phone"}
    assert {v.channel for v in plan(contract_value=4_200_000).values()} == {"home_visit"}  # above 3 million


def test_equipment_not_running_opens_a_ticket_for_the_service_department():
    info, settings = testing.trigger(plugin, "equipment_installed"), testing.settings_of(plugin)
    answers = {"running": "no", "issues": "主轴异响", "satisfaction": "基本满意"}
    followup = testing.followup(info, plan()["trial"], status="completed", answers=answers)
    [ticket] = plugin.huifang_on_completed(followup=followup, answers=answers, settings=settings,
                                           scheduler=testing.scheduler(settings), history=testing.FakeHistory())
    assert isinstance(ticket, OpenTicket) and ticket.department == "after_sales_service"
