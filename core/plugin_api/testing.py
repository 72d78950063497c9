"""Test a plugin without a store: fakes of what the engine hands to hooks, and a conformance suite.

    from huifang.core.plugin_api import testing
    from my_plugin import plugin

    def test_conforms():
        testing.assert_conforms(plugin)          # every hook's shape, on sample triggers

    def test_discharge_plan():
        visits = testing.plan(plugin, "discharge", {"department": "心内科"}, at="2026-09-28T10:00+08:00")
        assert visits[0].due.date().isoformat() == "2026-10-12"

The scheduler is the engine's real one over the built-in Chinese holiday calendar (pure arithmetic,
no store), so rule arithmetic tested here is the arithmetic production uses.
"""
from __future__ import annotations

import contextlib
import itertools
import random
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pluggy
from pydantic import TypeAdapter, ValidationError

from .. import clock
from ..calendar import BusinessCalendar
from ..contract import (
    CloseFollowUp,
    FollowUpInfo,
    PlannedVisit,
    PlanVisit,
    Reaction,
    Settings,
    Skip,
    SubjectInfo,
    TriggerInfo,
    TriggerKind,
    VisitType,
)
from ..scheduling import Scheduler as _Scheduler
from . import hookspecs
from .protocols import History, Scheduler, StaffInfo
from .sampling import TEST_SAMPLER

DEFAULT_AT = "2026-09-28T10:00:00+08:00"  # a Monday, a working day before the National Day holiday
RULE_ID = re.compile(r"^[GMPFA]\d+$")
_REACTIONS: TypeAdapter[Any] = TypeAdapter(list[Reaction])
T = TypeVar("T")


class FakeHistory:
    """An in-memory History: rows as the engine's `triggers` / `followups` views hold them; `read`
    queries `connection` (e.g. an in-memory SQLite holding the plugin_api.views tables)."""

    def __init__(self, triggers: Iterable[dict[str, Any]] = (), followups: Iterable[dict[str, Any]] = (),
                 staff: Iterable[StaffInfo] = (), subjects: Iterable[SubjectInfo] = (),
                 connection: Any = None) -> None:
        self._connection = connection
        self._triggers = list(triggers)
        self._followups = list(followups)
        self._staff = {s["id"]: s for s in staff}
        self._subjects = {s.id: s for s in subjects}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def triggers(self, subject: str, kind: str | None = None) -> list[dict[str, Any]]:
        self.calls.append(("triggers", (subject, kind)))
        rows = [t for t in self._triggers if t.get("subject") == subject and (kind is None or t.get("kind") == kind)]
        return sorted(rows, key=lambda t: str(t.get("occurred_at", "")))

    def followups(self, subject: str) -> list[dict[str, Any]]:
        self.calls.append(("followups", (subject,)))
        rows = [f for f in self._followups if f.get("subject") == subject]
        return sorted(rows, key=lambda f: str(f.get("window_open", "")))

    def staff(self, code: str) -> StaffInfo | None:
        self.calls.append(("staff", (code,)))
        return self._staff.get(code)

    def subject(self, code: str) -> SubjectInfo | None:
        self.calls.append(("subject", (code,)))
        return self._subjects.get(code)

    def triggers_of_kind(self, kind: str) -> list[dict[str, Any]]:
        self.calls.append(("triggers_of_kind", (kind,)))
        return sorted((t for t in self._triggers if t.get("kind") == kind), key=lambda t: str(t.get("occurred_at", "")))

    def read(self, query: Callable[[Any], T]) -> T:
        self.calls.append(("read", ()))
        if self._connection is None:
            raise AssertionError("FakeHistory.read: pass connection= (an in-memory SQLite with the views' tables)")
        return query(self._connection)

    def add_trigger(self, row: dict[str, Any]) -> None:
        self._triggers.append(row)

    def add_followup(self, row: dict[str, Any]) -> None:
        self._followups.append(row)


def instant(value: str | datetime) -> datetime:
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if dt.tzinfo is None:
        raise ValueError(f"{value!r}: give a time zone offset, e.g. +08:00")
    return dt


def scheduler(settings: Settings | None = None, tz: str = "Asia/Shanghai") -> Scheduler:
    """The engine's scheduler for `settings` (calling windows, holidays, weekends) in `tz`; its keyed
    draws (G17) use sampling.TEST_SAMPLER, a public key, so tests can compute them."""
    s = settings or Settings()
    return _Scheduler(BusinessCalendar(), s.calling_windows, s.no_holidays, tz, weekends=s.open_weekends,
                      sampler=TEST_SAMPLER)


def settings_of(plugin: Any, **overrides: Any) -> Any:
    """The plugin's settings model with its rule defaults, plus overrides (validated)."""
    model = getattr(plugin, "huifang_settings_model", lambda: Settings)() or Settings
    return model.model_validate(overrides)


def kinds_of(plugin: Any) -> dict[str, TriggerKind]:
    return {k.name: k for k in (plugin.huifang_trigger_kinds() or [])}


def trigger(plugin: Any, kind: str, attributes: dict[str, Any] | None = None, *, at: str | datetime = DEFAULT_AT,
            subject: str = "S1", id: str = "T1") -> TriggerInfo:
    """A TriggerInfo as the engine builds it: attributes validated by the kind's model."""
    spec = kinds_of(plugin).get(kind)
    if spec is None:
        raise KeyError(f"{plugin.name} has no trigger kind {kind!r}; kinds: {', '.join(kinds_of(plugin))}")
    attrs = spec.attributes.model_validate(attributes if attributes is not None else spec.example)
    return TriggerInfo(id=id, kind=f"{plugin.name}.{kind}", plugin=plugin.name, subject=subject, at=instant(at),
                       attributes=attrs.model_dump(mode="json"))


def subject(id: str = "S1", tz: str = "Asia/Shanghai", attributes: dict[str, Any] | None = None,
            optouts: list[str] | None = None) -> SubjectInfo:
    return SubjectInfo(id=id, tz=tz, attributes=attributes or {}, optouts=optouts or [])


def plan(plugin: Any, kind: str, attributes: dict[str, Any] | None = None, *, at: str | datetime = DEFAULT_AT,
         settings: Any = None, history: History | None = None, subject_info: SubjectInfo | None = None,
         tz: str = "Asia/Shanghai") -> list[Any]:
    """Call the plugin's `huifang_plan` for one trigger with fakes; returns what the plan returns."""
    s = settings if settings is not None else settings_of(plugin)
    subj = subject_info or subject(tz=tz)
    info = trigger(plugin, kind, attributes, at=at, subject=subj.id)
    with logical_now(info.at):
        return list(plugin.huifang_plan(trigger=info, subject=subj, settings=s, scheduler=scheduler(s, subj.tz),
                                        history=history if history is not None else FakeHistory()) or [])


def logical_now(instant: datetime) -> contextlib.AbstractContextManager[Any]:
    """Hooks run at a logical now (clock.now()), as every engine command does: the test's own
    (`clock.at`) if it set one, else `instant`."""
    try:
        clock.now()
    except RuntimeError:
        return clock.at(instant)
    return contextlib.nullcontext()


def visits(items: Iterable[Any]) -> list[PlannedVisit]:
    return [i for i in items if isinstance(i, PlannedVisit)]


def followup(trigger_info: TriggerInfo, visit: PlannedVisit, *, status: str = "due",
             attempts: list[dict[str, Any]] | None = None, answers: dict[str, Any] | None = None) -> FollowUpInfo:
    """The FollowUpInfo a reaction hook would see for a planned visit."""
    return FollowUpInfo(id=f"{trigger_info.id}-{visit.key}", subject=trigger_info.subject, trigger=trigger_info.id,
                        trigger_kind=trigger_info.kind, plugin=trigger_info.plugin, visit_type=visit.visit_type,
                        key=visit.key, owner=visit.owner, channel=visit.channel, window_open=visit.window_open,
                        due=visit.due, status=status, attempts=attempts or [], answers=answers,
                        meta=dict(visit.meta), trigger_attributes=dict(trigger_info.attributes))


def sample_answers(vt: VisitType, rng: random.Random | None = None) -> dict[str, Any]:
    """A valid answer to every question of a visit type's survey (first choice, or a random one)."""
    out: dict[str, Any] = {}
    for q in vt.survey.questions if vt.survey else []:
        if q.choices:
            out[q.key] = rng.choice(q.choices) if rng else q.choices[0]
        elif q.kind == "score":
            out[q.key] = q.max if q.max is not None else 10
        elif q.kind == "bool":
            out[q.key] = "yes"
        else:
            out[q.key] = "好"
    return out


# -- feasibility (G6) -----------------------------------------------------------------------------------
def plan_problems(plugin: Any, items: Iterable[Any], settings: Any = None, tz: str = "Asia/Shanghai") -> list[str]:
    """Why a plan cannot be done as planned, empty when it can (G6, "nothing is planned that cannot be
    done"): a window opening on a non-calling day without a clinical exception its visit type declares; a
    deadline before its window opens; no calling slot between opening and deadline (the first calling
    slot from the opening must be inside the window); windows out of order — within one track, a window
    opening earlier must not be due later. A plan's visits are one track unless their meta names another
    ("track", e.g. P4 yearly surveys beside P3 home visits)."""
    s = settings if settings is not None else settings_of(plugin)
    vts = {v.name: v for v in (plugin.huifang_visit_types() or [])} if hasattr(plugin, "huifang_visit_types") else {}
    normal = scheduler(s, tz)
    problems: list[str] = []
    plan_visits = visits(items)
    for v in plan_visits:
        where = f"{v.key} {v.window_open.isoformat()}..{v.due.isoformat()}"
        if v.due < v.window_open:
            problems.append(f"{where}: due before its window opens")
            continue
        declared = vts[v.visit_type].clinical_exception if v.visit_type in vts else None
        if v.clinical_exception and not declared:
            problems.append(f"{where}: clinical exception not declared by visit type {v.visit_type} (G6)")
        if not normal.is_calling_day(normal.local_day(v.window_open)) and not (v.clinical_exception and declared):
            problems.append(f"{where}: opens on a non-calling day without a declared clinical exception (G6)")
        sched = normal.clinical() if v.clinical_exception else normal
        first = sched.next_slot(v.window_open)
        if first > v.due or not sched.in_window(first):
            problems.append(f"{where}: no calling slot before the deadline (first {first.isoformat()})")
    tracks: dict[str, list[PlannedVisit]] = {}
    for v in plan_visits:
        tracks.setdefault(str(v.meta.get("track") or ""), []).append(v)
    for track in tracks.values():
        ordered = sorted(track, key=lambda v: (v.window_open, v.due))
        for a, b in itertools.pairwise(ordered):
            if a.due > b.due:
                problems.append(f"{a.key} {a.window_open:%Y-%m-%d}..{a.due:%Y-%m-%d} is due after {b.key} "
                                f"{b.window_open:%Y-%m-%d}..{b.due:%Y-%m-%d}: windows out of order")
    return problems


# -- conformance ---------------------------------------------------------------------------------------
def check_plugin(plugin: Any, *, dates: Iterable[str] = (DEFAULT_AT, "2026-12-31T16:30:00+08:00",
                                                        "2027-01-29T09:00:00+08:00")) -> list[str]:
    """Problems with a plugin's shape, empty when it conforms: hook signatures (pluggy), settings,
    trigger kinds and visit types (G18, rule ids), and every kind's example planned at `dates` (typed
    results, known visit types, feasible and ordered windows: plan_problems), then each planned visit's
    completion reacted to with sample answers (typed reactions only)."""
    problems: list[str] = []
    name = getattr(plugin, "name", None)
    if not isinstance(name, str) or not name:
        return ["plugin has no `name` string attribute"]
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
    except (pluggy.PluginValidationError, ValueError) as e:
        return [f"hooks: {e}"]
    try:
        settings = settings_of(plugin)
    except ValidationError as e:
        return [f"settings: the defaults do not validate: {e}"]
    if not isinstance(settings, Settings):
        problems.append("settings: huifang_settings_model must return a subclass of plugin_api.Settings")
    kinds = list(plugin.huifang_trigger_kinds() or []) if hasattr(plugin, "huifang_trigger_kinds") else []
    vts = list(plugin.huifang_visit_types() or []) if hasattr(plugin, "huifang_visit_types") else []
    problems += _check_declarations(kinds, vts)
    by_name = {v.name: v for v in vts if isinstance(v, VisitType)}
    if hasattr(plugin, "huifang_plan"):
        for k in kinds:
            if isinstance(k, TriggerKind):
                problems += _check_kind(plugin, k, settings, by_name, dates)
    for hook, base in (("huifang_report_views", "View"), ("huifang_reports", "Report")):
        if hasattr(plugin, hook):
            problems += _check_read_side(hook, base, getattr(plugin, hook)() or [])
    return problems


def assert_conforms(plugin: Any, **kw: Any) -> None:
    problems = check_plugin(plugin, **kw)
    assert not problems, f"plugin {getattr(plugin, 'name', plugin)!r} does not conform:\n- " + "\n- ".join(problems)


def _check_declarations(kinds: list[Any], vts: list[Any]) -> list[str]:
    problems: list[str] = []
    for label, items, cls in (("trigger kind", kinds, TriggerKind), ("visit type", vts, VisitType)):
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, cls):
                problems.append(f"{label}: {item!r} is not a plugin_api.{cls.__name__}")
                continue
            if item.name in seen:
                problems.append(f"{label} {item.name}: declared twice")
            seen.add(item.name)
            if "." in item.name:
                problems.append(f"{label} {item.name}: bare names only (the engine adds '<plugin>.')")
            bad = [r for r in item.rules if not RULE_ID.match(r)]
            if bad:
                problems.append(f"{label} {item.name}: rules {bad} are not rule ids like G5 or M4")
    return problems


def _check_kind(plugin: Any, k: TriggerKind, settings: Any, vts: dict[str, VisitType],
                dates: Iterable[str]) -> list[str]:
    try:
        k.attributes.model_validate(k.example)
    except ValidationError:
        return []  # no usable example: the kind's own tests cover it
    problems: list[str] = []
    for when in dates:
        where = f"plan {k.name} at {when}"
        try:
            info = trigger(plugin, k.name, k.example, at=when)
            items = plan(plugin, k.name, k.example, at=when, settings=settings)
        except Exception as e:  # a refusal is a legitimate plan outcome (e.g. A7 campaigns)
            if type(e).__name__ in ("HuifangError", "Refused", "NotFound"):
                continue
            problems.append(f"{where}: raised {type(e).__name__}: {e}")
            continue
        keys: set[str] = set()
        problems += [f"{where}: {p}" for p in plan_problems(plugin, items, settings)]
        for item in items:
            if not isinstance(item, (PlannedVisit, Skip, CloseFollowUp)):
                problems.append(f"{where}: returned {type(item).__name__}, not PlannedVisit/Skip/CloseFollowUp")
                continue
            if isinstance(item, PlannedVisit):
                problems += _check_visit(where, item, vts, keys)
                problems += _check_reactions(plugin, info, item, settings, vts)
    return problems


def _check_visit(where: str, v: PlannedVisit, vts: dict[str, VisitType], keys: set[str]) -> list[str]:
    problems = []
    if v.key in keys:
        problems.append(f"{where}: key {v.key} planned twice")
    keys.add(v.key)
    if v.visit_type not in vts and v.visit_type != "second_followup":
        problems.append(f"{where}: visit type {v.visit_type} is not declared by huifang_visit_types")
    if v.window_open.tzinfo is None or v.due.tzinfo is None:
        problems.append(f"{where}: {v.key} has a naive datetime")
    return problems


def _check_reactions(plugin: Any, info: TriggerInfo, v: PlannedVisit, settings: Any,
                     vts: dict[str, VisitType]) -> list[str]:
    if not hasattr(plugin, "huifang_on_completed") or v.visit_type not in vts:
        return []
    vt = vts[v.visit_type]
    fu = followup(info, v, status="completed", answers=sample_answers(vt),
                  attempts=[{"channel": v.channel, "outcome": "reached", "at": (v.window_open + timedelta(minutes=1))
                             .isoformat()}])
    staff: list[StaffInfo] = [{"id": v.owner, "role": "agent", "dept": v.department, "reports_to": None}] \
        if v.owner else []
    try:
        with logical_now(v.window_open + timedelta(minutes=2)):  # completed just after the reached attempt
            out = plugin.huifang_on_completed(followup=fu, answers=fu.answers or {}, settings=settings,
                                              scheduler=scheduler(settings), history=FakeHistory(staff=staff))
    except Exception as e:
        if type(e).__name__ in ("HuifangError", "Refused", "NotFound"):
            return []
        return [f"on_completed {v.visit_type}: raised {type(e).__name__}: {e}"]
    try:
        reactions = _REACTIONS.validate_python(list(out or []))
    except ValidationError as e:
        return [f"on_completed {v.visit_type}: not a list of reactions: {e.errors()[0]['msg']}"]
    problems = []
    for r in reactions:
        if isinstance(r, PlanVisit) and r.visit.due < r.visit.window_open:
            problems.append(f"on_completed {v.visit_type}: next visit {r.visit.key} is due before it opens")
    return problems


def _check_read_side(hook: str, base: str, items: list[Any]) -> list[str]:
    if base == "View":
        from .views import View as cls
    else:
        from .reports import Report as cls  # type: ignore[assignment]
    problems = []
    for item in items:
        if isinstance(item, type) or not isinstance(item, cls):
            problems.append(f"{hook}: return instances of plugin_api.{base.lower()}s.{base}, got {item!r}")
        elif not getattr(item, "name", ""):
            problems.append(f"{hook}: {type(item).__name__} has no name")
    return problems
