"""Reading stored events faster than eventsourcing's JSONTranscoder, into the same objects: a
projection rebuild decodes the whole log, a bulk import every subject its rows name."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper, UUIDAsHex

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
