"""The plugin contract (pluggy, project name "huifang", hook prefix `huifang_`).

A plugin is any object (usually a module-level instance) with a `name` attribute and
hook implementations marked with `huifang.core.hookspecs.hookimpl`. It is discovered
through the setuptools entry-point group `huifang.plugins`; the four built-in verticals
register exactly like a third-party package (see examples/aftersales).

Per-kind hooks (`huifang_plan`, `huifang_on_attempt`, `huifang_on_completed`) are called
only on the plugin that owns the trigger kind, so implementations need not filter.
"""
from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "huifang"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def huifang_settings_model() -> type:
    """Return the pydantic model (a subclass of contract.Settings) of this plugin's
    `[plugins.<name>]` section in huifang.toml, defaults being the plugin's rule defaults."""


@hookspec
def huifang_trigger_kinds() -> list:
    """Return the contract.TriggerKind list this plugin understands (bare names; the engine
    qualifies them as '<plugin>.<kind>')."""


@hookspec
def huifang_visit_types() -> list:
    """Return the contract.VisitType list (each with its survey template, G18 ≤ 5 questions)."""


@hookspec(firstresult=True)
def huifang_plan(trigger: Any, subject: Any, settings: Any, scheduler: Any, history: Any) -> list:
    """Plan a trigger: return contract.PlannedVisit and contract.Skip items (and contract.CloseFollowUp
    to cancel earlier open follow-ups of the same subject, e.g. P3 household left).

    `trigger` is a contract.TriggerInfo with validated attributes, `subject` a SubjectInfo,
    `settings` this plugin's settings, `scheduler` a scheduling.Scheduler in the subject's
    time zone, `history` a read-only view (history.Lookup) of earlier triggers and follow-ups.
    """


@hookspec(firstresult=True)
def huifang_on_attempt(followup: Any, attempt: dict, settings: Any, scheduler: Any, history: Any) -> list:
    """React to an attempt (channel fallback F5, warnings): return contract reactions. `history` is the
    same read-only history.Lookup as in huifang_plan (e.g. F5 counts fallbacks against a quota)."""


@hookspec(firstresult=True)
def huifang_on_completed(followup: Any, answers: dict, settings: Any, scheduler: Any,
                         history: Any) -> list:
    """React to a completed survey: next visit in a curve, tickets (M7, G13), notifications."""


@hookspec
def huifang_check_attempt(followup: Any, attempt: dict, settings: Any) -> str | None:
    """Return a refusal message if this attempt breaks a plugin rule (e.g. F9 recording), else None."""


@hookspec
def huifang_report_views() -> list:
    """Return projection views (projections.engine.View subclasses) this plugin maintains; they are
    fed from the notification log like the engine's own (positions tracked with their rows)."""


@hookspec
def huifang_reports() -> list:
    """Return reports (projections.reports.Report subclasses) this plugin adds to `huifang report`,
    e.g. medical's `nurses` (M9) or property's `repeats` (P8)."""


@hookspec
def huifang_demo(app: Any, rng: Any, start: Any, end: Any, size: int) -> dict:
    """Add this vertical's share of `huifang demo`: about `size` subjects with their staff, triggers
    between start and end, and the work done on them (see core.demo.work for a helper). Return
    counts to print ({"plugin": name, "subjects": n, "triggers": n, ...})."""


@hookspec
def huifang_cli_commands() -> list:
    """Return click commands/groups this plugin adds to the `huifang` CLI (e.g. `campaign`)."""
