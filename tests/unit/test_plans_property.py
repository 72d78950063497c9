"""G6 over every plugin's plans, property-based (hypothesis): random trigger instants across 2026 and 2027
(2027 has no official holidays yet: provisional) and random subject time zones, on the plugin API's fakes
(testing.plan_problems): no window opens on a non-working (non-calling) day unless its visit type declares
a clinical exception and the plan used it; every deadline is at or after its window's opening; the first
calling slot from the opening is inside the window (the follow-up can be done in time); the windows of one
plan (of one track) are ordered."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huifang.core.plugin_api import testing
from huifang.plugins.aesthetics import plugin as aesthetics
from huifang.plugins.finance import plugin as finance
from huifang.plugins.medical import plugin as medical
from huifang.plugins.property import plugin as property_
from huifang_aftersales import plugin as aftersales

SHANGHAI = ZoneInfo("Asia/Shanghai")
BASE = datetime.fromisoformat(testing.DEFAULT_AT).date()  # the day the kinds' examples are written for
ZONES = ["Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Tokyo", "Europe/Berlin", "America/New_York",
         "America/Los_Angeles", "Pacific/Auckland", "UTC"]
# a few more attribute sets than the kinds' examples, where a plugin's curves branch
VARIANTS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "aesthetics": [
        ("procedure", {"department": "injectables", "assistant": "as1", "consultant": "con1"}),
        ("procedure", {"department": "skin", "assistant": "as1", "consultant": "con1", "scab_days": [1, 4]}),
        ("procedure", {"department": "surgery", "assistant": "as1", "consultant": "con1", "item": "眼袋"}),
        ("procedure", {"department": "dental", "assistant": "as1", "consultant": "con1"}),
        ("experience", {"grade": 2, "specialist": "mem1"}),
        ("consultation", {"consultant": "net1", "came": False, "purchased": False, "channel": "online"}),
    ],
    "medical": [
        ("discharge", {"department": "骨科", "diagnosis": "fracture", "responsible_nurse": "n1",
                       "attending_doctor": "dr1", "surgery": True}),
        ("outpatient_visit", {"department": "全科", "specialist": False, "first_visit": True}),
        ("chronic_enrolment", {"condition": "hypertension", "phase": "stable"}),
    ],
}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def rebased(value: Any, shift: timedelta) -> Any:
    """An example's dates moved with the trigger (a receipt, an energising or contract date stays as far
    from the event as in the example)."""
    if isinstance(value, str) and DATE.match(value):
        return (date.fromisoformat(value) + shift).isoformat()
    if isinstance(value, list):
        return [rebased(v, shift) for v in value]
    if isinstance(value, dict):
        return {k: rebased(v, shift) for k, v in value.items()}
    return value


def cases(plugin: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(k.name, k.example) for k in plugin.huifang_trigger_kinds() if k.example] + VARIANTS.get(plugin.name, [])


def check_plan(plugin: Any, kind: str, example: dict[str, Any], at: datetime, tz: str) -> None:
    attrs = rebased(example, at.astimezone(SHANGHAI).date() - BASE)
    try:
        items = testing.plan(plugin, kind, attrs, at=at, tz=tz)
    except Exception as e:  # a refusal is a plan's legitimate answer (A7 campaigns, input checks)
        if type(e).__name__ in ("HuifangError", "Refused", "NotFound"):
            return
        raise
    problems = testing.plan_problems(plugin, items, tz=tz)
    assert not problems, f"{plugin.name}.{kind} at {at.isoformat()} ({tz}):\n- " + "\n- ".join(problems)


INSTANTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31, 23, 59),
                        timezones=st.just(SHANGHAI))


@pytest.mark.parametrize("plugin", [medical, aesthetics, finance, property_, aftersales], ids=lambda p: p.name)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), at=INSTANTS, tz=st.sampled_from(ZONES))
def test_G6_every_plan_is_feasible_on_working_days_and_ordered(plugin: Any, data: st.DataObject, at: datetime,
                                                                tz: str) -> None:
    kind, example = data.draw(st.sampled_from(cases(plugin)), label="kind")
    check_plan(plugin, kind, example, at, tz)
