"""What a plugin is handed, as structural types: it may call these and nothing else of the engine.

The engine passes its own implementations (the scheduling.Scheduler, the projections' history
lookup, the application for `huifang_demo`); `plugin_api.testing` passes fakes with the same shape,
so a plugin's rules are unit-tested without a store.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NotRequired, Protocol, TypedDict, TypeVar, runtime_checkable

from ..contract import FollowUpInfo, PlannedVisit, Settings, Skip, SubjectInfo
from ..scheduling import Window
from .sampling import Draw

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

T = TypeVar("T")


class StaffInfo(TypedDict):
    """A staff member as plugins see it (G9 conflicts, A8/G13 routing up the reporting line)."""

    id: str
    role: str
    dept: str | None
    reports_to: str | None
    name: NotRequired[str]  # given to reports (ReportContext.staff, e.g. M9 nurse names); plans do not need it


@runtime_checkable
class History(Protocol):
    """Read-only view of what happened before: earlier triggers and follow-ups of a subject (rows
    of the engine's `triggers` / `followups` views, see plugin_api.views) and the staff directory."""

    def triggers(self, subject: str, kind: str | None = None) -> list[dict[str, Any]]: ...

    def followups(self, subject: str) -> list[dict[str, Any]]: ...

    def staff(self, code: str) -> StaffInfo | None: ...

    def subject(self, code: str) -> SubjectInfo | None:
        """A subject's file as plans see it (e.g. A9: a reaction reads the blacklist flag)."""
        ...

    def triggers_of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every subject's triggers of one qualified kind (e.g. A3: how many clients one activity reached)."""
        ...

    def read(self, query: Callable[[Connection], T]) -> T:
        """Run a read-only query over the caught-up views (tables in plugin_api.views), for
        deployment-wide figures such as F5's fallback share."""
        ...


@runtime_checkable
class Scheduler(Protocol):
    """Calendar and calling-window arithmetic (G6) for one plugin's settings and one subject's time
    zone. Windows never open on a non-calling day unless a plan asks for it explicitly."""

    tz: Any

    def local_day(self, instant: datetime) -> date: ...

    def is_calling_day(self, d: date) -> bool: ...

    def sample(self, purpose: str, item: str, rate: float, *, rule: str, at: datetime, period: str = "month",
               stratum: str = "") -> Draw:
        """G17: the store's keyed draw of `item` (a trigger id) for `purpose` at `rate`, reproducible in
        the store and unpredictable outside it; `period` (day|week|month of `at`) and `stratum` group
        the draws whose share `tick` keeps at or above the rate (plugin_api.sampling)."""
        ...

    def clinical(self) -> Scheduler:
        """The same calling windows with every day a calling day, for a visit type that declares a
        clinical exception (G6: VisitType.clinical_exception)."""
        ...

    def roll(self, d: date) -> date: ...

    def day_after(self, start: datetime | date, days: int) -> date: ...

    def workday_after(self, start: datetime | date, n: int) -> date: ...

    def working_days_between(self, a: date, b: date) -> int: ...

    def opening(self, d: date) -> datetime: ...

    def end_of(self, d: date) -> datetime: ...

    def window(self, start: datetime, open_days: int, due_days: int, *, workdays: bool = False,
               cap: date | None = None) -> Window: ...

    def next_slot(self, after: datetime) -> datetime: ...

    def add_window_hours(self, start: datetime, hours: float) -> datetime:
        """`hours` of calling-window time on calling days after `start` (G12: the 4-hour second follow-up)."""
        ...

    def slot_of(self, instant: datetime) -> tuple[date, int] | None: ...

    def in_window(self, instant: datetime) -> bool: ...

    def next_retry(self, last: datetime) -> datetime: ...


class DemoApp(Protocol):
    """The application commands a plugin's `huifang_demo` may drive, exactly as an operator would
    through the CLI (so the demo history is one the engine's own rules produced)."""

    def add_staff(self, code: str, name: str, role: str, dept: str | None = None,
                  reports_to: str | None = None, actor: str = ..., head_of: list[str] | None = None) -> Any: ...

    def add_subject(self, code: str, name: str, phones: list[str] | None = None, email: str | None = None,
                    tz: str | None = None, attributes: dict[str, Any] | None = None, actor: str = ...) -> Any: ...

    def receive_trigger(self, kind: str, subject: str, attributes: dict[str, Any], trigger_id: str | None = None,
                        at: datetime | None = None, actor: str = ...) -> Any: ...

    def amend_trigger(self, code: str, changes: dict[str, Any], at: datetime | None = None,
                      reason: str | None = None, actor: str = ...) -> Any:
        """Correct a trigger's attributes (e.g. F4: the policy's receipt date) and re-plan its open
        follow-ups, as `huifang trigger amend` does."""
        ...

    def record_attempt(self, code: str, channel: str, outcome: str, **kw: Any) -> Any: ...

    def complete(self, code: str, answers: dict[str, Any], **kw: Any) -> Any: ...

    def close_followup(self, code: str, **kw: Any) -> Any: ...

    def resolve_ticket(self, code: str, note: str, actor: str = ...) -> Any: ...

    def followup_info(self, code: str) -> FollowUpInfo: ...

    def reassign(self, code: str, to: str, reason: str, actor: str = ...) -> Any: ...

    def sign_exemption(self, code: str, statement: str, actor: str = ...) -> Any: ...

    def scheduler(self, plugin: str, tz: str | None) -> Scheduler: ...

    def settings(self, plugin: str) -> Settings: ...

    @property
    def history(self) -> History: ...

    def set_subject_attributes(self, code: str, changes: dict[str, Any], actor: str = ...,
                               cancel: list[str] | None = None, reason: str = ...) -> list[str]: ...

    def request_campaign(self, plan: dict[str, Any], actor: str = ...) -> dict[str, Any]: ...

    def review_campaign(self, code: str, actor: str = ..., note: str = ...,
                        return_reason: str | None = None) -> dict[str, Any]: ...

    def approve_campaign(self, code: str, actor: str = ...) -> dict[str, Any]: ...


class CampaignPolicy(Protocol):
    """What a plugin decides about its campaigns (returned by hook `huifang_campaign_policy`). An
    optional attribute `named_only = True` makes it run a request without `"plugin"` only when no
    other enabled plugin runs campaigns (e.g. finance's F3 campaigns beside aesthetics' A7 batches)."""

    kind: str  # bare trigger kind the targets' triggers are recorded under, e.g. "campaign"
    visit_type: str  # the visit type planned for every target, e.g. "batch"
    threshold: int  # A3: more subjects at once than this must be a campaign
    reviewer_roles: Sequence[str]  # staff roles that may review (回访中心审核)
    approver_roles: Sequence[str]  # staff roles that may approve (院领导审批)

    def missing(self, plan: dict[str, Any]) -> tuple[list[str], list[str]]:
        """The required elements the request lacks, in the rulebook's order, and details to fix them."""
        ...

    def target(self, visit: PlannedVisit, target: dict[str, Any], plan: dict[str, Any], subject: SubjectInfo,
               history: History) -> PlannedVisit | Skip:
        """One target's visit as the engine drafted it (the batch window, the next executor, meta
        {"campaign": id}): returned as it is or amended, or a Skip that leaves the target out."""
        ...
