"""The huifang application: the event store, the services every command needs, and the commands.

Each command is a few lines here and lives in a use-case module (core/usecases/, the reaction
interpreter in core/usecases/reactions.py): it loads the aggregates it needs, checks the rules, and saves
every changed aggregate in ONE `commit()` so it is all-or-nothing. A version conflict with a
concurrent writer becomes a one-line ConflictError; nothing is half-applied.

Questions across many records are asked of the read side (core/ports.ReadSide), which the
application is given when it is composed (`open_app` in the projections package): core never imports it.
"""
from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from datetime import datetime
from threading import get_ident
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError

from . import timekeeping
from .access import Access
from .audit import audit_env, seal_key_source
from .audit.keys import key_dir
from .calendar import BusinessCalendar, YearSchedule
from .config import Config
from .contract import FollowUpInfo, PlannedVisit, Settings, SurveyTemplate, TriggerInfo
from .domain import CalendarBook, FollowUp, Staff, Subject, Ticket, Trigger
from .domain.base import aggregate_uuid
from .errors import ConflictError, HuifangError, NotFound, StoreUnavailable
from .plugin_api.sampling import KeyedSampler
from .ports import History, ReadSide
from .privacy import KeyRing, PrivacySettings
from .registry import Kind, Registry
from .scheduling import Scheduler
from .store import Store
from .surveys import SECOND_FOLLOWUP_SURVEY
from .usecases import calendar as official_calendar
from .usecases import followups, locks, plans, subjects, tickets
from .usecases import staff as staff_directory

SYSTEM = "system"
A = TypeVar("A")

ReadSideFactory = Callable[["HuifangApp"], ReadSide]
"""Builds the read side of an application (the views need the application's event log)."""

_KIND: dict[type, str] = {Subject: "subject", Staff: "staff", Trigger: "trigger", FollowUp: "followup",
                          Ticket: "ticket", CalendarBook: "calendar"}


def _project(aggregate: Any, events: Any) -> Any:
    """eventsourcing's project_aggregate without its `assert isinstance(event, CanMutateProtocol)`: a
    runtime Protocol check per stored event was half the cost of reading an aggregate; every event the
    mapper decodes is a domain event class with `mutate`."""
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


class _Repository(Repository[UUID]):
    # (thread, {id: aggregate as read}) while a served command runs (HuifangApp.reads_once)
    once: tuple[int, dict[UUID, Any]] | None = None

    def get(self, aggregate_id: UUID, *, version: int | None = None, projector_func: Any = _project,
            fastforward_skipping: bool = False, deepcopy_from_cache: bool = True) -> Any:
        memo = self.once[1] if self.once is not None and version is None and self.once[0] == get_ident() else None
        if memo is not None:
            hit = memo.get(aggregate_id)
            if hit is not None and not hit.pending_events:  # as read or as saved: every change is an event
                return copy.deepcopy(hit)
        found = super().get(aggregate_id, version=version, projector_func=projector_func,
                            fastforward_skipping=fastforward_skipping, deepcopy_from_cache=deepcopy_from_cache)
        if memo is not None:
            memo[aggregate_id] = found
        return found


class HuifangApp(Application[UUID]):
    name = "huifang"

    def __init__(self, db: str | None = None, config: Config | None = None, registry: Registry | None = None,
                 extra_plugins: dict[str, Any] | None = None, *, read_side: ReadSideFactory | None = None):
        self.store = Store.parse(db)
        self.store.prepare()
        self.config = config or Config()
        self.registry = registry or Registry(self.config.huifang.plugins, self.config.plugins, extra_plugins)
        env = {**self.store.env(), **audit_env(self.store)}

        def start() -> None:
            Application.__init__(self, env=env)

        self.store.open(start)
        # G8, G10: the chained log's seal key, the personal-data key ring, access control
        recorder: Any = self.recorder
        recorder.seal_key_source = seal_key_source(self.store, self.config)
        self.keyring: KeyRing = KeyRing(recorder, key_dir(self.store, self.config), self.config.huifang.pii_attributes,
                                        settings=lambda: self.find_by_id(PrivacySettings.create_id()))
        self.access: Access = Access(self)
        self._calendar: BusinessCalendar | None = None
        self._read_side_factory = read_side
        self._read_side: ReadSide | None = None
        try:
            self.keyring.check_open()  # G8: fixed privacy settings, the master key's check value
        except BaseException:
            self.close()
            raise

    # -- infrastructure -------------------------------------------------------------------------
    def construct_repository(self) -> Repository[UUID]:
        base = super().construct_repository()
        repo = _Repository(event_store=base.event_store, snapshot_store=base.snapshot_store)
        repo.cache, repo.fastforward = base.cache, base.fastforward  # eventsourcing's settings, as given
        repo.fastforward_skipping, repo.deepcopy_from_cache = base.fastforward_skipping, base.deepcopy_from_cache
        return repo

    @property
    def read_side(self) -> ReadSide:
        """The views (built on first use: most commands never read them)."""
        if self._read_side is None:
            if self._read_side_factory is None:
                raise RuntimeError("this application was opened without a read side: open it with open_app()")
            self._read_side = self._read_side_factory(self)
        return self._read_side

    @property
    def projector(self) -> Any:
        """The read side as its own type (the views' projector), for read-side code that queries the
        views itself; core code asks `read_side`."""
        return self.read_side

    @property
    def history(self) -> History:
        """What plans and reactions may read of the past (hook argument `history`)."""
        return self.read_side.history()

    def close(self) -> None:
        if self._read_side is not None:
            self._read_side.close()
        super().close()

    @contextlib.contextmanager
    def reads_once(self) -> Iterator[None]:
        """Within one served command, each aggregate is read from the store once: a second read (the
        answer's subject after the attempt that checked its opt-outs, a trigger the plugin hooks see twice)
        is a copy of the first, or of what the command saved since. A save that fails forgets them all
        (its aggregates' events were taken off them but not stored); the optimistic version check of every
        save still refuses a copy another process changed meanwhile."""
        repo: Any = self.repository
        outer, repo.once = repo.once, (get_ident(), {})
        try:
            yield
        finally:
            repo.once = outer

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        repo: Any = self.repository
        try:
            recordings = super().save(*objs, **kwargs)
        except BaseException:
            if repo.once is not None:
                repo.once[1].clear()
            raise
        if repo.once is not None:  # what was saved is the store's state now (reads_once)
            repo.once[1].update((a.id, a) for a in objs if a is not None and hasattr(a, "pending_events"))
        return recordings

    def commit(self, *aggregates: Any) -> None:
        """Save a command's aggregates atomically; map store failures to one-line errors."""
        self.access.guard(aggregates)  # auditors change nothing; enforced mode needs staff (G8)
        self.commit_trail(*aggregates)

    def commit_trail(self, *aggregates: Any) -> None:
        """commit() without the access guard: audit-trail records (reads, refusals) of any actor."""
        extra = timekeeping.before_save(self, aggregates)  # no record back in time; backfills recorded
        try:
            self.save(*aggregates, *extra)
        except IntegrityError:
            names = ", ".join(sorted({getattr(a, "code", str(a.id)) for a in aggregates}))
            raise ConflictError(
                f"{names} was changed by another command at the same time; nothing was written: "
                f"re-run the command") from None
        except (OperationalError, PersistenceError) as e:
            raise StoreUnavailable(e) from None

    def load(self, cls: type[A], code: str, what: str, field: str | None = None) -> A:
        """The aggregate, or NotFound naming `what` (and the `field` that gave the id)."""
        try:
            return self.repository.get(aggregate_uuid(_KIND[cls], code))
        except AggregateNotFoundError:
            raise NotFound(f"{what} '{code}' does not exist", field=field) from None

    def find(self, cls: type[A], code: str) -> A | None:
        try:
            return self.repository.get(aggregate_uuid(_KIND[cls], code))
        except AggregateNotFoundError:
            return None

    def find_by_id(self, uid: Any) -> Any | None:
        try:
            return self.repository.get(uid)
        except AggregateNotFoundError:
            return None

    def find_tz(self, subject: str) -> str:
        s = self.find(Subject, subject)
        return s.tz if s else self.config.huifang.timezone

    def find_staff(self, code: str) -> Staff | None:
        return self.find(Staff, code)

    def actor_staff(self, actor: str) -> Staff | None:
        """The staff member acting (None for the anonymous `cli` and the `system` timers)."""
        if actor in (SYSTEM, "cli"):
            return None
        staff = self.find(Staff, actor)
        if staff is None:
            raise HuifangError(f"staff '{actor}' is not registered (huifang staff add {actor} ...)", field="actor")
        return staff

    def settings(self, plugin: str) -> Settings:
        return self.registry.settings.get(plugin) or Settings()

    @property
    def calendar(self) -> BusinessCalendar:
        """The official calendar (G6) as stored; before any import, every year is provisional."""
        if self._calendar is None:
            book = self.find(CalendarBook, "official")
            years = [YearSchedule.from_json(s) for s in (book.years.values() if book else [])]
            self._calendar = BusinessCalendar(years)
        return self._calendar

    @calendar.setter
    def calendar(self, value: BusinessCalendar) -> None:
        self._calendar = value

    def scheduler(self, plugin: str, tz: str | None) -> Scheduler:
        s = self.settings(plugin)
        return Scheduler(self.calendar, s.calling_windows, s.no_holidays, tz or self.config.huifang.timezone,
                         weekends=s.open_weekends, sampler=KeyedSampler(self.sampling_key))  # G17

    def sampling_key(self) -> bytes:
        """G17: the store's sampling key, made and recorded on first use (core/sampling.py)."""
        from .sampling import store_key

        return store_key(self)

    def ladder(self, code: str) -> list[str]:
        """Supervisors of a staff member, nearest first."""
        return staff_directory.ladder(self, code)

    def survey(self, fu: FollowUp) -> SurveyTemplate | None:
        if fu.visit_type == "second_followup":
            return SECOND_FOLLOWUP_SURVEY
        vt = self.registry.visit_type(fu.plugin, fu.visit_type)
        return vt.survey if vt else None

    def info(self, fu: FollowUp) -> FollowUpInfo:
        """A follow-up as plugins see it."""
        trig = self.find(Trigger, fu.trigger)
        k = self.keyring  # G8: plugins see the plaintext of what is stored encrypted
        return FollowUpInfo(id=fu.code, subject=fu.subject, trigger=fu.trigger, trigger_kind=fu.trigger_kind,
                            plugin=fu.plugin, visit_type=fu.visit_type, key=fu.key, owner=fu.owner,
                            channel=fu.channel, window_open=fu.window_open, due=fu.due, status=fu.status,
                            attempts=k.reveal_all([plans.jsonable(a) for a in fu.attempts]),
                            answers=k.reveal_all(fu.answers) if fu.answers is not None else None,
                            meta=k.reveal_all(fu.meta), trigger_attributes=k.reveal_all(trig.attributes) if trig else {},
                            department=fu.department, branch=fu.branch, tickets=list(fu.tickets))

    def followup_info(self, code: str) -> FollowUpInfo:
        """A follow-up as plugins see it (plain data, no aggregate): plugin_api.DemoApp."""
        return self.info(self.load(FollowUp, code, "follow-up"))

    def open_followups_of(self, subject: str) -> list[str]:
        return self.read_side.open_followups_of(subject)

    def demo_attempt_extras(self, fu: FollowUp) -> dict[str, Any]:
        """Demo only: a phone attempt in a plugin that requires recordings (G11) names the recorded line."""
        if self.settings(fu.plugin).require_recording and fu.channel == "phone":
            return {"recording_failed_line": "demo-recorded-line"}
        return {}

    # -- staff and subjects (usecases/staff.py, usecases/subjects.py) ---------------------------
    def add_staff(self, code: str, name: str, role: str, dept: str | None = None,
                  reports_to: str | None = None, actor: str = "cli", head_of: list[str] | None = None) -> Staff:
        return staff_directory.add_staff(self, code, name, role, dept, reports_to, actor, head_of=head_of)

    def add_subject(self, code: str, name: str, phones: list[str] | None = None, email: str | None = None,
                    tz: str | None = None, attributes: dict[str, Any] | None = None, actor: str = "cli") -> Subject:
        return subjects.add_subject(self, code, name, phones, email, tz, attributes, actor)

    def new_subject(self, code: str, name: str, phones: list[str] | None = None, email: str | None = None,
                    tz: str | None = None, attributes: dict[str, Any] | None = None, actor: str = "cli",
                    checked: bool = False) -> Subject:
        return subjects.new_subject(self, code, name, phones, email, tz, attributes, actor, checked)

    def opt_out(self, code: str, channel: str, actor: str = "cli") -> Subject:
        return subjects.opt_out(self, code, channel, actor)

    def sign_exemption(self, code: str, statement: str, actor: str = "cli") -> Subject:
        return subjects.sign_exemption(self, code, statement, actor)

    # -- triggers and plans (usecases/plans.py) -------------------------------------------------
    def receive_trigger(self, kind: str, subject: str, attributes: dict[str, Any], trigger_id: str | None = None,
                        at: datetime | None = None, actor: str = "cli") -> tuple[Trigger, list[FollowUp], bool]:
        return plans.receive_trigger(self, kind, subject, attributes, trigger_id, at, actor)

    def plan_trigger(self, kind: str, subject: str, attributes: dict[str, Any], trigger_id: str | None = None,
                     at: datetime | None = None, actor: str = "cli", subj: Subject | None = None,
                     check_existing: bool = True) -> tuple[Trigger, list[FollowUp], list[FollowUp], bool]:
        return plans.plan_trigger(self, kind, subject, attributes, trigger_id, at, actor, subj, check_existing)

    def amend_trigger(self, code: str, changes: dict[str, Any], at: datetime | None = None, reason: str | None = None,
                      actor: str = "cli") -> tuple[Trigger, list[str], list[str]]:
        """Correct a trigger and re-plan its open follow-ups (`huifang trigger amend`): (trigger, fields
        corrected, what happened to its follow-ups)."""
        return plans.amend_trigger(self, code, changes, at, reason, actor)

    def validate_attributes(self, k: Kind, attributes: dict[str, Any]) -> dict[str, Any]:
        return plans.validate_attributes(k, attributes)

    def new_followup(self, trigger: TriggerInfo, v: PlannedVisit, subj: Subject, actor: str,
                     extra_meta: dict[str, Any] | None = None) -> FollowUp:
        """The follow-up a plan, a reaction, a ticket or a campaign asks for (not saved)."""
        return plans.new_followup(self, trigger, v, subj, actor, extra_meta)

    # -- work on a follow-up (usecases/followups.py) --------------------------------------------
    def record_attempt(self, code: str, channel: str, outcome: str, note: str | None = None,
                       recording: str | None = None, actor: str = "cli",
                       recording_failed_line: str | None = None,
                       language: str | None = None) -> tuple[FollowUp, list[str]]:
        return followups.record_attempt(self, code, channel, outcome, note, recording, actor, recording_failed_line,
                                        language)

    def complete(self, code: str, answers: dict[str, Any], actor: str = "cli") -> tuple[FollowUp, list[str]]:
        return followups.complete(self, code, answers, actor)

    def close_followup(self, code: str, status: str, reason: str, actor: str = "cli",
                       note: str | None = None) -> FollowUp:
        return followups.close_followup(self, code, status, reason, actor, note)

    def reassign(self, code: str, to: str, reason: str, actor: str = "cli") -> FollowUp:
        return followups.reassign(self, code, to, reason, actor)

    # -- tickets (usecases/tickets.py) ------------------------------------------------------------
    def open_ticket(self, code: str, category: str, department: str, severity: str = "normal", note: str = "",
                    actor: str = "cli") -> Ticket:
        return tickets.open_ticket(self, code, category, department, severity, note, actor)

    def resolve_ticket(self, code: str, note: str, actor: str = "cli") -> tuple[Ticket, FollowUp]:
        return tickets.resolve_ticket(self, code, note, actor)

    # -- staff locks (usecases/locks.py) ----------------------------------------------------------
    def unlock(self, code: str, report: str | None = None, actor: str = "cli") -> Staff:
        return locks.unlock(self, code, report, actor)

    def unlock_ladder(self, staff: Staff) -> list[str]:
        return locks.unlock_ladder(self, staff)

    def unlockers(self, staff: Staff) -> str:
        return locks.unlockers(self, staff)

    # -- calendar (usecases/calendar.py) ----------------------------------------------------------
    def import_calendar(self, schedules: list[YearSchedule], actor: str = "cli") -> dict[str, Any]:
        return official_calendar.import_calendar(self, schedules, actor)

    # -- batch campaigns (core/campaigns.py: A7, F3), as plain data for the CLI and plugins' demos --------
    def request_campaign(self, plan: dict[str, Any], actor: str = "cli") -> dict[str, Any]:
        """A campaign request (a JSON object); one missing a required element is returned at once."""
        from . import campaigns

        c, _, details = campaigns.request(self, plan, actor)
        return {**campaigns.as_json(c), "details": details}

    def review_campaign(self, code: str, actor: str = "cli", note: str = "",
                        return_reason: str | None = None) -> dict[str, Any]:
        from . import campaigns

        return campaigns.as_json(campaigns.review(self, code, actor, note, return_reason))

    def approve_campaign(self, code: str, actor: str = "cli") -> dict[str, Any]:
        from . import campaigns

        return campaigns.as_json(campaigns.approve(self, code, actor)[0])

    def show_campaign(self, code: str) -> dict[str, Any]:
        from . import campaigns

        c = campaigns.load(self, code)
        return {**campaigns.as_json(c), "events": campaigns.events(self, c)}

    def list_campaigns(self, status: str | None = None) -> list[dict[str, Any]]:
        from . import campaigns

        return campaigns.listing(self, status)

    # -- flags plugins keep on a subject's file (core/subject_flags.py, e.g. the A9 blacklist) -----------
    def set_subject_attributes(self, code: str, changes: dict[str, Any], actor: str = "cli",
                               cancel: list[str] | None = None, reason: str = "") -> list[str]:
        """Change a subject's attributes and cancel the named open follow-ups of theirs in one commit;
        returns the follow-ups cancelled."""
        from . import subject_flags

        return subject_flags.set_attributes(self, code, changes, actor, cancel or [], reason)
