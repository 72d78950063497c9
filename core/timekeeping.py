"""How far a record's time is trusted (README "For auditors": time).

- The store's clock mode is chosen at `init` and recorded (a `StoreClock` event, chained like every
  record): `logical` (demos, tests, replays: `--now` as given) or `system` (production: the host's
  clock; `--now` refused). A store that recorded none (made before modes existed, or opened in-process
  without `init`) runs as logical until `init --clock` records one.
- No record goes back in time: per aggregate (domain.base), and store-wide: a command's records may
  not be earlier than the store's high-water time (its latest record) less the tolerance (minutes,
  fixed at `init`; a deployment's config may only narrow it), which absorbs concurrent commands and
  small clock differences between hosts.
- The one way back is a backfill on a system-clock store: an admin grants a staff member a window
  (`clock backfill-grant`), who then enters the late record with `--now T --backfill REASON`. The
  grant and every entry (what it wrote, when it claims and when it was entered) are `BackfillLog`
  events, and reports that count such records flag them (projections/core_reports.py).

Stable topics: `huifang:StoreClock.*`, `huifang:BackfillLog.*` (one of each per store).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import event

from . import clock
from .domain.base import Base, aggregate_uuid, record_name
from .errors import HuifangError, Refused

DEFAULT_MODE = clock.SYSTEM  # `init` without --clock (or HUIFANG_CLOCK): the safe choice for production
# minutes a record may fall behind the store's latest one, by mode, unless the config at init says
# otherwise: on the host's clock, concurrent commands and small differences between hosts; a logical
# store (tests, demos, replays: --now as given) has no store-wide bound unless configured, only each
# record's own order
DEFAULT_TOLERANCE_MINUTES: dict[str, int | None] = {clock.SYSTEM: 5, clock.LOGICAL: None}
MAX_GRANT_HOURS = 72
_CACHE = "_huifang_time"  # per application: the recorded clock and the high-water time seen so far


class StoreClock(Base):
    """The clock mode of the store, chosen once at `init`."""

    class Chosen(Base.Created):
        mode: str
        tolerance_minutes: int | None  # None: no store-wide bound (logical stores by default)
        actor: str

    @event(Chosen)
    def __init__(self, mode: str, tolerance_minutes: int | None, actor: str):
        self.mode = mode
        self.tolerance_minutes = tolerance_minutes

    @staticmethod
    def create_id() -> Any:
        return aggregate_uuid("clock", "store")


class BackfillLog(Base):
    """Admins' backfill grants and every late entry made under one."""

    class Opened(Base.Created):
        actor: str

        @classmethod
        def create_timestamp(cls) -> datetime:
            return clock.recorded_now()  # when it was entered, not the instant a backfill claims

    @event(Opened)
    def __init__(self, actor: str):
        self.grants: list[dict] = []
        self.entries: list[dict] = []

    @staticmethod
    def create_id() -> Any:
        return aggregate_uuid("clock", "backfills")

    class Granted(Base.Event):
        to: str
        reason: str
        until: datetime
        actor: str

    @event(Granted)
    def grant(self, to: str, reason: str, until: datetime, actor: str) -> None:
        self.grants.append({"n": len(self.grants) + 1, "at": self.modified_on, "to": to, "reason": reason,
                            "until": until, "by": actor})

    class Entered(Base.Event):
        claimed: datetime  # the instant the entry says it happened (--now)
        grant: int
        reason: str
        records: list  # [{"kind": "FollowUp", "code": "D1-1", "events": ["AttemptRecorded"]}]
        actor: str

        @classmethod
        def create_timestamp(cls) -> datetime:
            return clock.recorded_now()

    @event(Entered)
    def enter(self, claimed: datetime, grant: int, reason: str, records: list, actor: str) -> None:
        self.entries.append({"n": len(self.entries) + 1, "at": self.modified_on, "claimed": claimed,
                             "grant": grant, "reason": reason, "records": list(records), "by": actor})

    def live_grant(self, staff: str, at: datetime) -> dict | None:
        """The latest grant to `staff` still open at the wall-clock instant `at`."""
        return next((g for g in reversed(self.grants) if g["to"] == staff and g["at"] <= at < g["until"]), None)


# -- the recorded clock ------------------------------------------------------------------------------
def _cache(app: Any) -> dict[str, Any]:
    found: dict[str, Any] | None = app.__dict__.get(_CACHE)
    if found is None:
        found = {}
        app.__dict__[_CACHE] = found
    return found


def recorded(app: Any) -> StoreClock | None:
    cache = _cache(app)
    if "clock" not in cache:  # read once per application (None: no mode recorded)
        cache["clock"] = app.find_by_id(StoreClock.create_id())
    found: StoreClock | None = cache["clock"]
    return found


def mode(app: Any) -> str:
    rec = recorded(app)
    return rec.mode if rec is not None else clock.LOGICAL


def tolerance(app: Any) -> timedelta | None:
    """The store's tolerance (None: no store-wide bound), narrowed, never widened, by the deployment's
    config."""
    rec = recorded(app)
    minutes = rec.tolerance_minutes if rec is not None else DEFAULT_TOLERANCE_MINUTES[clock.LOGICAL]
    configured = app.config.huifang.clock_tolerance_minutes
    if configured is not None:
        minutes = configured if minutes is None else min(minutes, configured)
    return None if minutes is None else timedelta(minutes=minutes)


def choose(app: Any, requested: str | None, actor: str, now_given: bool) -> tuple[str, bool]:
    """`init`: record the clock mode once (requested, else the default). Returns (mode, newly recorded);
    a different mode than the one recorded is refused: the mode never changes."""
    rec = recorded(app)
    if rec is not None:
        if requested is not None and requested != rec.mode:
            raise HuifangError(f"this store runs on the {rec.mode} clock since it was set up (recorded); the "
                               f"clock mode never changes", field="clock")
        return rec.mode, False
    if requested is None and latest(app) is not None:  # an older store: its records ran on --now until now
        raise HuifangError("this store has records but no clock mode yet: choose it once, logical (keeps --now) "
                           "or system (the host's clock from now on)", field="clock")
    chosen = requested or DEFAULT_MODE
    if chosen not in clock.MODES:
        raise HuifangError(f"'{chosen}' is not one of {', '.join(clock.MODES)}", field="clock")
    if chosen == clock.SYSTEM and now_given:
        raise HuifangError("a store on the system clock runs at the host's clock: set it up without --now "
                           "(or HUIFANG_NOW)", field="now")
    configured = app.config.huifang.clock_tolerance_minutes
    minutes = DEFAULT_TOLERANCE_MINUTES[chosen] if configured is None else configured
    rec = StoreClock(mode=chosen, tolerance_minutes=minutes, actor=actor)
    app.commit(rec)
    _cache(app)["clock"] = rec
    return chosen, True


# -- the CLI edge ------------------------------------------------------------------------------------------
def admit(app: Any, actor: str, now_given: bool, backfill: str | None, wall: datetime) -> None:
    """Whether this command may run at its instant, on this store's clock; a valid backfill marks the
    command (clock.enter_backfill). Called when a command opens the store (cli/state.py)."""
    store_mode = mode(app)
    if backfill is None:
        if store_mode == clock.SYSTEM and now_given:
            raise HuifangError("this store runs on the system clock (chosen at init): --now is refused; a late "
                               "entry needs an admin's grant (huifang clock backfill-grant STAFF --reason TEXT) "
                               "and --now T --backfill REASON", field="now")
        return
    reason = " ".join(backfill.split())
    if store_mode != clock.SYSTEM:
        raise HuifangError("this store runs on the logical clock: --now is taken as given and a record still "
                           "never goes back in time; backfill is for system-clock stores", field="backfill")
    if not reason:
        raise HuifangError("a reason is required (e.g. the paper form entered late)", field="backfill")
    if not now_given:
        raise HuifangError("name the instant the late record happened with --now", field="backfill")
    instant = clock.now()
    if instant > wall:
        raise HuifangError(f"{clock.iso(instant)} is in the future (the system clock says {clock.iso(wall)})",
                           field="now")
    log = app.find_by_id(BackfillLog.create_id())
    grant = log.live_grant(actor, wall) if log is not None else None
    if grant is None:
        raise Refused(f"{actor} holds no open backfill grant: an admin grants one first "
                      f"(huifang clock backfill-grant {actor} --reason TEXT)", field="backfill")
    clock.enter_backfill(clock.Backfill(reason=reason, actor=actor, grant=grant["n"], granted_by=grant["by"],
                                        recorded=wall))


def grant(app: Any, to: str, reason: str, hours: float, actor: str) -> dict:
    """An admin opens a backfill window for `to` (hours, on the system clock)."""
    from .domain import Staff

    if mode(app) != clock.SYSTEM:
        raise HuifangError("this store runs on the logical clock: backfill is for system-clock stores",
                           field="clock")
    reason = " ".join((reason or "").split())
    if not reason:
        raise HuifangError("a reason is required (why records are entered late)", field="reason")
    if not 0 < hours <= MAX_GRANT_HOURS:
        raise HuifangError(f"must be more than 0 and at most {MAX_GRANT_HOURS}", field="hours")
    app.load(Staff, to, "staff", field="to")
    granter = app.actor_staff(actor)
    if app.access.enforced() and (granter is None or granter.role != "admin"):
        raise app.access.deny(actor, "clock.backfill", f"staff {to}",
                              f"only an admin grants a backfill; {actor} is "
                              f"{granter.role if granter else 'not registered staff'}")
    log = app.find_by_id(BackfillLog.create_id()) or BackfillLog(actor=actor)
    now = clock.now()
    log.grant(to=to, reason=reason, until=now + timedelta(hours=hours), actor=actor)
    app.commit(log)
    return log.grants[-1]


# -- the net under every commit -----------------------------------------------------------------------------
def before_save(app: Any, aggregates: tuple[Any, ...]) -> tuple[Any, ...]:
    """The store-wide guard (no record earlier than the high-water time less the tolerance); in a backfill,
    the `BackfillLog` entry naming what the command wrote, saved in the same transaction (last, so the
    store's latest record keeps the real time). Returns the aggregates to save with the command's."""
    pending = [(a, e) for a in aggregates for e in getattr(a, "pending_events", ())]
    if not pending:
        return ()
    cache = _cache(app)
    entry = clock.backfill()
    if entry is None:
        tol = tolerance(app)
        if tol is None:
            return ()
        earliest = min(e.timestamp for _, e in pending)
        if "high_water" not in cache:
            cache["high_water"] = latest(app)
        hw: datetime | None = cache["high_water"]
        if hw is not None:
            minutes = int(tol.total_seconds() // 60)
            clock.check_order(earliest, hw - tol,
                              f"the store's latest record ({clock.iso(hw)}) less the {minutes}-minute tolerance")
        latest_here = max(e.timestamp for _, e in pending)
        cache["high_water"] = latest_here if hw is None else max(hw, latest_here)
        return ()
    records: dict[str, dict[str, Any]] = {}
    for a, e in pending:
        if isinstance(a, BackfillLog):
            continue
        name = record_name(a)
        item = records.setdefault(name, {"kind": type(a).__name__, "code": getattr(a, "code", None) or str(a.id),
                                         "events": []})
        item["events"].append(type(e).__name__)
    if not records:
        return ()
    log = next((a for a in aggregates if isinstance(a, BackfillLog)), None)
    extra: tuple[Any, ...] = ()
    if log is None:
        log = app.find_by_id(BackfillLog.create_id()) or BackfillLog(actor=entry.actor)
        extra = (log,)
    # G8: the entry's reason is free text about the records it entered: sealed under the subject of the
    # first record naming one (an entry touching several subjects is erased with that first one); an entry
    # naming no subject keeps it plain. seal_note: an erased subject's reason is not kept at all.
    subject = next((s for a, _ in pending if isinstance(s := getattr(a, "subject", None), str) and s), None)
    reason = entry.reason if subject is None else app.keyring.seal_note(subject, entry.reason)
    log.enter(claimed=clock.now(), grant=entry.grant, reason=reason, records=list(records.values()),
              actor=entry.actor)
    return extra


def latest(app: Any) -> datetime | None:
    """The store's high-water time: the timestamp of its last record (one row by position: cheap)."""
    recorder = app.recorder
    head = recorder.max_notification_id()
    if not head:
        return None
    rows = recorder.select_notifications(start=head, limit=1)
    if not rows:
        return None
    stamp: datetime = app.mapper.to_domain_event(rows[0]).timestamp
    return stamp


def backfilled(app: Any, kind: str = "FollowUp") -> dict[str, list[dict]]:
    """Records of `kind` written by backfills: code -> the entries (for reports' flags), reasons revealed."""
    out: dict[str, list[dict]] = {}
    for entry in entries(app):
        for r in entry["records"]:
            if r["kind"] == kind:
                out.setdefault(r["code"], []).append(entry)
    return out


def entries(app: Any) -> list[dict]:
    """The backfill entries with their reasons revealed (G8: sealed under the subject; older plain
    reasons pass through; an erased subject's reads "[erased]")."""
    log = app.find_by_id(BackfillLog.create_id())
    keyring = getattr(app, "keyring", None)
    return [{**e, "reason": keyring.reveal(e["reason"]) if keyring is not None else e["reason"]}
            for e in (log.entries if log is not None else [])]
