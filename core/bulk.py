"""The single-pass write path of a bulk trigger import (core/importer.py).

Each row is validated once (by the importer), planned once here and its records built and encoded
once: the `Received` and `Planned` events are made directly (no aggregate is constructed and
mutated) with the fields, order and timestamps the aggregates would give them, and encoded by the
application's own mapper, so the stored bytes are those of `trigger` typed one by one. The encoded
records wait in a `Spill` (a private temporary file on disk, never a capped cache in
memory) between checking the file and writing it: a file with bad rows still writes nothing, and a
run killed part way resumes from its position as before (the spill is rebuilt from the file).

What a plan reads that does not change during one import is made once: the Scheduler per plugin and
time zone (its windows memoised), the kind's sealing rule (G8), the catch-up of a missed window
(G6/A4). A row this path cannot build exactly as the aggregates would (a plan that closes earlier
follow-ups, a follow-up exempt from the start, F6) returns None and is planned the usual way.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import os
import pickle
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID, SafeUUID

from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, StoredEvent
from eventsourcing.utils import get_topic
from pydantic import BaseModel

from . import clock, heap
from .contract import CloseFollowUp, Guide, PlannedVisit, Skip, SubjectInfo, TriggerInfo
from .decoding import rebuilder
from .domain import FollowUp, Subject, Trigger
from .domain.base import NAMESPACE
from .errors import Refused
from .privacy import PREFIX
from .scheduling import Scheduler, Window
from .usecases import exemptions, plans
from .usecases.calendar import catch_up
from .usecases.subjects import fallback_channel

try:
    import orjson
except ImportError:  # pragma: no cover - optional: the transcoder encodes
    orjson = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from .registry import Kind
    from .services import App

Record = tuple[bytes, int, str, bytes]  # originator id (16 bytes), version, topic, state: one stored event


MEMO = 8192  # windows and catch-ups remembered at most (then forgotten and remembered afresh)


class MemoScheduler(Scheduler):
    """A Scheduler whose windows are remembered for one import: rows of the same day and rule get the
    same window (the calendar does not change while a file is imported). The memo is keyed by the
    day rules too, so the clinical copy (`clinical()`, a shallow copy) never reads the other's."""

    _memo: dict[tuple[Any, ...], Window]

    @classmethod
    def of(cls, base: Scheduler) -> MemoScheduler:
        out = cls.__new__(cls)
        out.__dict__.update(base.__dict__)
        out._memo = {}
        return out

    def window(self, start: datetime, open_days: int, due_days: int, *, workdays: bool = False,
               cap: date | None = None) -> Window:
        key = (start, open_days, due_days, workdays, cap, self.no_holidays, self.weekends)
        w = self._memo.get(key)
        if w is None:
            if len(self._memo) >= MEMO:  # bounded: memory stays flat over a million rows
                self._memo.clear()
            w = self._memo[key] = super().window(start, open_days, due_days, workdays=workdays, cap=cap)
        return Window(w.open, w.due, w.provisional, dict(w.rule)) if w.rule is not None else w


class Planner:
    """Plans the rows of one import into stored records (see the module's docstring)."""

    def __init__(self, app: App, actor: str):
        self.app = app
        self.actor = actor
        self._schedulers: dict[tuple[str, str | None], MemoScheduler] = {}
        self._plain: dict[str, Callable[[str, Any], bool]] = {}
        self._fields: dict[str, set[str]] = {}
        self._caught: dict[tuple[Any, ...], PlannedVisit] = {}
        self._exemptions: dict[tuple[str, str], bool] = {}  # (plugin, visit type): may be exempt at planning (F6)
        # per kind and time zone: its Scheduler, settings, plan hook, G8 rule and declared attributes
        self._contexts: dict[tuple[str, str | None], tuple[Any, ...]] = {}
        self.mapper: Any = app.mapper
        self._topics = {Trigger.Received: get_topic(Trigger), FollowUp.Planned: get_topic(FollowUp),
                        Subject.Registered: get_topic(Subject)}
        self._event_topics = {cls: get_topic(cls) for cls in self._topics}
        self._direct: dict[Any, bool] = {}
        self._hooks: dict[str, Callable[..., Any] | None] = {}
        self._encode = fast_encoder(self.mapper.transcoder)
        # a file's rows share their parsed times (importer.parse_when)
        self._isoformat = by_identity(datetime.isoformat)

    def scheduler(self, plugin: str, tz: str | None) -> MemoScheduler:
        key = (plugin, tz)
        s = self._schedulers.get(key)
        if s is None:
            s = self._schedulers[key] = MemoScheduler.of(self.app.scheduler(plugin, tz))
        return s

    def _is_plain(self, k: Kind) -> Callable[[str, Any], bool]:
        """G8: which attributes of this kind are stored in plaintext (keyring._plain, made once)."""
        f = self._plain.get(k.qualified)
        if f is None:
            f = self._plain[k.qualified] = self.app.keyring._plain(getattr(k.spec, "codes", ()),
                                                                   getattr(k.spec, "code_patterns", {}))
            self._fields[k.qualified] = set(getattr(getattr(k.spec, "attributes", None), "model_fields", {}) or {})
        return f

    def _late(self, sched: Scheduler, key: tuple[str, str | None], v: PlannedVisit, now: datetime) -> PlannedVisit:
        """catch_up (G6/A4) remembered per missed window: the same window missed at the same `now` is
        caught up the same way (the caught-up visit's window, rule, `late_entry` and warning)."""
        memo_key = (key, v.window_open, v.due, v.clinical_exception, now)
        done = self._caught.get(memo_key)
        if done is None:
            if len(self._caught) >= MEMO:
                self._caught.clear()
            done = self._caught[memo_key] = catch_up(sched, v, now)
        return done

    def plan(self, k: Kind, subj: Subject, code: str, at: datetime | None, attrs: dict[str, Any], history: Any,
             trigger_id: UUID | None = None) -> tuple[list[Record], Any, datetime] | None:
        """(the row's records in save order, the trigger as FileHistory reads it, their time), or None when the
        row must be planned the usual way (plans.plan_trigger). `attrs` are validated (JSON values);
        `trigger_id` the trigger's aggregate id when the caller has it already."""
        app, actor, subject = self.app, self.actor, subj.code
        if getattr(subj, "erased", False):
            raise Refused(f"subject {subject} was erased: no new service events for them")
        app.access.require(actor, "trigger", subject=subject)
        now = clock.now()
        at = at or now  # a file without times: the event happened as it is entered (as plan_trigger)
        keyring = app.keyring
        # what a plan sees, as plans.plan_trigger gives it (validated already: not validated again)
        info = construct(TriggerInfo, {"id": code, "kind": k.qualified, "plugin": k.plugin, "subject": subject,
                                       "at": at, "attributes": attrs})
        who = construct(SubjectInfo, {"id": subject, "tz": subj.tz, "attributes": keyring.reveal_all(subj.attributes),
                                      "optouts": list(subj.optouts), "exempt": subj.exempt})
        ctx = self._contexts.get((k.qualified, subj.tz))
        if ctx is None:
            ctx = self._contexts[(k.qualified, subj.tz)] = (
                self.scheduler(k.plugin, subj.tz), app.settings(k.plugin), self._hook(k.plugin), self._is_plain(k),
                self._fields[k.qualified])
        sched, settings, hook, is_plain, kind_fields = ctx
        sched_key = (k.plugin, subj.tz)
        if hook is not None:
            planned = hook(trigger=info, subject=who, settings=settings, scheduler=sched, history=history) or []
        else:
            planned = app.registry.call(k.plugin, "huifang_plan", trigger=info, subject=who, settings=settings,
                                        scheduler=sched, history=history) or []
        skips: list[Skip] = []
        for p in planned:
            if type(p) is not PlannedVisit:
                if isinstance(p, CloseFollowUp):
                    return None
                if isinstance(p, Skip):
                    skips.append(p)
        # as plans.sealed_meta reads them: revealed (a file's cell may look like a token)
        revealed = attrs if all(type(x) in _PLAIN and not (type(x) is str and x.startswith(PREFIX))
                                for x in attrs.values()) else keyring.reveal_all(attrs)
        plain_of: dict[str, bool] = {}  # each attribute's G8 rule, asked once (meta and `stored` copy them)
        texts: set[str] = set()  # the sealed attributes' texts (a meta value copying one is sealed too)
        for name, value in revealed.items():
            plain = plain_of[name] = is_plain(name, value)
            if not plain:
                if isinstance(value, list):
                    texts.update(x for x in value if isinstance(x, str) and len(x) >= 2)
                elif isinstance(value, str) and len(value) >= 2:
                    texts.add(value)
        seal = _sealer(keyring, subject)
        records: list[Record] = []
        codes: list[str] = []
        for v in planned:
            if not isinstance(v, PlannedVisit):
                continue
            fu_code = f"{code}-{v.key}"
            window_open, due, provisional, rule, vmeta, warnings = (v.window_open, v.due, v.provisional,
                                                                    v.window_rule, v.meta, v.warnings)
            if due < now:  # G6/A4 (as plans.new_followup, calendar.catch_up)
                late = self._late(sched, sched_key, v, now)
                window_open, due, provisional = late.window_open, late.due, late.provisional
                rule = dict(late.window_rule) if late.window_rule is not None else None
                vmeta = {**vmeta, "late_entry": dict(late.meta["late_entry"])}
                warnings = [*warnings, late.warnings[-1]]
            if v.owner and v.owner in v.excluded_staff:
                raise Refused(f"G9: {v.owner} has an interest in trigger {code} and cannot own its follow-up")
            exempting = self._exemptions.get((k.plugin, v.visit_type))
            if exempting is None:
                exempting = self._exemptions[(k.plugin, v.visit_type)] = \
                    exemptions.mode(app, k.plugin, v.visit_type) != "never"
            if exempting and exemptions.at_planning(app, info, v.visit_type, subj):  # F6: closed at once (usual way)
                return None
            channel = v.channel
            if channel in subj.optouts:
                channel = fallback_channel(subj.optouts, channel, settings.optout_fallback)
            meta = dict(vmeta)  # + calendar.planned_meta; what is added here (`added`, `extra`) is JSON already
            added: AbstractSet[str] = _LATE if vmeta is not v.meta else _NONE
            extra: dict[str, Any] = {}
            if v.clinical_exception:
                extra["clinical_exception"] = v.clinical_exception
            if warnings:
                extra["warnings"] = list(warnings)
            if v.guides:
                extra["guides"] = [_guide(g) for g in v.guides]
            if rule:
                extra["window_rule"] = rule
            if extra:
                meta.update(extra)
            # G8 as plans.sealed_meta, then plans.jsonable on the plan's own values
            meta = {name: (seal(value)
                           if ((name in revealed or name in kind_fields)
                               and not (plain_of[name] if revealed.get(name, _NO) is value else is_plain(name, value)))
                           or (isinstance(value, str) and value in texts)
                           else value if name in extra or name in added else jsonable(value))
                    for name, value in meta.items()}
            records.append(self._record(FollowUp.Planned, id_bytes("followup", fu_code), {
                "timestamp": now, "originator_topic": self._topics[FollowUp.Planned], "code": fu_code,
                "subject": subject, "trigger": code, "trigger_kind": k.qualified, "plugin": k.plugin,
                "visit_type": v.visit_type, "key": v.key, "window_open": window_open, "due": due, "owner": v.owner,
                "owner_role": v.owner_role, "channel": channel, "provisional": provisional,
                "excluded_staff": v.excluded_staff, "excluded_roles": v.excluded_roles, "department": v.department,
                "branch": v.branch, "meta": meta, "actor": actor}))
            codes.append(fu_code)
        stored = {name: (value if (plain_of[name] if revealed is attrs else is_plain(name, value)) else seal(value))
                  for name, value in attrs.items()}
        skipped = plans.stored_skips(app, info, skips) if skips else []
        occurred_at = self._isoformat(at)
        trigger_oid = trigger_id.bytes if trigger_id else id_bytes("trigger", code)
        records.insert(0, self._record(Trigger.Received, trigger_oid, {
            "timestamp": now, "originator_topic": self._topics[Trigger.Received], "code": code, "kind": k.qualified,
            "plugin": k.plugin, "subject": subject, "occurred_at": occurred_at,
            "attributes": stored, "followups": codes, "skipped": skipped, "actor": actor}))
        seen = _Seen(code=code, kind=k.qualified, plugin=k.plugin, subject=subject, occurred_at=occurred_at,
                     attributes=stored, followups=codes, skipped=skipped)
        return records, seen, now

    def subject(self, args: dict[str, Any]) -> tuple[Record, datetime]:
        """One parsed subject row (validated already) as its `Registered` record and time: the fields
        usecases.subjects.new_subject gives the aggregate, sealed in the same order (G8), without
        constructing it. The caller holds the batch's keys (keyring.prefetched)."""
        code = args["code"]
        k = self.app.keyring
        now = clock.now()
        return self._record(Subject.Registered, id_bytes("subject", code), {
            "timestamp": now, "originator_topic": self._topics[Subject.Registered], "code": code,
            "name": k.seal(code, args["name"]), "phones": k.seal(code, list(args["phones"] or [])),
            "email": k.seal(code, args["email"]), "tz": args["tz"] or self.app.config.huifang.timezone,
            "attributes": k.seal_attributes(code, dict(args["attributes"] or {})), "actor": self.actor}), now

    def _record(self, cls: Any, oid: bytes, state: dict[str, Any]) -> Record:
        """One created event (version 1) as its stored record: `state` is what the mapper would encode
        from `cls(...)` (its timestamp, originator_topic and fields in their order, without its id and
        version), encoded by the application's transcoder. An event class whose fields are not these is
        built and mapped."""
        direct = self._direct.get(cls)
        if direct is None:
            names = [f.name for f in dataclasses.fields(cls)]
            direct = self._direct[cls] = (names == ["originator_id", "originator_version", *state]
                                          and getattr(cls, "class_version", 1) == 1)
        if not direct:
            stored = self.mapper.to_stored_event(cls(originator_id=UUID(bytes=oid), originator_version=1, **state))
            return oid, 1, stored.topic, bytes(stored.state)
        data = self._encode(state)
        if self.mapper.compressor:
            data = self.mapper.compressor.compress(data)
        if self.mapper.cipher:
            data = self.mapper.cipher.encrypt(data)
        return oid, 1, self._event_topics[cls], data

    def _hook(self, plugin: str) -> Callable[..., Any] | None:
        """The plugin's own `huifang_plan`, called directly when it is its only implementation and no
        wrapper surrounds it (what Registry.call would run, without pluggy's dispatch per row)."""
        if plugin not in self._hooks:
            reg: Any = self.app.registry
            mine = [i for i in reg.pm.hook.huifang_plan.get_hookimpls() if i.plugin is reg.plugins.get(plugin)]
            plain = len(mine) == 1 and not getattr(mine[0], "hookwrapper", False) \
                and not getattr(mine[0], "wrapper", False)
            if plain:
                impl = mine[0]
                names = tuple(impl.argnames)

                def call(**kwargs: Any) -> Any:
                    return impl.function(*[kwargs[a] for a in names])
                self._hooks[plugin] = call
            else:
                self._hooks[plugin] = None
        return self._hooks[plugin]


def _guide(g: Any) -> dict[str, Any]:
    """g.model_dump() (a Guide's title and a copy of its lines), without pydantic's serializer for the
    Guide itself; a subclass (other fields) is dumped by pydantic."""
    if type(g) is Guide and type(g.lines) is list:
        return {"title": g.title, "lines": list(g.lines)}
    return cast(dict[str, Any], g.model_dump())


_M = TypeVar("_M", bound=BaseModel)
_DIRECT: dict[type, tuple[str, ...] | None] = {}


def construct(cls: type[_M], values: dict[str, Any]) -> _M:
    """cls.model_construct(**values) given every field of a plain model (no aliases, extras,
    post-init or root): the instance it makes (`__dict__` in field order, every field set), without
    its per-field loop. Any other model or set of values goes through model_construct."""
    names = _DIRECT.get(cls, ())
    if names == ():
        fields = cls.__pydantic_fields__
        plain = (not cls.__pydantic_root_model__ and not cls.__pydantic_post_init__
                 and cls.model_config.get("extra") != "allow"
                 and all(f.alias is None and f.validation_alias is None for f in fields.values()))
        names = _DIRECT[cls] = tuple(fields) if plain else None
    if names is None or len(values) != len(names):
        return cls.model_construct(**values)
    if tuple(values) == names:  # given in field order (the planner's own calls): copied as it is
        fields = dict(values)
    elif values.keys() == set(names):
        fields = {n: values[n] for n in names}
    else:
        return cls.model_construct(**values)
    m = cls.__new__(cls)
    object.__setattr__(m, "__dict__", fields)
    object.__setattr__(m, "__pydantic_fields_set__", set(names))
    object.__setattr__(m, "__pydantic_extra__", None)
    object.__setattr__(m, "__pydantic_private__", None)
    return m


def _sealer(keyring: Any, subject: str) -> Callable[[Any], Any]:
    """keyring.seal_value for one row's subject, each text sealed once: a follow-up's meta that copies
    the trigger's attribute holds the same token (G8: the same text under the same key; a second token
    of a copy hides nothing more, and sealing is a tenth of the import)."""
    tokens: dict[str, Any] = {}

    def seal(value: Any) -> Any:
        if type(value) is not str:
            return keyring.seal_value(subject, value)
        token = tokens.get(value)
        if token is None:
            token = tokens[value] = keyring.seal_value(subject, value)
        return token
    return seal


_PLAIN = (str, int, float, bool, type(None))
_LATE: frozenset[str] = frozenset({"late_entry"})  # catch_up's meta key (JSON values)
_NONE: frozenset[str] = frozenset()
_NO = object()  # a meta key that is no attribute


def jsonable(value: Any) -> Any:
    """plans.jsonable, quicker on the plain JSON values a meta mostly holds (same result)."""
    t = type(value)
    if t in _PLAIN:
        return value
    if t is dict:
        return {k: v if type(v) in _PLAIN else jsonable(v) for k, v in value.items()}
    if t is list:
        return [v if type(v) in _PLAIN else jsonable(v) for v in value]
    return plans.jsonable(value)


_T = TypeVar("_T")


def by_identity(make: Callable[[datetime], _T]) -> Callable[[datetime], _T]:
    """make(dt), remembered by the datetime's identity (the entry keeps it alive, so its id is not reused;
    at most MEMO entries): isoformat() with a ZoneInfo costs ~2.5 µs, and a datetime's hash as much."""
    memo: dict[int, tuple[datetime, _T]] = {}

    def made(dt: datetime) -> _T:
        hit = memo.get(id(dt))
        if hit is not None and hit[0] is dt:
            return hit[1]
        if len(memo) >= MEMO:
            memo.clear()
        out = make(dt)
        memo[id(dt)] = (dt, out)
        return out
    return made


def fast_encoder(transcoder: Any) -> Callable[[dict[str, Any]], bytes]:
    """transcoder.encode for the stock JSONTranscoder, the same bytes in about half the time: orjson
    writes what the stdlib encoder with the transcoder's settings writes (compact, UTF-8 unescaped,
    keys in order; checked on every code point) for a state of exact str / int / bool / None / dict
    with str keys / list values and datetimes (revived through the transcoder's own `datetime_iso`
    form). A state holding anything else (a float: the two write some differently; a UUID, a
    subclass, a tuple) or one orjson refuses (an int beyond 64 bits, a lone surrogate) goes to the
    transcoder itself."""
    names = getattr(transcoder, "types", {})
    if orjson is None or type(transcoder) is not JSONTranscoder or type(names.get(datetime)) is not DatetimeAsISO:
        return cast(Callable[[dict[str, Any]], bytes], transcoder.encode)
    name = names[datetime].name
    option = orjson.OPT_PASSTHROUGH_DATETIME
    # an import's rows share their time and their windows
    form = by_identity(lambda o: {"_type_": name, "_data_": o.isoformat()})

    def default(o: Any) -> Any:
        if type(o) is datetime:
            return form(o)
        raise TypeError

    def encode(state: dict[str, Any]) -> bytes:
        if _plain_json(state):
            try:
                return orjson.dumps(state, default=default, option=option)
            except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
                pass
        return transcoder.encode(state)

    return encode


_LEAF = frozenset({str, int, bool, type(None), datetime})


def _plain_json(v: Any) -> bool:
    """Only exact JSON types (no float) and datetimes, dict keys all str (fast_encoder)."""
    t = type(v)
    if t is dict:
        for k, x in v.items():  # noqa: SIM110 - a loop: a generator per node costs more
            if type(k) is not str or (type(x) not in _LEAF and not _plain_json(x)):
                return False
        return True
    if t is list:
        for x in v:  # noqa: SIM110
            if type(x) not in _LEAF and not _plain_json(x):
                return False
        return True
    return t in _LEAF


def load_many(app: Any, ids: list[Any], codes: list[str]) -> dict[str, Any]:
    """Aggregates by code for many ids in ONE query on the event store (eventsourcing's repository
    reads one aggregate per query); missing ids are left out."""
    if not ids:
        return {}
    rec: Any = app.recorder  # the store's own recorder: one query by hand
    # each id by its text as SQLite stores it (a str's hash is kept; a UUID's is computed at each lookup)
    wanted = {i.hex: (i, code) for i, code in zip(ids, codes, strict=True)}
    rows: list[Any] = []
    if app.store.kind == "sqlite":
        sql = (f"SELECT originator_id, originator_version, topic, state FROM {rec.events_table_name} "
               f"WHERE originator_id IN ({','.join('?' * len(wanted))}) ORDER BY originator_id, originator_version")
        with rec.datastore.transaction(commit=False) as c:
            c.execute(sql, list(wanted))
            rows = c.fetchall()
    else:
        from psycopg.sql import SQL, Identifier

        query = SQL("SELECT originator_id, originator_version, topic, state FROM {}.{} WHERE originator_id = ANY(%s) "
                    "ORDER BY originator_id, originator_version").format(Identifier(rec.datastore.schema),
                                                                         Identifier(rec.events_table_name))
        with rec.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, [list(ids)])
            rows = [(r["originator_id"].hex, r["originator_version"], r["topic"], bytes(r["state"]))
                    for r in curs.fetchall()]
    made: dict[str, Any] = {}
    mutate = rebuilder(app.mapper).mutate
    for key, version, topic, state in rows:
        if key not in wanted:  # a row's id is one of these texts; another spelling is read as its UUID
            key = UUID(key).hex
        made[key] = mutate(wanted[key][0], version, topic, state, made.get(key))
    return {wanted[key][1]: agg for key, agg in made.items()}


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """While a file is imported: the young generation collected every GC_YOUNG allocations instead
    of 700 (a bulk import allocates millions of short-lived objects; collecting them 700 at a time
    cost about a tenth of its CPU), and what the process held before frozen (not rescanned by every
    full collection). Between batches `settle()` freezes what the import holds by then, so a batch
    rarely reaches GC_YOUNG. Cycles are collected when the import ends (a frozen one waits till then);
    both settings are undone after. The C heap is kept too (heap.keep)."""
    with _GC_LOCK:  # imports running at once (a server): the first sets, the last restores
        if _GC_STATE["imports"] == 0:
            _GC_STATE["threshold"] = gc.get_threshold()
            gc.set_threshold(max(_GC_STATE["threshold"][0], GC_YOUNG), *_GC_STATE["threshold"][1:])
            gc.freeze()  # what the process held before is not scanned again by the import's collections
            heap.keep(True)
        _GC_STATE["imports"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_STATE["imports"] -= 1
            if _GC_STATE["imports"] == 0:
                gc.unfreeze()
                gc.set_threshold(*_GC_STATE["threshold"])
                heap.keep(False)


def settle() -> None:
    """Between two batches of an import (inside fewer_collections): what the process holds now is frozen
    too, so the next batches' collections do not scan it again. An import keeps much of what it makes
    (its rows' ids, the spill's buffer, what its plans read): rescanned by every young collection until it
    reached the oldest generation, it cost a twentieth of the import's CPU. What is frozen is still freed
    when its last reference goes; only a cycle that becomes garbage after this waits for the import's end
    (a 100k-row import leaves about twenty such objects)."""
    with _GC_LOCK:
        if _GC_STATE["imports"]:
            gc.freeze()


GC_YOUNG = 400_000
_GC_LOCK = threading.Lock()
_GC_STATE: dict[str, Any] = {"imports": 0, "threshold": (700, 10, 10)}


_NAMESPACE = NAMESPACE.bytes
_KEEP = ~((0xC000 << 48) | (0xF000 << 64))  # all but the variant and version fields
_VERSION_5 = (0x8000 << 48) | (5 << 76)  # RFC 4122 variant, version 5
UNKNOWN = SafeUUID.unknown  # read once: an enum member looked up on its class costs a descriptor call each time


def aggregate_id(kind: str, key: str, _sha1: Any = hashlib.sha1, _int: Any = int.from_bytes,
                 _new: Any = object.__new__, _set: Any = object.__setattr__) -> UUID:
    """domain.base.aggregate_uuid (uuid5 in huifang's namespace), without uuid.UUID's checks: ids are
    made by the thousand here (the globals it uses are bound as defaults). The same id."""
    u = _new(UUID)
    _set(u, "int", (_int(_sha1(_NAMESPACE + f"{kind}:{key}".encode()).digest()[:16], "big") & _KEEP) | _VERSION_5)
    _set(u, "is_safe", UNKNOWN)
    return u


def id_bytes(kind: str, key: str, _sha1: Any = hashlib.sha1, _int: Any = int.from_bytes) -> bytes:
    """aggregate_id(kind, key).bytes, without making the UUID (a record stores the 16 bytes)."""
    return ((_int(_sha1(_NAMESPACE + f"{kind}:{key}".encode()).digest()[:16], "big") & _KEEP) | _VERSION_5).to_bytes(
        16, "big")


@dataclasses.dataclass
class _Seen:
    """A trigger as FileHistory.add reads it (the attributes of a Trigger aggregate)."""

    code: str
    kind: str
    plugin: str
    subject: str
    occurred_at: str
    attributes: dict[str, Any]
    followups: list[str]
    skipped: list[Any]


def stored_events(records: list[Record]) -> list[StoredEvent]:
    """The records as StoredEvents: each a frozen dataclass with the fields its __init__ sets (made
    here without its per-field setattr), its id a UUID of the 16 bytes (made as aggregate_id does)."""
    new, put, out = object.__new__, object.__setattr__, []
    for oid, v, t, s in records:
        if type(oid) is not bytes or len(oid) != 16:  # what UUID(bytes=) would refuse: let it say so
            u = UUID(bytes=oid)
        else:
            u = new(UUID)
            put(u, "int", int.from_bytes(oid, "big"))
            put(u, "is_safe", UNKNOWN)
        e = new(StoredEvent)
        put(e, "__dict__", {"originator_id": u, "originator_version": v, "topic": t, "state": s})
        out.append(e)
    return out


def scratch_db(*pragmas: str) -> sqlite3.Connection:
    """A private temporary SQLite database (on disk, deleted when closed), disposable: no journal, no
    syncs (nothing to recover after a crash: a resumed import makes it again)."""
    db = sqlite3.connect("", isolation_level=None)
    for pragma in (*pragmas, "journal_mode=OFF", "synchronous=OFF"):
        db.execute(f"PRAGMA {pragma}")
    return db


class Spill:
    """The rows between checking a file and writing it, in a private temporary file (on disk, deleted
    when closed): per row its subject and trigger id, and either its encoded records (with their time
    and the data keys its sealing created, written with its batch) or, for a row planned when it is
    written, its parsed arguments. Rows are added in file order and written SPILL_ROWS at a time (one
    pickle of the block, appended): a statement and a pickle per file row cost the import about as
    much as writing its records, and a block as a row of a SQLite database cost its pages' bookkeeping
    for nothing (the blocks are only appended, then read back in order). What is kept in memory is
    each block's place in the file."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(dir=scratch_dir())  # noqa: SIM115 - closed by close()
        self.blocks: list[tuple[int, int, bool]] = []  # (offset, length, holds data keys), in file order
        self._buffer: list[tuple[Any, ...]] = []
        self._keyed = False  # the buffer holds data keys
        self._last = -1  # the last row spilled

    def planned(self, n: int, subject: str, code: str, at: datetime, records: list[Record],
                keys: dict[str, bytes] | None) -> None:
        if keys:
            self._keyed = True
        self._add((n, subject, code, None, at, records, keys or None))

    def later(self, n: int, args: dict[str, Any]) -> None:
        self._add((n, args["subject"], args["code"], args, None, None, None))

    def _add(self, row: tuple[Any, ...]) -> None:
        if row[0] <= self._last:
            raise ValueError(f"row {row[0]} spilled after row {self._last}: rows are spilled in file order")
        self._last = row[0]
        self._buffer.append(row)
        if len(self._buffer) >= SPILL_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            data = pickle.dumps(self._buffer, protocol=pickle.HIGHEST_PROTOCOL)
            offset = self.blocks[-1][0] + self.blocks[-1][1] if self.blocks else 0
            self.file.seek(offset)
            self.file.write(data)
            self.blocks.append((offset, len(data), self._keyed))
            self._buffer = []
            self._keyed = False

    def _block(self, offset: int, length: int) -> list[tuple[Any, ...]]:
        self.file.seek(offset)
        data = self.file.read(length)
        if len(data) != length:
            raise OSError(f"the import's spill file lost a block ({len(data)} of {length} bytes at {offset})")
        return cast(list[tuple[Any, ...]], pickle.loads(data))

    def rows(self) -> Iterator[Row]:
        """The spilled rows in row order."""
        self.flush()
        for offset, length, _ in list(self.blocks):
            for n, subject, code, args, at, records, keys in self._block(offset, length):
                yield Row(n, subject, code, args, at, records, keys or {})

    def keys(self) -> dict[str, bytes]:
        """Every data key the spilled rows hold (a refused import hands them back to the recorder)."""
        self.flush()
        out: dict[str, bytes] = {}
        for offset, length, keyed in self.blocks:  # only the blocks holding keys are read
            if keyed:
                for row in self._block(offset, length):
                    out.update(row[6] or {})
        return out

    def close(self) -> None:
        self.file.close()


def scratch_dir() -> str | None:
    """Where an import's scratch files go: $TMPDIR when set, else /var/tmp (on disk: /tmp may be held in
    memory, and a 1M-row import spills gigabytes), else the system's temporary directory."""
    if os.environ.get("TMPDIR"):
        return None  # tempfile reads it
    return "/var/tmp" if os.access("/var/tmp", os.W_OK | os.X_OK) else None


class FileIndex:
    """What pass 1 keeps of a whole file to check each row against the rows before it: each id's first row
    and its data's fingerprint, and each subject's number of new triggers. They live in a private temporary
    SQLite database (on disk, deleted when closed), read and written a chunk at a time: held in memory they
    grew an import by about 300 bytes a row (330 MB at 1M rows)."""

    def __init__(self) -> None:
        self.db = scratch_db(f"cache_size=-{INDEX_CACHE_KB}")
        self.db.execute("CREATE TABLE ids (code TEXT PRIMARY KEY, n INTEGER, mark INTEGER) WITHOUT ROWID")
        self.db.execute("CREATE TABLE subjects (subject TEXT PRIMARY KEY, rows INTEGER) WITHOUT ROWID")

    def _read(self, sql: str, keys: list[str]) -> list[Any]:
        keys = list(dict.fromkeys(keys))
        out: list[Any] = []
        for i in range(0, len(keys), INDEX_PART):
            part = keys[i:i + INDEX_PART]
            out += self.db.execute(sql.format(",".join("?" * len(part))), part).fetchall()
        return out

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.db.execute("BEGIN")
            self.db.executemany(sql, rows)
            self.db.execute("COMMIT")

    def ids(self, codes: list[str]) -> dict[str, tuple[int, int]]:
        """Of these ids, those of earlier rows: id -> (its first row, its data's fingerprint)."""
        return {c: (n, m) for c, n, m in self._read("SELECT code, n, mark FROM ids WHERE code IN ({})", codes)}

    def add_ids(self, ids: dict[str, tuple[int, int]]) -> None:
        self._write("INSERT INTO ids VALUES (?, ?, ?)", [(c, n, m) for c, (n, m) in ids.items()])

    def counts(self, subjects: list[str]) -> dict[str, int]:
        """Of these subjects, those with new triggers in earlier rows: subject -> how many."""
        return dict(self._read("SELECT subject, rows FROM subjects WHERE subject IN ({})", subjects))

    def add_counts(self, counts: dict[str, int]) -> None:
        self._write("INSERT INTO subjects VALUES (?, ?) ON CONFLICT (subject) DO UPDATE SET rows = rows + excluded.rows",
                    list(counts.items()))

    def close(self) -> None:
        self.db.close()


INDEX_CACHE_KB = 16384  # the file index's page cache (its ids of a 1M-row file are about 30 MB on disk)
INDEX_PART = 10000  # keys a query of the file index names at most (SQLite allows 32 766 parameters)
SPILL_ROWS = 1000  # file rows pickled together into one row of the spill


@dataclasses.dataclass
class Row:
    """A spilled row: `records` (and `at`, their time) when planned in the check, else `args`."""

    n: int
    subject: str
    code: str
    args: dict[str, Any] | None
    at: datetime | None
    records: list[Record] | None
    keys: dict[str, bytes]
