"""The plugin contract (pluggy, project name "huifang", hook prefix `huifang_`).

A plugin is any object (usually a module-level instance) with a `name` attribute and hook
implementations marked with `huifang.core.plugin_api.hookimpl`. It is discovered through the
entry-point group `huifang.plugins`; the four built-in verticals register exactly like a third-party
package (see examples/aftersales). Plugins import only `huifang.core.plugin_api` (docs/plugins.md).

Per-kind hooks (`huifang_plan`, `huifang_check_attempt`, `huifang_check_lost`, `huifang_check_conflict`,
`huifang_on_attempt`, `huifang_on_completed`) are called only on the plugin that owns the trigger kind, with that
plugin's settings, so implementations need not filter. Every other hook is called on each enabled
plugin.
"""
from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

from ..contract import (
    FollowUpInfo,
    PlanItem,
    Reaction,
    Settings,
    SubjectInfo,
    TicketInfo,
    TicketRoute,
    TriggerInfo,
    TriggerKind,
    VisitType,
)

if TYPE_CHECKING:
    import click

    from .channels import ChannelAdapter
    from .i18n import Labels
    from .protocols import CampaignPolicy, DemoApp, History, Scheduler, StaffInfo
    from .reports import Report
    from .views import View

PROJECT = "huifang"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
# Specs are never called (pluggy calls the plugins' implementations); their bodies only raise.


@hookspec(firstresult=True)
def huifang_settings_model() -> type[Settings]:
    """Return the pydantic model (a subclass of plugin_api.Settings) of this plugin's
    `[plugins.<name>]` section in huifang.toml, defaults being the plugin's rule defaults."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_trigger_kinds() -> list[TriggerKind]:
    """Return the TriggerKind list this plugin understands (bare names; the engine qualifies them as
    '<plugin>.<kind>', and a bare name works when exactly one enabled plugin defines it)."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_visit_types() -> list[VisitType]:
    """Return the VisitType list (each with its survey template, G18 at most 5 questions)."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_labels() -> Labels:
    """Return the display labels of this plugin's codes (plugin_api.i18n.Labels: visit types, trigger
    kinds, questions, choices, categories, departments, report titles and columns), translated from
    the plugin's own gettext catalogue; zh_CN is the default language. Codes without a label show as
    the code itself."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_plan(trigger: TriggerInfo, subject: SubjectInfo, settings: Settings, scheduler: Scheduler,
                 history: History) -> list[PlanItem]:
    """Plan a trigger: return PlannedVisit and Skip items (and CloseFollowUp to cancel earlier open
    follow-ups of the same subject, e.g. P3 household left). Dispatch on the bare kind with
    `plugin_api.plan_by_kind`. `scheduler` works in the subject's time zone; `history` is read-only."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_check_attempt(followup: FollowUpInfo, attempt: dict[str, Any], settings: Settings) -> str | None:
    """Return a refusal message if this attempt breaks a rule of the follow-up's plugin (e.g. F9: a
    phone attempt without its recording), else None. The refusal is recorded and nothing is written."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_check_lost(followup: FollowUpInfo, reason: str, settings: Settings, history: History) -> str | None:
    """Return a refusal message if this follow-up may not be closed as lost yet under a rule of its
    plugin (e.g. F5: not before the whole fallback ladder was tried), else None. Called only on the
    follow-up's own plugin, after the engine's own checks passed: `reason` is a G14 code
    (contract.LOST_REASONS), `followup.attempts` every attempt with its `channel`, `outcome`,
    `outside_window` and `before_window` flags (G5/G6: those do not count). Nothing is written when
    it refuses."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_check_conflict(followup: FollowUpInfo, staff: StaffInfo, settings: Settings,
                           history: History) -> str | None:
    """G9: return why `staff` has an interest in this follow-up of the plugin (e.g. finance: the
    seller's reporting line or a sales department, by organisation rather than role name), else None.
    Called only on the follow-up's own plugin, after the engine's own check of its `excluded_staff`
    and `excluded_roles`, for whoever attempts or completes it and whoever it is reassigned to; the
    refusal is recorded in the actor's access log and nothing else is written."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_on_attempt(followup: FollowUpInfo, attempt: dict[str, Any], settings: Settings,
                       scheduler: Scheduler, history: History) -> list[Reaction]:
    """React to a recorded attempt (F5 channel fallback, warnings): return reactions only."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_on_completed(followup: FollowUpInfo, answers: dict[str, Any], settings: Settings,
                         scheduler: Scheduler, history: History) -> list[Reaction]:
    """React to a completed survey: the next visit of a curve (PlanVisit), tickets (M7, G13, A8),
    notifications and warnings. Reactions are applied in the same commit as the completion."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_ticket_route(ticket: TicketInfo, followup: FollowUpInfo, settings: Settings,
                         history: History) -> TicketRoute | None:
    """Route a ticket opened on one of this plugin's follow-ups, by a reaction or by an operator
    (`huifang ticket open`): its owner (a staff id, or the department whose head owns it, e.g. A8's
    customer-service supervisor), the first steps of its escalation ladder (G13) and whether the
    owner is told at once. None: the engine's default (the head of the ticket's department, else the
    callback agent's supervisor; escalation up the callback agent's reporting line). The deadline is
    the reaction's, else `ticket_deadline_workdays` / `ticket_deadline_hours` of the settings (G12)."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_report_views() -> list[View]:
    """Return instances of plugin_api.views.View (usually FollowUpView) this plugin maintains; they
    are fed from the notification log like the engine's own, positions tracked with their rows. A row
    per event is best written with plugin_api.views.insert_row: a rebuild sends such rows in batches."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_reports() -> list[Report]:
    """Return instances of plugin_api.reports.Report this plugin adds to `huifang report` (e.g.
    medical's `nurses`, M9, or property's `repeats`, P8); reachable as `<plugin>.<name>`."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_demo(app: DemoApp, rng: random.Random, start: datetime, end: datetime, size: int) -> dict[str, Any]:
    """Add this vertical's share of `huifang demo`: about `size` subjects with their staff, triggers
    between start and end, and the work done on them through the application's commands. Return counts
    to print ({"plugin": name, "subjects": n, "triggers": n, ...})."""
    raise NotImplementedError


@hookspec
def huifang_register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the `huifang` CLI (llm-style): called only for enabled plugins,
    and only when a command the engine does not define is asked for or the command list is shown.
    Commands use `huifang.core.plugin_api.cli` (json_option, run, emit, table), never huifang.cli."""
    raise NotImplementedError


@hookspec(firstresult=True)
def huifang_campaign_policy(settings: Settings) -> CampaignPolicy | None:
    """Return this plugin's batch-campaign policy (A7, F3), or None if it runs no campaigns. The engine
    runs request, review and approval (`huifang campaign`); the policy gives the trigger `kind` and
    `visit_type` approval plans per target, the batch `threshold`, `reviewer_roles`, `approver_roles`,
    `missing(plan)` (the required elements a request lacks) and `target(visit, target, plan, subject,
    history)` (one target's drafted visit, amended, or a Skip leaving the target out)."""
    raise NotImplementedError


@hookspec
def huifang_channel_adapters(settings: Settings) -> list[ChannelAdapter]:
    """Return delivery adapters (plugin_api.channels.ChannelAdapter: `name`, the `channels` it serves,
    `send(OutgoingMessage) -> SendResult` with status sent / failed / bounced and a detail) this plugin
    adds to the engine's `file`, `smtp`, `http_sms` and `http_wechat`; `settings` is the plugin's own
    section, where the adapter's endpoint and keys belong. A deployment selects one per channel in
    huifang.toml (`[delivery] letter = "<name>"`); a name the engine already has is ignored. The engine
    records every outcome and never sends the same message twice: `send` only sends, must not raise
    for an unreachable gateway, and never puts secrets in the detail."""
    raise NotImplementedError
