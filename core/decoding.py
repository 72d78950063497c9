"""Reading stored events faster than eventsourcing's JSONTranscoder, into the same objects: a
projection rebuild decodes the whole log, a bulk import every subject its rows name (Rebuilder: into
the same aggregates too)."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper, StoredEvent, UUIDAsHex

try:
    import orjson
except ImportError:  # pragma: no cover - optional: the stdlib decoder reads
    orjson = None  # type: ignore[assignment]


class FastJSONTranscoder(JSONTranscoder):
    """Decodes what the application's JSONTranscoder wrote into the same objects, faster (a rebuild,
    a bulk import's reads): orjson parses, then the registered transcodings revive the
    `{"_type_", "_data_"}` dicts, innermost first as the stdlib decoder's object hook does. Anything
    orjson refuses but the stdlib accepts (NaN, infinities, lone surrogates), any number of 19 digits
    or more (orjson reads an integer beyond 64 bits as a float) and a revival that fails go through the
    stdlib decoder, which gives the same result or the same error. Reading only: nothing is encoded with it.

    Where to look: the number of `"_type_"` in the bytes bounds the values to revive (escaped text
    aside: then everything is walked); the top-level keys that held one before (an event's instants)
    are tried first, and the rest of the state is walked only while some are still unaccounted for.
    The stock transcodings' results (datetimes, UUIDs, decimals: immutable) are memoised by their text:
    a log repeats its windows and deadlines."""

    def __init__(self, source: JSONTranscoder):
        super().__init__()
        self.types, self.names = dict(source.types), dict(source.names)
        self._revivers: dict[str, Callable[[Any], Any]] = {
            name: _memoised(t.decode) if type(t) in (DatetimeAsISO, UUIDAsHex, DecimalAsStr) else t.decode
            for name, t in self.names.items()}
        self._hot: list[str] = []  # top-level keys that held a transcoded value

    def decode(self, data: bytes) -> Any:
        try:
            if _LONG_NUMBER in data.translate(_DIGITS):
                raise ValueError  # orjson reads an integer beyond 64 bits as a float: the stdlib decoder
            obj = orjson.loads(data)
            if type(obj) is not dict or (len(obj) == 2 and "_type_" in obj):
                raise ValueError  # not an event's state: the stdlib decoder
            if b"\\" in data and b"\\u" in data:  # escaped text: a key may be spelled with escapes, walk everything
                self._revive(obj, -1)
                return obj
            expected = data.count(b'"_type_"')  # an upper bound on the keys to revive
            if expected:
                found = 0
                revivers = self._revivers
                for k in self._hot:
                    v = obj.get(k)
                    if (type(v) is dict and len(v) == 2 and "_type_" in v and "_data_" in v
                            and type(v["_data_"]) is not dict and type(v["_data_"]) is not list):
                        obj[k] = revivers[v["_type_"]](v["_data_"])
                        found += 1
                        if found == expected:
                            break
                if found != expected:
                    self._revive(obj, expected - found)
            return obj
        except Exception:
            return super().decode(data)

    def _revive(self, obj: dict[str, Any], expected: int) -> None:
        revivers = self._revivers
        found, nested = 0, []
        for k, v in obj.items():  # the top level first: an event's own instants and ids
            if type(v) is dict:
                if len(v) == 2 and "_type_" in v and "_data_" in v and type(v["_data_"]) not in (dict, list):
                    obj[k] = revivers[v["_type_"]](v["_data_"])
                    found += 1
                    if k not in self._hot and len(self._hot) < 32:
                        self._hot.append(k)
                else:
                    nested.append(k)
            elif type(v) is list:
                nested.append(k)
        if found != expected:  # more inside: walk the nested values
            for k in nested:
                obj[k] = self._walk(obj[k])

    def _walk(self, v: Any) -> Any:
        if type(v) is dict:
            for k, x in v.items():
                if type(x) is dict or type(x) is list:
                    v[k] = self._walk(x)
            if len(v) == 2 and "_type_" in v and "_data_" in v:
                return self._revivers[v["_type_"]](v["_data_"])
            return v
        if type(v) is list:
            for i, x in enumerate(v):
                if type(x) is dict or type(x) is list:
                    v[i] = self._walk(x)
        return v


# every digit as 0: a run of 19 digits may be an integer orjson does not keep exact (beyond 64 bits)
_DIGITS, _LONG_NUMBER = bytes.maketrans(b"123456789", b"000000000"), b"0" * 19


def _memoised(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A transcoding's decode remembered by its text (bounded); the text must be hashable (a str:
    the stock transcodings refuse anything else anyway, and an error goes to the stdlib path)."""
    cache: dict[Any, Any] = {}

    def revive(data: Any) -> Any:
        value = cache.get(data, cache)
        if value is cache:
            value = decode(data)
            if len(cache) >= 4096:
                cache.clear()
            cache[data] = value
        return value

    return revive


def fast_mapper(mapper: Any) -> Any:
    """The application's mapper with the fast decoder, when its transcoder is the stock JSON one."""
    if orjson is None or type(mapper) is not Mapper or type(mapper.transcoder) is not JSONTranscoder:
        return mapper
    return Mapper(transcoder=FastJSONTranscoder(mapper.transcoder), compressor=mapper.compressor,
                  cipher=mapper.cipher)


_MAPPERS: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()


def reading_mapper(mapper: Any) -> Any:
    """fast_mapper, made once per application mapper (its memoised revivals kept between reads)."""
    try:
        out = _MAPPERS.get(mapper)
        if out is None:
            out = _MAPPERS[mapper] = fast_mapper(mapper)
    except TypeError:  # a mapper that cannot be weakly referenced or hashed: made for this caller
        out = fast_mapper(mapper)
    return out


_REBUILDERS: WeakKeyDictionary[Any, Rebuilder] = WeakKeyDictionary()


def rebuilder(mapper: Any) -> Rebuilder:
    """A Rebuilder on reading_mapper(mapper), made once per application mapper (its checked topics kept)."""
    try:
        out = _REBUILDERS.get(mapper)
        if out is None:
            out = _REBUILDERS[mapper] = Rebuilder(reading_mapper(mapper))
    except TypeError:  # as reading_mapper
        out = Rebuilder(reading_mapper(mapper))
    return out


class Rebuilder:
    """Aggregates from their stored events as eventsourcing's `mutate` makes them, the first event of a
    plain aggregate faster: a version-1 created event of a class that neither upcasts nor applies
    anything of its own is made into its aggregate directly (the aggregate's own `__base_init__` and
    `__init__` on the decoded state, and Base.Event's `_latest_on`), without the event object and the
    generic constructor's per-call introspection. A bulk import reads one such event per subject.

    Each topic's direct path is checked once against eventsourcing's own on the first event read: a
    topic whose two aggregates differ in type or in any attribute is always read the library's way."""

    def __init__(self, mapper: Any):
        self.mapper = mapper
        self._direct: dict[str, Callable[[Any, bytes], Any] | None] = {}

    def mutate(self, oid: Any, version: int, topic: str, state: bytes, aggregate: Any) -> Any:
        first = aggregate is None and version == 1
        if first:
            direct = self._direct.get(topic)
            if direct is not None:
                made = direct(oid, state)
                if made is not None:
                    return made
        stored = _new(StoredEvent)  # the frozen dataclass without its per-field setattr
        _put(stored, "__dict__", {"originator_id": oid, "originator_version": version, "topic": topic, "state": state})
        event: Any = self.mapper.to_domain_event(stored)
        made = event.mutate(aggregate)
        if first and topic not in self._direct:
            self._direct[topic] = self._learn(event, made, oid, state)
        return made

    def _learn(self, event: Any, made: Any, oid: Any, state: bytes) -> Callable[[Any, bytes], Any] | None:
        """The direct path for this event's topic, or None when the library's way must be kept."""
        from eventsourcing.domain import CanInitAggregate, CanMutateAggregate

        from .domain.base import Base

        cls, mapper = type(event), self.mapper
        if (not isinstance(event, CanInitAggregate) or made is None or cls.mutate is not Base.Event.mutate
                or cls.apply is not CanMutateAggregate.apply or getattr(cls, "class_version", 1) != 1
                or mapper.cipher is not None or mapper.compressor is not None):
            return None
        agg_cls = type(made)
        init = agg_cls.__init__
        params = inspect.signature(init).parameters
        names = tuple(n for n in params if n != "self")
        if "id" in names or any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in params.values()):
            return None  # eventsourcing passes the id, or more than the event's fields
        base_init, decode, topic = agg_cls.__base_init__, mapper.transcoder.decode, event.originator_topic

        def direct(oid: Any, data: bytes) -> Any:
            s = decode(data)
            if type(s) is not dict or "class_version" in s or s.get("originator_topic") != topic:
                return None  # the library's way (an upcast, another aggregate class)
            ts = s["timestamp"]
            agg = _new(agg_cls)
            base_init(agg, oid, 1, ts)
            init(agg, **{n: s[n] for n in names if n in s})
            agg._latest_on = ts  # as Base.Event.mutate
            return agg

        try:
            twin = direct(oid, state)
        except Exception:
            return None
        if twin is None or type(twin) is not agg_cls or vars(twin) != vars(made):
            return None
        return direct


_new, _put = object.__new__, object.__setattr__
