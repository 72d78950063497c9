"""The huifang application: command and query service over the event store.

Each command loads the aggregates it needs, checks the rules, and saves every changed
aggregate in ONE `save()` so it is all-or-nothing. A version conflict with a concurrent
writer becomes a one-line ConflictError; nothing is half-applied.
"""
from __future__ import annotations

import hashlib
import time as _time  # start-up retry only: never read as a clock
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError

from . import clock
from .calendar import BusinessCalendar, YearSchedule
from .config import Config
from .contract import CloseFollowUp  # plans may close earlier follow-ups (e.g. P3 household left)
from .contract import (CHANNELS, OUTCOMES, ROLES, SATISFACTION, SATISFACTION_ALIASES, Escalate, FollowUpInfo,
                       Notify, OpenTicket, PlannedVisit, PlanVisit, Question, Settings, Skip, SubjectInfo,
                       SurveyTemplate, SwitchChannel, TriggerInfo, Warn, satisfaction_question)
from .domain import CalendarBook, FollowUp, Staff, Subject, Ticket, Trigger
from .domain.base import NAMESPACE, aggregate_uuid
from .audit import audit_env, install_audit
from .audit.recordings import store_recording
from .errors import ConflictError, HuifangError, NotFound, Refused
from .registry import Registry
from .retry import retry_on_conflict
from .scheduling import Scheduler
from .store import Store

SYSTEM = "system"
# G7: when a subject refuses a channel, these are tried in order.
FALLBACK_CHANNELS = ("sms", "wechat", "email", "letter", "phone")
# G14 reasons that make further attempts pointless or wrong (consent, G7).
LOST_WITHOUT_RETRIES = ("refused", "deceased")

SECOND_FOLLOWUP_SURVEY = SurveyTemplate(
    key="second_followup", title="二次回访 Second follow-up (G12)",
    questions=[
        Question(key="resolved", text="问题是否已解决？ Has the problem been resolved?", choices=["yes", "no"],
                 required=True),
        satisfaction_question("您对处理结果满意吗？ Are you satisfied with how it was handled?"),
        Question(key="comment", text="其他意见 Any other comment", kind="text"),
    ])


class HuifangApp(Application[UUID]):
    name = "huifang"

    def __init__(self, db: str | None = None, config: Config | None = None,
                 registry: Registry | None = None, extra_plugins: dict[str, Any] | None = None):
        self.store = Store.parse(db)
        self.store.prepare()
        self.config = config or Config()
        self.registry = registry or Registry(self.config.huifang.plugins, self.config.plugins, extra_plugins)
        try:
            for n in range(5):  # issue 9: workers starting at once race on PostgreSQL's CREATE ... IF NOT EXISTS
                try:
                    super().__init__(env={**self.store.env(), **audit_env(self.store)})
                    break
                except (OperationalError, PersistenceError) as e:
                    if n == 4 or not any(w in str(e) for w in ("concurrently", "duplicate key", "already exists")):
                        raise
                    _time.sleep(0.05 * (n + 1))
        except (OperationalError, PersistenceError) as e:
            raise HuifangError(f"--db: cannot open the store ({_first_line(e)}); check the path or URL"
                               + ("; if the server is restarting, retry when it is back"
                                  if self.store.kind == "postgres" else "")) from None
        self._calendar: BusinessCalendar | None = None
        self._projector: Any = None
        install_audit(self)  # issue 8: chained + sealed log, PII keys (self.keyring), roles (self.access)

    # -- infrastructure -------------------------------------------------------------------------
    @property
    def projector(self) -> Any:
        if self._projector is None:
            from huifang.projections.engine import Projector, make_engine
            from huifang.projections.views import all_views

            self._projector = Projector(self, all_views(self.registry), make_engine(self.store))
        return self._projector

    def commit(self, *aggregates: Any) -> None:
        """Save a command's aggregates atomically; map store failures to one-line errors."""
        self.access.guard(aggregates)  # issue 8: auditors change nothing; enforced mode needs staff
        self.commit_trail(*aggregates)

    def commit_trail(self, *aggregates: Any) -> None:
        """commit() without the access guard: audit-trail records (reads, refusals) of any actor."""
        try:
            self.save(*aggregates)
        except IntegrityError:
            names = ", ".join(sorted({getattr(a, "code", str(a.id)) for a in aggregates}))
            raise ConflictError(
                f"{names} was changed by another command at the same time; nothing was written: "
                f"re-run the command") from None
        except (OperationalError, PersistenceError) as e:
            raise HuifangError(
                f"the store is unavailable ({_first_line(e)}); nothing was written: retry when it is back") from None

    def load(self, cls: type, code: str, what: str) -> Any:
        try:
            return self.repository.get(aggregate_uuid(_KIND[cls], code))
        except AggregateNotFoundError:
            raise NotFound(f"{what} '{code}' does not exist") from None

    def find(self, cls: type, code: str) -> Any | None:
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

    def demo_attempt_extras(self, fu: FollowUp) -> dict[str, Any]:
        """Demo only: a phone attempt in a plugin that requires recordings names the recorded line."""
        if self.settings(fu.plugin).require_recording and fu.channel == "phone":
            return {"recording_failed_line": "demo-recorded-line"}
        return {}

    def settings(self, plugin: str) -> Settings:
        return self.registry.settings.get(plugin) or Settings()

    @property
    def calendar(self) -> BusinessCalendar:
        if self._calendar is None:
            book = self.find(CalendarBook, "official")
            years = [YearSchedule.from_json(s) for s in (book.years.values() if book else [])]
            self._calendar = BusinessCalendar(years)
        return self._calendar

    def scheduler(self, plugin: str, tz: str | None) -> Scheduler:
        s = self.settings(plugin)
        return Scheduler(self.calendar, s.calling_windows, s.no_holidays, tz or self.config.huifang.timezone,
                         weekends=s.open_weekends)

    def actor_staff(self, actor: str) -> Staff | None:
        if actor in (SYSTEM, "cli"):
            return None
        staff = self.find(Staff, actor)
        if staff is None:
            raise HuifangError(f"--as: staff '{actor}' is not registered (huifang staff add {actor} ...)")
        return staff

    # -- staff and subjects -----------------------------------------------------------------------
    def add_staff(self, code: str, name: str, role: str, dept: str | None = None,
                  reports_to: str | None = None, actor: str = "cli") -> Staff:
        _need_code(code, "staff ID")
        if role not in ROLES:
            raise HuifangError(f"--role: '{role}' is not one of {', '.join(ROLES)}")
        if self.find(Staff, code):
            raise Refused(f"staff '{code}' already exists")
        if reports_to:
            if reports_to == code:
                raise HuifangError("--reports-to: a staff member cannot report to themself")
            self.load(Staff, reports_to, "--reports-to: staff")
        self.access.require(actor, "staff.add", target=f"staff {code}")
        staff = Staff(code=code, name=name, role=role, dept=dept, reports_to=reports_to, actor=actor)
        changed: list[Any] = [staff]
        if role == "admin" and not self.access.enforced():  # issue 8: the first admin turns roles on
            from .audit.trail import AccessPolicy

            changed.append(AccessPolicy(admin=code, actor=actor))
        self.commit(*changed)
        return staff

    def ladder(self, code: str) -> list[str]:
        """Supervisors of a staff member, nearest first."""
        chain: list[str] = []
        current = self.find(Staff, code)
        while current is not None and current.reports_to and current.reports_to not in chain:
            chain.append(current.reports_to)
            current = self.find(Staff, current.reports_to)
        return chain

    def add_subject(self, code: str, name: str, phones: list[str] | None = None, email: str | None = None,
                    tz: str | None = None, attributes: dict | None = None, actor: str = "cli") -> Subject:
        tz = self._check_subject(code, name, phones, email, tz)
        if self.find(Subject, code):
            raise Refused(f"subject '{code}' already exists")
        self.access.require(actor, "subject.add", subject=code)
        subject = self.new_subject(code, name, phones, email, tz, attributes, actor, checked=True)
        self.commit(subject)
        return subject

    def _check_subject(self, code: str, name: str, phones: list[str] | None, email: str | None,
                       tz: str | None) -> str:
        """The subject file's fields (G1); returns the time zone to use."""
        _need_code(code, "subject ID")
        if not name.strip():
            raise HuifangError("--name: must not be empty")
        for p in phones or []:
            if not p.replace("+", "").replace("-", "").replace(" ", "").isdigit():
                raise HuifangError(f"--phone: '{p}' is not a phone number (digits, +, - only)")
        if email is not None and "@" not in email:
            raise HuifangError(f"--email: '{email}' is not an email address")
        tz = tz or self.config.huifang.timezone
        clock.zone(tz)
        return tz

    def new_subject(self, code: str, name: str, phones: list[str] | None = None, email: str | None = None,
                    tz: str | None = None, attributes: dict | None = None, actor: str = "cli",
                    checked: bool = False) -> Subject:
        """add_subject without the save (bulk import batches many into one save); `checked` skips
        re-validating what add_subject already checked. The caller makes sure the id is new."""
        if not checked:
            tz = self._check_subject(code, name, phones, email, tz)
        k = self.keyring  # issue 8: name, phones, email and PII attributes are stored encrypted
        return Subject(code=code, name=k.seal(code, name), phones=k.seal(code, list(phones or [])),
                       email=k.seal(code, email), tz=tz, attributes=k.seal_attributes(code, dict(attributes or {})),
                       actor=actor)

    def opt_out(self, code: str, channel: str, actor: str = "cli") -> Subject:
        """G7: a subject opts out of one channel; every later plan and attempt respects it."""
        if channel not in CHANNELS:
            raise HuifangError(f"--channel: '{channel}' is not one of {', '.join(CHANNELS)}")
        subject = self.load(Subject, code, "subject")
        self.access.require(actor, "subject.change", subject=code)
        if channel in subject.optouts:
            return subject
        subject.opt_out(channel=channel, actor=actor)
        changed = [subject]
        # open follow-ups planned on that channel move to the next allowed one
        for row in self.open_followups_of(code):
            fu = self.load(FollowUp, row, "follow-up")
            if fu.channel == channel:
                fu.switch_channel(channel=_fallback(subject.optouts, channel), reason=f"subject opted out of {channel} (G7)",
                                  actor=actor)
                changed.append(fu)
        self.commit(*changed)
        return subject

    def sign_exemption(self, code: str, statement: str, actor: str = "cli") -> Subject:
        """F6/G7: a signed statement declining all follow-up; open follow-ups close as exempt."""
        if not statement.strip():
            raise HuifangError("--statement: describe the signed statement (e.g. its document number)")
        subject = self.load(Subject, code, "subject")
        self.access.require(actor, "subject.change", subject=code)
        subject.sign_exemption(statement=statement, actor=actor)
        changed: list[Any] = [subject]
        for row in self.open_followups_of(code):
            fu = self.load(FollowUp, row, "follow-up")
            fu.close(status="exempt", reason=f"signed statement: {statement}", actor=actor)
            changed.append(fu)
        self.commit(*changed)
        return subject

    def open_followups_of(self, subject: str) -> list[str]:
        from huifang.projections.core_views import followups as t
        from sqlalchemy import select

        self.projector.catch_up()
        with self.projector.engine.connect() as conn:
            rows = conn.execute(select(t.c.code).where(t.c.subject == subject,
                                                       t.c.status.in_(("planned", "due", "overdue"))))
            return [r.code for r in rows]

    # -- triggers and plans ---------------------------------------------------------------------
    def receive_trigger(self, kind: str, subject: str, attributes: dict[str, Any], trigger_id: str | None = None,
                        at: datetime | None = None, actor: str = "cli") -> tuple[Trigger, list[FollowUp], bool]:
        """Plan a service event. Returns (trigger, follow-ups, created). Re-sending an id is a no-op."""
        trigger, fus, closed, created = self.plan_trigger(kind, subject, attributes, trigger_id, at, actor)
        if created:
            self.commit(trigger, *fus, *closed)
        return trigger, fus, created

    def plan_trigger(self, kind: str, subject: str, attributes: dict[str, Any], trigger_id: str | None = None,
                     at: datetime | None = None, actor: str = "cli", subj: Subject | None = None,
                     check_existing: bool = True) -> tuple[Trigger, list[FollowUp], list[FollowUp], bool]:
        """receive_trigger without the save: (trigger, new follow-ups, closed follow-ups, created), so
        bulk import can save a whole batch of triggers in one `commit`. `subj` may be a subject of the
        same (unsaved) batch; `check_existing=False` skips the look-up when the caller knows the id is new
        (a wrong guess fails the batch's save as a conflict, nothing written)."""
        k = self.registry.resolve_kind(kind)
        now = clock.now()
        at = at or now
        attrs = self.validate_attributes(k, attributes)
        code = trigger_id or _derived_trigger_id(k.qualified, subject, at, attrs)
        _need_code(code, "--id")
        existing = self.find(Trigger, code) if check_existing else None
        if existing is not None:
            if existing.kind != k.qualified or existing.subject != subject:
                raise Refused(f"--id: trigger '{code}' was already used for {existing.kind} of subject "
                              f"{existing.subject}; use another id")
            return existing, [self.load(FollowUp, f, "follow-up") for f in existing.followups], [], False
        subj = subj if subj is not None else self.load(Subject, subject, "--subject: subject")
        if getattr(subj, "erased", False):
            raise Refused(f"subject {subject} was erased (issue 8): no new service events for them")
        self.access.require(actor, "trigger", subject=subject)
        info = TriggerInfo(id=code, kind=k.qualified, plugin=k.plugin, subject=subject, at=at, attributes=attrs)
        settings = self.settings(k.plugin)
        scheduler = self.scheduler(k.plugin, subj.tz)
        planned = self.registry.call(k.plugin, "huifang_plan", trigger=info, subject=_subject_info(subj, self.keyring),
                                     settings=settings, scheduler=scheduler, history=Lookup(self)) or []
        visits = [p for p in planned if isinstance(p, PlannedVisit)]
        skips = [p for p in planned if isinstance(p, Skip)]
        fus = [self._new_followup(info, v, subj, actor) for v in visits]
        trigger = Trigger(code=code, kind=k.qualified, plugin=k.plugin, subject=subject, occurred_at=at.isoformat(),
                          attributes=_jsonable(attrs), followups=[f.code for f in fus],
                          skipped=[s.model_dump(mode="json") for s in skips], actor=actor)
        closed = self._close_from_plan(info, [p for p in planned if isinstance(p, CloseFollowUp)], actor)
        return trigger, fus, closed, True

    def _close_from_plan(self, info: TriggerInfo, items: list, actor: str) -> list[FollowUp]:
        """contract.CloseFollowUp from a plan: close earlier open follow-ups of the same subject and plugin."""
        out: list[FollowUp] = []
        for c in items:
            fu = self.load(FollowUp, c.followup, "follow-up")
            if fu.subject != info.subject or fu.plugin != info.plugin:
                raise Refused(f"{info.kind}: plan may not close {fu.code} (another subject or plugin)")
            if fu.closed or any(f.code == fu.code for f in out):
                continue
            fu.close(status=c.status, reason=f"{c.reason} (trigger {info.id})", actor=actor)
            out.append(fu)
        return out

    def validate_attributes(self, k: Any, attributes: dict[str, Any]) -> dict[str, Any]:
        from pydantic import ValidationError

        from .config import pydantic_message

        try:
            model = k.spec.attributes.model_validate(attributes)
        except ValidationError as e:
            raise HuifangError(pydantic_message(e, prefix="--attr") + f" (trigger kind {k.qualified})") from None
        return model.model_dump(mode="json")

    def _new_followup(self, trigger: TriggerInfo, v: PlannedVisit, subj: Subject, actor: str,
                      extra_meta: dict | None = None) -> FollowUp:
        code = f"{trigger.id}-{v.key}"
        if v.owner and v.owner in v.excluded_staff:
            raise Refused(f"G9: {v.owner} has an interest in trigger {trigger.id} and cannot own its follow-up")
        channel = v.channel
        if channel in subj.optouts:
            channel = _fallback(subj.optouts, channel)
        meta = dict(v.meta)
        if v.window_rule:
            meta["window_rule"] = v.window_rule
        meta.update(extra_meta or {})
        fu = FollowUp(code=code, subject=subj.code, trigger=trigger.id, trigger_kind=trigger.kind,
                      plugin=trigger.plugin, visit_type=v.visit_type, key=v.key, window_open=v.window_open,
                      due=v.due, owner=v.owner, owner_role=v.owner_role, channel=channel,
                      provisional=v.provisional, excluded_staff=v.excluded_staff, excluded_roles=v.excluded_roles,
                      department=v.department, branch=v.branch, meta=_jsonable(meta), actor=actor)
        if subj.exempt:  # F6: the signed statement closes it as exempt, not lost
            fu.close(status="exempt", reason=f"signed statement: {subj.exemption_note}", actor=actor)
        return fu

    # -- work on a follow-up ----------------------------------------------------------------------
    def _check_actor(self, fu: FollowUp, actor: str, action: str) -> Staff | None:
        """G9 (conflict of interest, for every plugin), A4 lock and the actor's role (issue 8); every
        refusal is recorded in the actor's access log before it is raised."""
        staff = self.actor_staff(actor)
        deny = self.access.deny
        if actor in fu.excluded_staff:
            raise deny(actor, f"followup.{action}", f"follow-up {fu.code}",
                       f"G9: {actor} has an interest in {fu.code} (sold or advised it) and may not {action} it")
        if staff is not None and staff.role in fu.excluded_roles:
            raise deny(actor, f"followup.{action}", f"follow-up {fu.code}",
                       f"G9: staff in the {staff.role} role may not {action} {fu.code}")
        if staff is not None and staff.lock:
            who = self.unlockers(staff)
            raise deny(actor, f"followup.{action}", f"follow-up {fu.code}",
                       f"A4: {actor} is locked (level {staff.lock['level']}, overdue "
                       f"{', '.join(staff.lock['followups'][:3])}): {who}")
        self.access.require(actor, "followup.work", fu=fu)
        return staff

    def _seal_answers(self, fu: FollowUp, answers: dict[str, Any]) -> dict[str, Any]:
        """Free-text answers are personal data (stored encrypted); choices, scores and yes/no stay plain
        so statistics never need the plaintext (issue 8)."""
        template = self.survey(fu)
        free = {q.key for q in (template.questions if template else [])
                if q.kind == "text" or (q.kind == "choice" and q.choices is None)}
        return {k: (self.keyring.seal(fu.subject, v) if k in free and isinstance(v, str) else v)
                for k, v in answers.items()}

    def unlock_ladder(self, staff: Staff) -> list[str]:
        """A4: who may unlock: one level up or above (level 1), two levels up or above (2 and hard
        lock 3). A ladder too short for the level leaves its top to decide."""
        level = staff.lock["level"] if staff.lock else 0
        chain = self.ladder(staff.code)
        skip = 0 if level <= 1 else 1
        return chain[skip:] if len(chain) > skip else chain[-1:]

    def unlockers(self, staff: Staff) -> str:
        level = staff.lock["level"] if staff.lock else 0
        need = self.unlock_ladder(staff)
        names = " or ".join(need[:2]) if need else "a manager"
        if level >= 3:
            return (f"hard lock: an approved rectification report is needed "
                    f"(huifang --as {need[0] if need else 'MANAGER'} unlock {staff.code} --report FILE; the report "
                    f"names {', '.join(staff.lock['followups'][:5])}; approved by {names}, two levels up)")
        return f"unlock needs {names} ({'one level' if level == 1 else 'two levels'} up)"

    @retry_on_conflict  # issue 9: safe to redo after a re-read and re-check
    def record_attempt(self, code: str, channel: str, outcome: str, note: str | None = None,
                       recording: str | None = None, actor: str = "cli",
                       recording_failed_line: str | None = None) -> tuple[FollowUp, list[str]]:
        if channel not in CHANNELS:
            raise HuifangError(f"--channel: '{channel}' is not one of {', '.join(CHANNELS)}")
        if outcome not in OUTCOMES:
            raise HuifangError(f"--outcome: '{outcome}' is not one of {', '.join(OUTCOMES)}")
        fu = self.load(FollowUp, code, "follow-up")
        if fu.closed:
            raise Refused(f"follow-up {code} is already {fu.status}: cannot record an attempt")
        self._check_actor(fu, actor, "attempt")
        subj = self.load(Subject, fu.subject, "subject")
        if channel in subj.optouts:
            raise Refused(f"G7: subject {subj.code} opted out of {channel}: use "
                          f"{', '.join(c for c in FALLBACK_CHANNELS if c not in subj.optouts)}")
        rec = store_recording(self, recording) if recording else None  # G11: copied, hashed (issue 8)
        if rec is None and recording_failed_line:
            rec = {"failed_system": True, "line": recording_failed_line}
        attempt = {"channel": channel, "outcome": outcome, "note": note, "recording": rec, "actor": actor}
        settings = self.settings(fu.plugin)
        refusals = [r for r in self.registry.pm.hook.huifang_check_attempt(
            followup=self.info(fu), attempt=attempt, settings=settings) if r]
        if settings.require_recording and channel == "phone" and rec is None:
            refusals.append("G11: a phone attempt needs --recording FILE (or the recording system flagged as "
                            "failed with another recorded line)")
        if refusals:
            raise Refused(refusals[0])
        sched = self.scheduler(fu.plugin, subj.tz)
        now = clock.now()
        retry = None if outcome in ("reached", "refused") else sched.next_retry(now)
        fu.record_attempt(channel=channel, outcome=outcome, note=self.keyring.seal(fu.subject, note), recording=rec,
                          outside_window=not sched.in_window(now), next_attempt_at=retry, actor=actor)
        messages: list[str] = []
        if not sched.in_window(now):
            messages.append(f"G6: {now.astimezone(sched.tz):%Y-%m-%d %H:%M} is outside the calling windows "
                            f"({', '.join(settings.calling_windows)}, workdays)")
        reactions = self.registry.call(fu.plugin, "huifang_on_attempt", followup=self.info(fu), attempt=attempt,
                                       settings=settings, scheduler=sched, history=Lookup(self)) or []
        changed = self._react(fu, subj, reactions, actor, messages)
        self.commit(fu, *changed)
        return fu, messages

    def survey(self, fu: FollowUp) -> SurveyTemplate | None:
        if fu.visit_type == "second_followup":
            return SECOND_FOLLOWUP_SURVEY
        vt = self.registry.visit_type(fu.plugin, fu.visit_type)
        return vt.survey if vt else None

    @retry_on_conflict  # issue 9: the re-check refuses a follow-up another operator completed
    def complete(self, code: str, answers: dict[str, Any], actor: str = "cli") -> tuple[FollowUp, list[str]]:
        fu = self.load(FollowUp, code, "follow-up")
        if fu.closed:
            raise Refused(f"follow-up {code} is already {fu.status}: cannot complete it")
        self._check_actor(fu, actor, "complete")
        if not fu.reached:
            raise Refused(
                f"follow-up {code} has no reached attempt: record one first "
                f"(huifang attempt {code} --channel {fu.channel} --outcome reached)")
        clean = validate_answers(self.survey(fu), answers)
        fu.complete(answers=self._seal_answers(fu, clean), actor=actor)
        subj = self.load(Subject, fu.subject, "subject")
        changed: list[Any] = []
        messages: list[str] = []
        if fu.visit_type == "second_followup":
            ticket = self.load(Ticket, fu.meta["ticket"], "ticket")
            if clean.get("resolved") == "no":
                ticket.reopen(reason="subject says the problem is not resolved (second follow-up)", actor=actor)
                messages.append(f"G12: ticket {ticket.code} reopened: the subject says it is not resolved")
            else:
                ticket.close(confirmed=True, actor=actor)
                messages.append(f"G12: ticket {ticket.code} closed after the second follow-up")
            changed.append(ticket)
        else:
            sched = self.scheduler(fu.plugin, subj.tz)
            reactions = self.registry.call(fu.plugin, "huifang_on_completed", followup=self.info(fu),
                                           answers=clean, settings=self.settings(fu.plugin), scheduler=sched,
                                           history=Lookup(self)) or []
            changed += self._react(fu, subj, reactions, actor, messages)
        self.commit(fu, *changed)
        return fu, messages

    def close_followup(self, code: str, status: str, reason: str, actor: str = "cli") -> FollowUp:
        """lost (G5, G14), cancelled, exempt (F6)."""
        fu = self.load(FollowUp, code, "follow-up")
        if fu.closed:
            raise Refused(f"follow-up {code} is already {fu.status}: cannot close it as {status}")
        staff = self.actor_staff(actor)
        if staff is not None and staff.lock:
            raise Refused(f"A4: {actor} is locked: {self.unlockers(staff)}")
        self.access.require(actor, "followup.work", fu=fu)  # issue 8: owner, ladder or department
        reason = (reason or "").strip()
        if status == "lost":
            if not reason:
                raise HuifangError("--lost: a reason is required (G14), e.g. no_answer, wrong_number, moved")
            self._check_g5(fu, reason)
        elif status == "cancelled":
            if not reason:
                raise HuifangError("--cancel: a reason is required")
        elif status == "exempt":
            subj = self.load(Subject, fu.subject, "subject")
            if not reason and not subj.exempt:
                raise Refused(f"F6: {fu.subject} has no signed no-follow-up statement: pass --statement TEXT "
                              f"or record it with 'huifang subject exempt {fu.subject} --statement TEXT'")
            reason = reason or f"signed statement: {subj.exemption_note}"
        else:
            raise HuifangError(f"close: status '{status}' is not one of lost, cancelled, exempt")
        fu.close(status=status, reason=reason, actor=actor)
        self.commit(fu)
        return fu

    def _check_g5(self, fu: FollowUp, reason: str) -> None:
        """G5: at least 3 attempts, each at a different time (distinct calling slots), before lost."""
        if reason in LOST_WITHOUT_RETRIES and any(a["outcome"] in ("refused", "reached") for a in fu.attempts):
            return
        need = self.settings(fu.plugin).min_attempts
        subj = self.load(Subject, fu.subject, "subject")
        sched = self.scheduler(fu.plugin, subj.tz)
        slots = {sched.slot_of(a["at"]) or (sched.local_day(a["at"]), a["at"].astimezone(sched.tz).hour)
                 for a in fu.attempts}
        if len(fu.attempts) < need:
            raise Refused(f"G5: {fu.code} has {len(fu.attempts)} attempt(s); at least {need} at different "
                          f"times are needed before it may be closed as lost")
        if len(slots) < need:
            raise Refused(f"G5: {fu.code}'s {len(fu.attempts)} attempts fall in {len(slots)} calling slot(s); "
                          f"retry at another time ({need} different slots needed) before closing as lost")

    def reassign(self, code: str, to: str, reason: str, actor: str = "cli") -> FollowUp:
        fu = self.load(FollowUp, code, "follow-up")
        target = self.load(Staff, to, "--to: staff")
        if to in fu.excluded_staff or target.role in fu.excluded_roles:
            raise self.access.deny(actor, "followup.reassign", f"follow-up {code}",
                                   f"G9: {to} has an interest in {code} and cannot own it")
        self.access.require(actor, "followup.reassign", fu=fu, target_staff=target)  # issue 8: within the ladder
        fu.reassign(to_owner=to, reason=reason or "reassigned", actor=actor)
        self.commit(fu)
        return fu

    # -- reactions ----------------------------------------------------------------------------------
    def _react(self, fu: FollowUp, subj: Subject, reactions: list, actor: str, messages: list[str]) -> list[Any]:
        changed: list[Any] = []
        for r in reactions:
            if isinstance(r, PlanVisit):
                trigger = self.load(Trigger, fu.trigger, "trigger")
                info = TriggerInfo(id=trigger.code, kind=trigger.kind, plugin=trigger.plugin, subject=trigger.subject,
                                   at=datetime.fromisoformat(trigger.occurred_at), attributes=trigger.attributes)
                code = f"{trigger.code}-{r.visit.key}"
                if code in trigger.followups or any(getattr(c, "code", None) == code for c in changed):
                    continue
                new = self._new_followup(info, r.visit, subj, actor, {"planned_by": fu.code})
                trigger.add_followup(followup=new.code, actor=actor)
                changed += [new, trigger]
                messages.append(f"planned {new.code} ({new.visit_type}) due {clock.iso(new.due, subj.tz)}")
            elif isinstance(r, OpenTicket):
                ticket = self._open_ticket(fu, r, actor)
                changed.append(ticket)
                messages.append(f"ticket {ticket.code} opened for {ticket.department} ({ticket.severity})")
                for who in r.notify:  # the note may carry what the subject said: stored encrypted (issue 8)
                    fu.notify(to=who, message=self.keyring.seal(fu.subject, f"ticket {ticket.code}: "
                                                                             f"{r.note or r.category}"), actor=actor)
            elif isinstance(r, Escalate):
                to = r.to or (self.ladder(fu.owner)[:1] or [None])[0] if (r.to or fu.owner) else None
                fu.escalate(to=to, reason=r.reason, level=len(fu.escalations) + 1, actor=actor)
                messages.append(f"escalated to {to or 'management'}: {r.reason}")
            elif isinstance(r, SwitchChannel):
                if r.channel != fu.channel:
                    fu.switch_channel(channel=r.channel, reason=r.reason, actor=actor)
                    messages.append(f"next attempt by {r.channel}: {r.reason}")
            elif isinstance(r, Notify):
                fu.notify(to=r.to, message=self.keyring.seal(fu.subject, r.message), actor=actor)
                messages.append(f"notified {r.to}: {r.message}")
            elif isinstance(r, Warn):
                messages.append(r.message)
        # a reaction may touch the same trigger twice: keep one object each
        unique: dict[Any, Any] = {}
        for c in changed:
            unique[c.id] = c
        return list(unique.values())

    # -- tickets (G12) ----------------------------------------------------------------------------
    def _open_ticket(self, fu: FollowUp, r: OpenTicket, actor: str) -> Ticket:
        n = len(fu.tickets) + 1
        code = f"TK-{fu.code}-{n}"
        settings = self.settings(fu.plugin)
        now = clock.now()
        if r.deadline_workdays:
            subj_tz = self.load(Subject, fu.subject, "subject").tz
            sched = self.scheduler(fu.plugin, subj_tz)
            deadline = sched.end_of(sched.workday_after(now, r.deadline_workdays))
        else:
            deadline = now + timedelta(hours=r.deadline_hours or settings.ticket_deadline_hours)
        ticket = Ticket(code=code, followup=fu.code, subject=fu.subject, plugin=fu.plugin, category=r.category,
                        department=r.department, severity=r.severity, owner=r.owner, deadline=deadline,
                        note=self.keyring.seal(fu.subject, r.note), actor=actor)
        fu.link_ticket(ticket=code, actor=actor)
        if r.severity == "major":  # G13: escalate to management at once
            ticket.escalate(to=r.owner, reason="major anomaly: management informed at once (G13)", actor=actor)
        return ticket

    def open_ticket(self, code: str, category: str, department: str, severity: str = "normal", note: str = "",
                    actor: str = "cli") -> Ticket:
        if severity not in ("normal", "major"):
            raise HuifangError(f"--severity: '{severity}' is not one of normal, major")
        if not category.strip() or not department.strip():
            raise HuifangError("--category and --dept must not be empty")
        fu = self.load(FollowUp, code, "follow-up")
        self.access.require(actor, "followup.work", fu=fu)  # issue 8
        ticket = self._open_ticket(fu, OpenTicket(category=category, department=department, severity=severity,
                                                  note=note), actor)
        self.commit(fu, ticket)
        return ticket

    def resolve_ticket(self, code: str, note: str, actor: str = "cli") -> tuple[Ticket, FollowUp]:
        """The department's answer; plans the second follow-up (二次回访) within 4 h (G12)."""
        if not (note or "").strip():
            raise HuifangError("--note: say how the problem was handled")
        ticket = self.load(Ticket, code, "ticket")
        self.access.require(actor, "ticket.resolve", ticket=ticket)  # issue 8: the department or its managers
        origin = self.load(FollowUp, ticket.followup, "follow-up")
        trigger = self.load(Trigger, origin.trigger, "trigger")
        now = clock.now()
        hours = self.settings(origin.plugin).second_followup_hours
        n = sum(1 for f in trigger.followups if f.startswith(f"{trigger.code}-{origin.key}-recheck"))
        key = f"{origin.key}-recheck{n + 1}"
        second = FollowUp(code=f"{trigger.code}-{key}", subject=origin.subject, trigger=trigger.code,
                          trigger_kind=origin.trigger_kind, plugin=origin.plugin, visit_type="second_followup",
                          key=key, window_open=now, due=now + timedelta(hours=hours), owner=origin.owner,
                          owner_role=origin.owner_role, channel=origin.channel, provisional=False,
                          excluded_staff=origin.excluded_staff, excluded_roles=origin.excluded_roles,
                          department=origin.department, branch=origin.branch,
                          meta={"ticket": ticket.code, "planned_by": origin.code}, actor=actor)
        ticket.resolve(note=self.keyring.seal(ticket.subject, note), second_followup=second.code, actor=actor)
        trigger.add_followup(followup=second.code, actor=actor)
        self.commit(ticket, second, trigger)
        return ticket, second

    # -- staff locks (A4 as an engine capability) -------------------------------------------------------
    def unlock(self, code: str, report: str | None = None, actor: str = "cli") -> Staff:
        staff = self.load(Staff, code, "staff")
        if not staff.lock:
            raise Refused(f"{code} is not locked")
        level = staff.lock["level"]
        self.access.require(actor, "staff.unlock", target_staff=staff, target=f"staff {code}")  # issue 8
        if actor not in self.unlock_ladder(staff):
            raise Refused(f"A4: {actor} cannot unlock {code} (level {level}): {self.unlockers(staff)}")
        report_doc = None
        if level >= 3:
            report_doc = self._rectification_report(staff, report, actor)
            staff.approve_rectification(report=report_doc, actor=actor)
        staff.unlock(level=level, report=report_doc, actor=actor)
        self.commit(staff)
        return staff

    def _rectification_report(self, staff: Staff, report: str | None, actor: str) -> dict[str, Any]:
        """A4 hard lock: the rectification report (整改报告) is a text file that names every overdue
        follow-up of the lock; unlocking with it is its approval by `actor` (two levels up), recorded
        as a RectificationApproved event with the file's SHA-256."""
        if not report:
            raise Refused(f"A4: {staff.code} is hard-locked ({staff.lock['days_overdue']} days overdue): "
                          f"pass --report FILE with the rectification report to approve")
        p = Path(report)
        if not p.is_file():
            raise HuifangError(f"--report: file '{report}' does not exist")
        data = p.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise HuifangError(f"--report: '{p.name}' is not UTF-8 text; give the report as a text file") from None
        if not text.strip():
            raise HuifangError(f"--report: '{p.name}' is empty")
        missing = [f for f in staff.lock["followups"] if f not in text]
        if missing:
            raise Refused(f"A4: the rectification report does not address {', '.join(missing[:5])}"
                          f"{' …' if len(missing) > 5 else ''}: name every overdue follow-up of the lock")
        return {"file": p.name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                "approved_by": actor, "followups": list(staff.lock["followups"]), "level": staff.lock["level"],
                "days_overdue": staff.lock["days_overdue"]}

    # -- calendar (G6) --------------------------------------------------------------------------------
    def import_calendar(self, schedules: list[YearSchedule], actor: str = "cli") -> dict[str, Any]:
        """Store official year schedules and re-plan provisional deadlines with Rescheduled events."""
        self.access.require(actor, "calendar.import", target="calendar")  # issue 8: admins
        book = self.find(CalendarBook, "official") or CalendarBook(actor=actor)
        for s in schedules:
            book.import_year(schedule=s.to_json(), actor=actor)
        self._calendar = BusinessCalendar(
            [YearSchedule.from_json(x) for x in book.years.values()])
        from huifang.projections.core_views import followups as t
        from sqlalchemy import select

        self.projector.catch_up()
        with self.projector.engine.connect() as conn:
            codes = [r.code for r in conn.execute(select(t.c.code).where(
                t.c.provisional.is_(True), t.c.status.in_(("planned", "due", "overdue"))))]
        changed: list[Any] = [book]
        moved = 0
        for c in codes:
            fu = self.load(FollowUp, c, "follow-up")
            rule = fu.meta.get("window_rule")
            if not rule:
                continue
            subj = self.load(Subject, fu.subject, "subject")
            w = self.scheduler(fu.plugin, subj.tz).replan(rule)
            if (w.open, w.due, w.provisional) != (fu.window_open, fu.due, fu.provisional):
                fu.reschedule(window_open=w.open, due=w.due, provisional=w.provisional,
                              reason=f"official calendar imported for {', '.join(str(s.year) for s in schedules)}",
                              actor=actor)
                changed.append(fu)
                moved += 1
        self.commit(*changed)
        return {"years": [s.year for s in schedules], "rescheduled": moved, "checked": len(codes)}

    # -- views for plugins ---------------------------------------------------------------------------
    def info(self, fu: FollowUp) -> FollowUpInfo:
        trig = self.find(Trigger, fu.trigger)
        return FollowUpInfo(id=fu.code, subject=fu.subject, trigger=fu.trigger, trigger_kind=fu.trigger_kind,
                            plugin=fu.plugin, visit_type=fu.visit_type, key=fu.key, owner=fu.owner,
                            channel=fu.channel, window_open=fu.window_open, due=fu.due, status=fu.status,
                            attempts=[_jsonable(a) for a in fu.attempts], answers=fu.answers, meta=fu.meta,
                            trigger_attributes=trig.attributes if trig else {})


class Lookup:
    """Read-only access to earlier triggers and follow-ups for plans and reactions (views)."""

    def __init__(self, app: HuifangApp):
        self.app = app

    def triggers(self, subject: str, kind: str | None = None) -> list[dict[str, Any]]:
        from huifang.projections.core_views import triggers as t
        from sqlalchemy import select

        self.app.projector.catch_up()
        q = select(t).where(t.c.subject == subject)
        if kind:
            q = q.where(t.c.kind == kind)
        with self.app.projector.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q.order_by(t.c.occurred_at))]

    def followups(self, subject: str) -> list[dict[str, Any]]:
        from huifang.projections.core_views import followups as t
        from sqlalchemy import select

        self.app.projector.catch_up()
        with self.app.projector.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(t).where(t.c.subject == subject).order_by(t.c.window_open))]

    def staff(self, code: str) -> dict[str, Any] | None:
        s = self.app.find(Staff, code)
        return None if s is None else {"id": s.code, "role": s.role, "dept": s.dept, "reports_to": s.reports_to}


_KIND = {Subject: "subject", Staff: "staff", Trigger: "trigger", FollowUp: "followup", Ticket: "ticket",
         CalendarBook: "calendar"}


def validate_answers(template: SurveyTemplate | None, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers must match the visit type's survey: known keys, allowed choices, G16 scale."""
    if not answers:
        raise HuifangError("--answer: give at least one KEY=VALUE (or --answers FILE.json)")
    if template is None:
        return dict(answers)
    questions = {q.key: q for q in template.questions}
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        q = questions.get(key)
        if q is None:
            raise HuifangError(f"--answer {key}: not a question of survey '{template.key}'; "
                               f"questions: {', '.join(questions)}")
        v = str(value).strip() if not isinstance(value, (int, float, bool)) else value
        if key == "satisfaction":
            v = SATISFACTION_ALIASES.get(str(v), v)
            if v not in SATISFACTION:
                raise HuifangError(f"--answer satisfaction: '{value}' is not one of {' | '.join(SATISFACTION)} "
                                   f"(or {' | '.join(SATISFACTION_ALIASES)})")
        elif q.kind == "score":
            try:
                v = int(v)
            except (TypeError, ValueError):
                raise HuifangError(f"--answer {key}: '{value}' is not a whole number") from None
            if (q.min is not None and v < q.min) or (q.max is not None and v > q.max):
                raise HuifangError(f"--answer {key}: {v} is outside {q.min}..{q.max}")
        elif q.kind == "bool":
            s = str(v).lower()
            if s not in ("yes", "no", "true", "false", "1", "0", "是", "否"):
                raise HuifangError(f"--answer {key}: '{value}' is not yes or no")
            v = "yes" if s in ("yes", "true", "1", "是") else "no"
        elif q.choices and v not in q.choices:
            raise HuifangError(f"--answer {key}: '{value}' is not one of {' | '.join(q.choices)}")
        clean[key] = v
    missing = [q.key for q in template.questions if q.required and q.key not in clean]
    if missing:
        raise HuifangError(f"--answer: missing required answer(s) {', '.join(missing)} "
                           f"for survey '{template.key}'")
    return clean


def _fallback(optouts: list[str], channel: str) -> str:
    for c in FALLBACK_CHANNELS:
        if c not in optouts and c != channel:
            return c
    return "letter"


def _subject_info(s: Subject, keyring: Any = None) -> SubjectInfo:
    attributes = keyring.reveal_all(s.attributes) if keyring is not None else s.attributes  # plans see plaintext
    return SubjectInfo(id=s.code, tz=s.tz, attributes=attributes, optouts=s.optouts, exempt=s.exempt)


def _derived_trigger_id(kind: str, subject: str, at: datetime, attrs: dict) -> str:
    import json

    digest = uuid5(NAMESPACE, json.dumps([kind, subject, at.isoformat(), attrs], sort_keys=True, default=str))
    return f"T{digest.hex[:16]}"


def _need_code(code: str, field: str) -> None:
    if not code or not code.strip() or any(c.isspace() for c in code) or len(code) > 120:
        raise HuifangError(f"{field}: '{code}' must be 1-120 characters without spaces")


def _recording(path: str) -> dict[str, Any]:
    """G11: the recording's SHA-256 and size (the file itself stays outside the event store)."""
    p = Path(path)
    if not p.is_file():
        raise HuifangError(f"--recording: file '{path}' does not exist")
    h = hashlib.sha256()
    size = 0
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return {"path": str(p.resolve()), "sha256": h.hexdigest(), "size": size}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
