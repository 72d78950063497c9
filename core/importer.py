"""Bulk import of subjects and triggers from HIS/CRM exports: CSV or XLSX, UTF-8 or
GB18030, a column-mapping file (TOML, see README "Scale, reliability and benchmarks"), streamed row by row.

Why two passes: by default a file with bad rows imports nothing, and the event store cannot hold a
million-row transaction, so the first pass checks every row (parsing, attribute validation, the
plugin's plan, dry) and the second writes. The second pass saves one batch per transaction (all or
nothing, with its chain block and seal) and then records how far it got in `import_runs`. Ids are
deterministic (the file's id column, or a digest of kind, subject, time and attributes), so a re-run,
or a resume after `kill -9` between a batch's save and its position, finds what is already stored
and adds nothing: no duplicates, no gaps.

Triggers take a single pass (core/bulk.py): the first pass validates, plans and encodes each row
once and spills its records to a temporary table; the second writes them as they are. Only a row
whose plan must read what this file saves before it (a subject's second trigger in the file), a
plan that closes earlier follow-ups, or a follow-up exempt from the start is planned when written,
as before; so is every row while a backfill is entered (its log names what each save writes).
Subjects keep the two passes.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
import os
import re
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from pydantic import ValidationError

from . import bulk, clock
from .bulk import Spill, load_many
from .domain import Subject
from .errors import ConflictError, HuifangError, StoreUnavailable
from .inputs import NotJSON, check_text, formula_safe, load_json, text_problem
from .phones import check_phone
from .ports import History, ImportRun
from .store import import_cache
from .usecases import plans
from .usecases.plans import derived_trigger_id, differing_fields

if TYPE_CHECKING:
    from .application import HuifangApp

# rows per transaction (and per chunk checked in pass 1), by store. SQLite: the event table's unique index
# is keyed by random uuids, so every batch rewrites most of its pages into the WAL whatever the batch's
# size; 8 000 rows write a quarter less to disk for a 100k-row file than 2 000 did (a twentieth of the
# import's CPU) and hold the write lock for about a third of a second. PostgreSQL: a batch holds the
# store's table lock, which served commands wait for: 2 000 rows, about a tenth of a second.
BATCH = 2000
SQLITE_BATCH = 8000


def default_batch(store_kind: str) -> int:
    """The rows per transaction of an import into a store of this kind (`--batch` overrides it)."""
    return SQLITE_BATCH if store_kind == "sqlite" else BATCH


SUBJECT_FIELDS = ("id", "name", "phone", "email", "tz")
TRIGGER_FIELDS = ("id", "kind", "subject", "at", "subject_name", "subject_phone", "subject_email", "subject_tz")
ENCODINGS = ("auto", "utf-8", "gb18030")
MAX_SHOWN = 50  # bad rows printed on stderr; all of them go to the report and the reject file


@dataclass
class Bad:
    row: int
    column: str
    why: str

    def line(self) -> str:
        return f"row {self.row}, column '{self.column}': {self.why}"


@dataclass
class ColumnMap:
    """Which file column feeds which huifang field. Without a mapping file a column named like the
    field feeds it (`id`, `subject`, `at`, `kind`, `name`, `phone`, ...) and every other column is an
    attribute (`attr.X` or plain `X`)."""

    fields: dict[str, str] = field(default_factory=dict)  # huifang field -> header
    attributes: dict[str, str] | None = None  # attribute -> header; None: every other column
    kind: str | None = None
    encoding: str = "auto"
    sheet: str | None = None
    separator: str = ";"  # several phones in one cell
    source: str = "default"

    @classmethod
    def load(cls, path: str | None, what: str) -> ColumnMap:
        if not path:
            return cls()
        p = Path(path)
        if not p.is_file():
            raise HuifangError(f"file '{path}' does not exist", field="map")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise HuifangError(f"'{path}' is not valid UTF-8 TOML ({str(e).splitlines()[0]})", field="map") from None
        allowed = {"columns", "attributes", "kind", "encoding", "sheet", "separator"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise HuifangError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}", field="map")
        known = SUBJECT_FIELDS if what == "subject" else TRIGGER_FIELDS
        columns = data.get("columns", {})
        attrs = data.get("attributes")
        for name, table in (("columns", columns), ("attributes", attrs or {})):
            if not isinstance(table, dict) or not all(isinstance(v, str) and v for v in table.values()):
                raise HuifangError(f"[{name}] must map names to column headers (name = \"header\")", field="map")
        bad = sorted(set(columns) - set(known))
        if bad:
            raise HuifangError(f"[columns] {', '.join(bad)} is not a {what} field; fields: {', '.join(known)}", field="map")
        enc = str(data.get("encoding", "auto")).lower()
        if enc not in ENCODINGS:
            raise HuifangError(f"encoding '{enc}' is not one of {', '.join(ENCODINGS)}", field="map")
        return cls(fields=dict(columns), attributes=dict(attrs) if attrs is not None else None,
                   kind=data.get("kind"), encoding=enc, sheet=data.get("sheet"),
                   separator=str(data.get("separator", ";")) or ";", source=str(p))

    def digest(self) -> str:
        return json.dumps([self.fields, self.attributes, self.kind, self.sheet, self.separator], sort_keys=True,
                          ensure_ascii=False)


# -- reading files ---------------------------------------------------------------------------------
class Source:
    """A CSV or XLSX file read as (row number, {header: text}); row 1 is the header (as a
    spreadsheet numbers it)."""

    def __init__(self, path: str, encoding: str = "auto", sheet: str | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise HuifangError(f"FILE: '{path}' does not exist")
        self.xlsx = self.path.suffix.lower() in (".xlsx", ".xlsm")
        self.sheet = sheet
        # the scan found rows that do not decode, or UTF-8 rows in a GB18030 file: _raw names them
        self._suspect = False
        self.digest, self.encoding, self.total = self._scan(encoding)
        if self._suspect:
            for _ in self._raw():  # raises naming the rows
                pass
            raise HuifangError(f"FILE: '{self.path.name}' mixes UTF-8 and GB18030 text inside one cell; save the "
                               f"whole file in one encoding ('CSV UTF-8') and import it again")
        self.headers = self._headers()

    def _scan(self, encoding: str) -> tuple[str, str, int]:
        """One streaming pass: the file's SHA-256 (its identity for resuming), whether it is UTF-8
        (else GB18030, as Chinese Excel saves CSV), and an estimate of the rows for the progress bar.
        A file that is not UTF-8 is checked further (_check_gb18030): mixed or foreign text is refused."""
        h = hashlib.sha256()
        utf8 = codecs.getincrementaldecoder("utf-8")()
        is_utf8 = True
        lines = 0
        with self.path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                if f.tell() <= len(chunk) and not self.xlsx and chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                    raise HuifangError(f"FILE: '{self.path.name}' is UTF-16 text (Excel's 'Unicode text'): "
                                       f"save it as 'CSV UTF-8' and import that")
                h.update(chunk)
                lines += chunk.count(b"\n")
                if is_utf8 and not self.xlsx:
                    try:
                        utf8.decode(chunk)
                    except UnicodeDecodeError:
                        is_utf8 = False
            if is_utf8 and not self.xlsx:
                try:
                    utf8.decode(b"", final=True)  # a sequence cut off at the end
                except UnicodeDecodeError:
                    is_utf8 = False
        if self.xlsx:
            return h.hexdigest(), "xlsx", 0
        given = encoding
        if encoding == "auto":
            encoding = "utf-8-sig" if is_utf8 else "gb18030"
        elif encoding == "utf-8":
            encoding = "utf-8-sig"
            self._suspect = not is_utf8  # the rows that are not UTF-8 are named (_raw)
        if encoding == "gb18030":
            self._check_gb18030(detect=given == "auto")
            if self._suspect and is_utf8:
                raise HuifangError(f"'{self.path.name}' is UTF-8 text, not GB18030: pass --encoding utf-8 (or auto)",
                                   field="encoding")
        return h.hexdigest(), encoding, max(0, lines - 1)

    def _check_gb18030(self, detect: bool) -> None:
        """A file that is not UTF-8 is read as GB18030. Refused: rows in UTF-8 beside rows in GB18030
        (read as one they turn into mojibake, 张三 as 寮犱笁), bytes that are not GB18030 either (both
        named by row in _raw), and, in `--encoding auto`, text that charset-normalizer reads far better
        in another encoding (Big5, Shift-JIS, Latin-1 also decode as GB18030, as nonsense). Streamed in
        C-speed chunks: only a sample of lines is looked at one by one."""
        as_gb = codecs.getincrementaldecoder("gb18030")()
        as_utf8 = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        sample = bytearray()
        rest = ""
        with self.path.open("rb") as f:
            for chunk in itertools.chain(iter(lambda: f.read(1 << 20), b""), [b""]):  # b"": the end
                try:
                    as_gb.decode(chunk, final=not chunk)
                except UnicodeDecodeError:
                    self._suspect = True
                    return
                text = rest + as_utf8.decode(chunk, final=not chunk)
                cut = text.rfind("\n") + 1 if chunk else len(text)
                text, rest = text[:cut], text[cut:]
                if _UTF8_LINE.search(text):  # a whole line of valid UTF-8 with CJK in a file that is not UTF-8
                    self._suspect = True
                    return
                for line in chunk.split(b"\n") if len(sample) < SAMPLE else ():
                    if not line.isascii():
                        sample += line + b"\n"
                        if len(sample) >= SAMPLE:
                            break
        if detect and sample:
            other = _other_encoding(bytes(sample))
            if other:
                raise HuifangError(f"FILE: '{self.path.name}' is neither UTF-8 nor GB18030 text (it reads as "
                                   f"{other}): save it as 'CSV UTF-8', or pass --encoding gb18030 if it is GB18030")

    def _open_sheet(self) -> Any:
        try:
            import openpyxl
        except ImportError:  # pragma: no cover - a dependency
            raise HuifangError("FILE: reading XLSX needs openpyxl (pip install openpyxl)") from None
        try:
            wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as e:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
            raise HuifangError(f"FILE: '{self.path.name}' is not a readable XLSX workbook ({type(e).__name__})") \
                from None
        if self.sheet and self.sheet not in wb.sheetnames:
            raise HuifangError(f"'{self.sheet}' is not a sheet of {self.path.name}; "
                               f"sheets: {', '.join(wb.sheetnames)}", field="sheet")
        ws = wb[self.sheet] if self.sheet else wb.worksheets[0]
        return wb, ws

    def _raw(self) -> Iterator[list[Any]]:
        if self.xlsx:
            wb, ws = self._open_sheet()
            try:
                if not self.total:
                    self.total = max(0, (ws.max_row or 1) - 1)
                yield from (list(r) for r in ws.iter_rows(values_only=True))
            finally:
                wb.close()
            return
        try:
            with self.path.open(encoding=self.encoding, errors="surrogateescape", newline="") as f:
                if self._suspect:
                    yield from self._named(csv.reader(f))
                else:  # the scan decoded every byte: nothing to look for row by row
                    yield from csv.reader(f)
        except csv.Error as e:
            raise HuifangError(f"FILE: '{self.path.name}' is not valid CSV ({e})") from None

    def _named(self, records: Iterator[list[str]]) -> Iterator[list[str]]:
        """The records of a suspect file, refusing the first one that does not decode (its bytes are
        lone surrogates, errors="surrogateescape") or that shows the file mixes encodings."""
        label = "GB18030" if self.encoding == "gb18030" else "UTF-8"
        first: dict[str, int] = {}  # encoding -> first row in it
        for row, cells in enumerate(records, start=1):
            text = "".join(cells)
            if text.isascii():
                yield cells
                continue
            bad = _UNDECODED.search(text)
            if bad:
                raise HuifangError(
                    f"FILE: '{self.path.name}' row {row} is not {label} text (byte "
                    f"0x{ord(bad.group()) - 0xDC00:02X})"
                    + ("; pass --encoding gb18030 if the file is GB18030" if label == "UTF-8" else
                       ": the file is damaged or in another encoding; save it as 'CSV UTF-8'"))
            if label == "GB18030":
                kind = "UTF-8" if _looks_utf8(text.encode("gb18030")) else "GB18030"
                first.setdefault(kind, row)
                if len(first) == 2:
                    raise HuifangError(
                        f"FILE: '{self.path.name}' mixes text encodings: row {first['GB18030']} is "
                        f"GB18030 and row {first['UTF-8']} is UTF-8 (read as one they turn into "
                        f"mojibake); save the whole file in one encoding ('CSV UTF-8') and import it again")
            yield cells

    def _headers(self) -> list[str]:
        for raw in self._raw():
            headers = [_text(h).strip() for h in raw]
            while headers and not headers[-1]:
                headers.pop()
            if not headers:
                break
            for i, h in enumerate(headers, start=1):
                check_text(h, f"FILE: '{self.path.name}' header, column {i}")
            dup = sorted({h for h in headers if h and headers.count(h) > 1})
            if dup:
                raise HuifangError(f"FILE: header has duplicate column(s) {', '.join(dup)}")
            return headers
        raise HuifangError(f"FILE: '{self.path.name}' has no header row")

    def rows(self) -> Iterator[tuple[int, dict[str, str], list[str]]]:
        n = 1
        it = self._raw()
        next(it, None)  # header
        width = len(self.headers)
        text = self.xlsx  # a CSV's cells are text already
        for raw in it:
            n += 1
            cells = [_text(c) for c in raw] if text else raw
            if len(cells) == width:  # the usual row (the checks below, in fewer steps)
                if "".join(cells).strip():  # not a blank line
                    yield n, dict(zip(self.headers, cells, strict=True)), cells
                continue
            if not any(c.strip() for c in cells):
                continue  # blank lines (Excel leaves some at the end)
            extra = cells[width:]
            cells = (cells + [""] * width)[:width]
            if any(x.strip() for x in extra):
                yield n, {"\0extra": "1", **dict(zip(self.headers, cells, strict=True))}, cells + extra
                continue
            yield n, dict(zip(self.headers, cells, strict=True)), cells


SAMPLE = 32 * 1024  # bytes of non-ASCII lines handed to charset-normalizer
# a line of valid UTF-8 (no undecodable byte) holding a 3+ byte character (CJK): see _looks_utf8
_UTF8_LINE = re.compile("^[^\n\udc80-\udcff]*[\u0800-\ud7ff\ue000-\U0010ffff][^\n\udc80-\udcff]*$", re.M)
_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes surrogateescape could not decode
GB_FAMILY = {"gb18030", "gbk", "gb2312", "cp936", "hz"}


def _looks_utf8(raw: bytes) -> bool:
    """Bytes that are valid UTF-8 and hold a character of 3+ bytes (CJK): GBK text practically never
    does (its 2-byte pairs at best form Latin/Cyrillic 2-byte UTF-8), so such a row is UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(ord(c) >= 0x800 for c in text)


def _other_encoding(sample: bytes) -> str | None:
    """The encoding charset-normalizer reads `sample` in, if GB18030 is clearly worse (or not a
    candidate at all); None when GB18030 is as good as any."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(sample))
    if not matches:
        return None  # nothing reads well: the rows that do not decode are named (_raw)
    best = min(m.chaos for m in matches)
    gb = [m.chaos for m in matches if m.encoding in GB_FAMILY]
    if gb and min(gb) <= best + 0.05:
        return None
    return min(matches, key=lambda m: m.chaos).encoding


def _text(v: Any) -> str:
    """A cell as text: Excel gives numbers (phone numbers as 13800138000.0), dates and booleans."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return str(v)


# -- the import ----------------------------------------------------------------------------------
class Importer:
    """`what` is "subject" or "trigger"; `progress(phase, done, total)` is called as rows go by."""

    def __init__(self, app: HuifangApp, what: str, path: str, mapping: ColumnMap, kind: str | None = None,
                 skip_bad: bool = False, reject: str | None = None, batch: int | None = None, actor: str = "cli",
                 progress: Callable[[str, int, int], None] | None = None, encoding: str | None = None,
                 sheet: str | None = None):
        if what not in ("subject", "trigger"):
            raise ValueError(what)
        if batch is None:
            batch = default_batch(app.store.kind)
        if batch < 1:
            raise HuifangError("must be at least 1", field="batch")
        self.app = app
        self.what = what
        self.map = mapping
        self.kind = kind or mapping.kind
        self.skip_bad = skip_bad
        self.batch = batch
        self.actor = actor
        self.progress = progress or (lambda phase, done, total: None)
        self.source = Source(path, encoding or mapping.encoding, sheet or mapping.sheet)
        self.reject_path = Path(reject) if reject else self.source.path.with_name(self.source.path.name + ".rejects.csv")
        self.tz = app.config.huifang.timezone
        self._resolve_columns()
        self.key = hashlib.sha256(
            f"{self.source.digest}|{what}|{self.kind}|{mapping.digest()}".encode()).hexdigest()[:64]
        self._subjects: OrderedDict[str, Any] = OrderedDict()  # LRU of loaded subjects
        # pass 1's plans, saved as they are by pass 2 instead of planning every row twice
        # (row -> (subject, trigger, follow-ups)); at most KEEP_PLANS rows, so memory stays bounded
        self._plans: dict[int, tuple[str, Any, list[Any]]] = {}
        # numbers pass 1 found valid (G1), so pass 2 does not parse them again; bounded like the plans
        self._valid_phones: set[str] = set()
        # the single pass of a trigger import (core/bulk.py): the rows between the passes, the planner,
        # and each chunk pass 1 read as (its last row or None when empty, rows read so far)
        self._spill: Spill | None = None
        self._planner: bulk.Planner | None = None
        self._chunk_ends: list[tuple[int | None, int]] = []
        self._ids: dict[str, UUID] = {}  # the chunk's trigger ids -> aggregate ids (computed once)
        self._keys_spent: set[str] = set()  # subjects whose spilled data keys went to a save

    # -- columns --------------------------------------------------------------------------------
    def _resolve_columns(self) -> None:
        headers = self.source.headers
        lower = {h.lower(): h for h in headers}
        known = SUBJECT_FIELDS if self.what == "subject" else TRIGGER_FIELDS
        cols: dict[str, str] = {}
        for f in known:
            if f == "kind" and self.kind:
                continue  # --kind (or the mapping's kind) wins: a `kind` column is then an attribute
            if f in self.map.fields:
                h = self.map.fields[f]
                if h not in headers:
                    raise HuifangError(f"column '{h}' (for {f}) is not in the file's header; "
                                       f"columns: {', '.join(headers)}", field="map")
                cols[f] = h
            elif self.map.source == "default" and f in lower:
                cols[f] = lower[f]
        used = set(cols.values())
        if self.map.attributes is not None:
            for a, h in self.map.attributes.items():
                if h not in headers:
                    raise HuifangError(f"column '{h}' (for attribute {a}) is not in the file's header; "
                                       f"columns: {', '.join(headers)}", field="map")
            attrs = dict(self.map.attributes)
        else:
            attrs = {(h[5:] if h.lower().startswith("attr.") else h): h for h in headers if h and h not in used}
        self.cols, self.attrs = cols, attrs
        need = ("id", "name") if self.what == "subject" else ("subject",)
        missing = [f for f in need if f not in cols]
        if self.what == "trigger" and "kind" not in cols and not self.kind:
            missing.append("kind (or --kind KIND)")
        if self.what == "trigger" and "id" not in cols and "at" not in cols:
            missing.append("id or at (so that a re-run finds the same triggers)")
        if missing:
            raise HuifangError(f"FILE: no column for {', '.join(missing)}; columns: {', '.join(headers)} "
                               f"(name them so, or map them with --map FILE)")

    # -- parsing a row ----------------------------------------------------------------------------
    def _cell(self, rec: dict[str, str], f: str) -> str:
        h = self.cols.get(f)
        return _checked(rec.get(h, ""), h, multiline=False).strip() if h else ""

    def _attributes(self, rec: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for a, h in self.attrs.items():
            v = _checked(rec.get(h, ""), h, multiline=True).strip()  # attribute values are free text
            if not v:
                continue
            if v[:1] in "[{":
                try:
                    out[a] = load_json(v, "JSON")
                    continue
                except NotJSON:
                    pass
                except HuifangError as e:  # too deep, not a finite number
                    raise _BadRow(h, e.message) from None
            out[a] = v
        return out

    def _parse(self, n: int, rec: dict[str, str]) -> dict[str, Any]:
        """A row as the command's arguments, or Bad naming the row and column."""
        if "\0extra" in rec:
            raise _BadRow("-", f"more cells than the {len(self.source.headers)} header columns")
        if self.what == "subject":
            return self._parse_subject(rec)
        return self._parse_trigger(rec)

    def _parse_subject(self, rec: dict[str, str], prefix: str = "") -> dict[str, Any]:
        def f(x: str) -> str:
            return prefix + x

        code = self._cell(rec, "subject" if prefix else "id")
        _code(code, self.cols.get("subject" if prefix else "id", "id"))
        name = self._cell(rec, f("name"))
        if not name:
            raise _BadRow(self.cols.get(f("name"), f("name")), "name is empty")
        phones = [p.strip() for p in self._cell(rec, f("phone")).replace("|", self.map.separator)
                  .split(self.map.separator) if p.strip()]
        for p in phones:
            if p in self._valid_phones:
                continue
            try:
                check_phone(p)  # G1: the same rule as `subject add`
            except HuifangError as e:
                raise _BadRow(self.cols[f("phone")], e.message) from None
            if len(self._valid_phones) < KEEP_PHONES:
                self._valid_phones.add(p)
        email = self._cell(rec, f("email")) or None
        if email is not None and "@" not in email:
            raise _BadRow(self.cols[f("email")], f"'{email}' is not an email address")
        tz = self._cell(rec, f("tz")) or self.tz
        try:
            clock.zone(tz)
        except HuifangError:
            raise _BadRow(self.cols.get(f("tz"), "tz"), f"'{tz}' is not an IANA time zone (e.g. Asia/Shanghai)") \
                from None
        attrs = {} if prefix else self._attributes(rec)
        return {"code": code, "name": name, "phones": phones, "email": email, "tz": tz, "attributes": attrs}

    def _parse_trigger(self, rec: dict[str, str]) -> dict[str, Any]:
        kind = self._cell(rec, "kind") or self.kind
        if not kind:
            raise _BadRow(self.cols.get("kind", "kind"), "kind is empty (or pass --kind KIND)")
        try:
            k = self.app.registry.resolve_kind(kind)
        except HuifangError as e:
            raise _BadRow(self.cols.get("kind", "kind"), str(e)) from None
        subject = self._cell(rec, "subject")
        _code(subject, self.cols["subject"])
        at = None
        at_text = self._cell(rec, "at")
        if at_text:
            at = parse_when(at_text, self.cols["at"], self.tz)
            if at > clock.now():
                raise _BadRow(self.cols["at"], f"{at_text} is after --now; a service event cannot be in the future")
        elif "at" in self.cols:
            raise _BadRow(self.cols["at"], "the time of the event is empty")
        code = self._cell(rec, "id") or None
        if code is not None:
            _code(code, self.cols["id"])
        elif "id" in self.cols:
            raise _BadRow(self.cols["id"], "the trigger id is empty")
        attrs = self._attributes(rec)
        try:
            clean = k.spec.attributes.model_validate(attrs).model_dump(mode="json")
        except ValidationError as e:
            err = e.errors()[0]
            loc = [str(x) for x in err.get("loc", ())]
            col = self.attrs.get(loc[0], loc[0]) if loc else "-"
            msg = err.get("msg", "invalid").removeprefix("Value error, ")
            if err.get("type") == "extra_forbidden":
                msg = f"'{loc[0]}' is not an attribute of {k.qualified}: map or drop this column"
            elif err.get("type") == "missing":
                msg = f"attribute '{loc[0]}' of {k.qualified} is required"
            raise _BadRow(col, msg) from None
        if code is None:
            code = derived_trigger_id(k.qualified, subject, at, clean)
        new_subject = None
        if "subject_name" in self.cols:
            new_subject = self._parse_subject(rec, prefix="subject_") if self._cell(rec, "subject_name") else None
        return {"kind": k.qualified, "subject": subject, "at": at, "attributes": clean, "code": code,
                "new_subject": new_subject}

    def _differ(self, a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
        """The columns in which two parsed rows differ (the row's fields, then its attributes)."""
        out = []
        for k in dict.fromkeys([*a, *b]):
            if k in ("attributes", "code") or a.get(k) == b.get(k):
                continue
            if k == "new_subject":
                out += self._differ(a.get(k) or {}, b.get(k) or {}, prefix="subject_")
                continue
            f = prefix + ("phone" if k == "phones" else k)
            out.append(self.cols.get(f, f))
        attrs_a, attrs_b = a.get("attributes") or {}, b.get("attributes") or {}
        out += [self.attrs.get(k, k) for k in dict.fromkeys([*attrs_a, *attrs_b]) if attrs_a.get(k) != attrs_b.get(k)]
        return out

    # -- subjects for triggers ---------------------------------------------------------------------
    def _prefetch(self, codes: list[str], created: dict[str, Any]) -> None:
        """Load the batch's subjects in one query (one per row would dominate the import)."""
        want = [c for c in dict.fromkeys(codes) if c not in created and c not in self._subjects]
        for code, s in load_many(self.app, [bulk.aggregate_id("subject", c) for c in want], want).items():
            self._subjects[code] = s
        while len(self._subjects) > 20000:
            self._subjects.popitem(last=False)

    def _subject(self, code: str, new: dict[str, Any] | None, created: dict[str, Any]) -> tuple[Any, bool]:
        """(Subject, is_new): from the batch, the cache, the store, or registered from the row's subject
        columns."""
        if code in created:
            return created[code], False
        s = self._subjects.get(code)
        if s is None:
            s = self.app.find(Subject, code)
            if s is not None:
                self._subjects[code] = s
        if s is not None:
            return s, False
        if new is None and "subject_name" in self.cols:
            raise _BadRow(self.cols["subject_name"], f"subject '{code}' is not registered and the name to "
                                                     f"register it with is empty")
        if new is None:
            col = self.cols["subject"]
            raise _BadRow(col, f"subject '{code}' is not registered: import subjects first "
                               f"(huifang subject import) or map subject_name")
        s = self.app.new_subject(new["code"], new["name"], new["phones"], new["email"], new["tz"], {},
                                 actor=self.actor, checked=True)
        return s, True

    def _stored(self, codes: list[str], ids: dict[str, UUID] | None = None) -> dict[str, Any]:
        """Which of these ids are already stored (one query), as aggregates; `ids` (cleared, then
        filled): their aggregate ids, so that nothing computes them again."""
        from .domain import Trigger

        cls, kind = (Subject, "subject") if self.what == "subject" else (Trigger, "trigger")
        uids = [bulk.aggregate_id(kind, c) for c in codes] if ids is not None else [cls.create_id(c) for c in codes]
        if ids is not None:
            ids.clear()
            ids.update(zip(codes, uids, strict=True))
        return load_many(self.app, uids, codes)

    def _chunks(self, resume: int, size: int) -> Iterator[tuple[int, list[tuple[int, dict[str, str], list[str]]]]]:
        """Rows after the resume position in chunks; with the count of data rows read so far."""
        chunk: list[tuple[int, dict[str, str], list[str]]] = []
        count = 0
        for item in self.source.rows():
            count += 1
            if item[0] <= resume:
                continue
            chunk.append(item)
            if len(chunk) >= size:
                bulk.settle()
                yield count, chunk
                chunk = []
        bulk.settle()
        yield count, chunk

    # -- position ----------------------------------------------------------------------------------
    def _run_row(self) -> ImportRun | None:
        """This file's earlier run, if any (read only: a refused import writes nothing at all)."""
        return self.app.read_side.import_run(self.key)

    def _start(self) -> None:
        self.app.read_side.start_import(self.key, str(self.source.path), self.what, self.source.total)

    def _save_position(self, done: int, imported: int, status: str = "running") -> None:
        self.app.read_side.save_import_position(self.key, done, imported, status)

    # -- the two passes ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        # the policy once for the whole file (G8): subject.add, or trigger (intake, sales)
        self.app.access.require(self.actor, "subject.add" if self.what == "subject" else "trigger",
                                target=f"import {self.source.path.name}")
        run = self._run_row()
        resume = run.done if run is not None else 0
        start_imported = run.imported if run is not None else 0
        report: dict[str, Any] = {"file": str(self.source.path), "what": self.what, "encoding": self.source.encoding,
                                  "rows": 0, "imported": 0, "existing": 0, "duplicates": 0, "bad": [],
                                  "skipped_bad": 0, "reject_file": None, "resumed_after_row": resume or None,
                                  "batches": 0, "already_imported": run is not None and run.status == "done"}
        if run is not None and run.status == "done":
            report["rows"] = run.rows
            return report
        with self.app.access.pinned():  # one bulk command: access control is on or off throughout
            return self._run(run, resume, start_imported, report)

    def _run(self, run: Any, resume: int, start_imported: int, report: dict[str, Any]) -> dict[str, Any]:
        # triggers in a single pass (core/bulk.py), unless a backfill must log what each save writes
        if self.what == "trigger" and clock.backfill() is None:
            self._spill, self._planner, self._chunk_ends = Spill(), bulk.Planner(self.app, self.actor), []
        try:
            with bulk.fewer_collections(), import_cache(self.app.recorder):
                return self._passes(resume, start_imported, report)
        finally:
            if self._spill is not None:
                # keys of rows never written (a refused file) wait for the next save, as keys made by
                # a plan always did: something sealed under them may still be saved by this process
                recorder: Any = self.app.recorder
                recorder.key_writes.update({s: k for s, k in self._spill.keys().items() if s not in self._keys_spent})
                self._spill.close()
                self._spill = self._planner = None

    def _passes(self, resume: int, start_imported: int, report: dict[str, Any]) -> dict[str, Any]:
        bad, existing, dups, rows = self._check(resume)
        report.update(rows=rows, existing=len(existing), duplicates=len(dups))
        report["bad"] = [b.__dict__ for b in bad]
        if bad:
            if not self.skip_bad:  # default: a file with bad rows imports nothing
                return report
            self._write_rejects(bad)
            from .privacy import record_plaintext_file

            record_plaintext_file(self.app, self.reject_path, "import rejects", len(bad), str(self.source.path),
                                  self.actor)
            report["reject_file"] = str(self.reject_path)
            report["skipped_bad"] = len(bad)
        skip = {b.row for b in bad} | existing | dups
        self._start()
        if self._spill is not None:
            imported, batches = self._write_spilled(self._spill, resume, start_imported)
        else:
            imported, batches = self._write(resume, start_imported, skip)
        report.update(imported=imported - start_imported, batches=batches)
        return report

    def _check(self, resume: int) -> tuple[list[Bad], set[int], set[int], int]:
        """Pass 1: every row after the resume position, dry (nothing saved): parse, validate, plan."""
        bad: list[Bad] = []
        existing: set[int] = set()
        dups: set[int] = set()
        index = bulk.FileIndex()  # each id's first row and each subject's new triggers, on disk
        registered: dict[str, tuple[int, dict[str, Any]]] = {}  # subject -> (row, data) a trigger row registers
        self._plans = {}
        spill = self._spill
        created: dict[str, Any] = {}  # subjects the file itself registers (trigger import)
        file_history = FileHistory(self.app.history)  # plans see the file's rows planned before theirs
        total = self.source.total
        count = 0
        try:
            for count, chunk in self._chunks(resume, self.batch):
                self._check_chunk(chunk, index, spill, bad, existing, dups, registered, created, file_history)
                if spill is not None:
                    self._chunk_ends.append((chunk[-1][0] if chunk else None, count))
                self.progress("checking", count, max(total, count))
            # a plan may read the subject's earlier triggers (history): a subject with several new triggers
            # in this file is planned again in pass 2, after its earlier ones are saved
            counts = index.counts([p[0] for p in self._plans.values()])
            self._plans = {n: p for n, p in self._plans.items() if counts.get(p[0], 0) == 1}
        finally:
            index.close()
        bad.sort(key=lambda b: b.row)
        return bad, existing, dups, count

    def _check_chunk(self, chunk: list[tuple[int, dict[str, str], list[str]]], index: bulk.FileIndex, spill: Any,
                     bad: list[Bad], existing: set[int], dups: set[int],
                     registered: dict[str, tuple[int, dict[str, Any]]], created: dict[str, Any],
                     file_history: FileHistory) -> None:
        """One chunk of pass 1, checked against the rows before it (`index`): bad rows, repeats and rows
        already stored go to `bad`, `dups` and `existing`; its ids and its subjects' new triggers to `index`."""
        parsed: list[tuple[int, dict[str, Any] | _BadRow, list[str]]] = []
        for n, rec, raw in chunk:
            try:
                parsed.append((n, self._parse(n, rec), raw))
            except _BadRow as e:
                parsed.append((n, e, raw))
        earlier = index.ids([a["code"] for _, a, _ in parsed if isinstance(a, dict)])
        seen: dict[str, tuple[int, int]] = {}  # this chunk's ids: id -> (first row, its data's _fingerprint)
        good: list[tuple[int, dict[str, Any]]] = []
        for n, args, raw in parsed:
            try:
                if isinstance(args, _BadRow):
                    raise args
                mark = _fingerprint(raw)
                first = seen.get(args["code"]) or earlier.get(args["code"])
                if first is not None:
                    # the same id twice: the same data is a repeat (no-op), other data a bad row
                    differ = [] if first[1] == mark else self._differ(self._reparse({first[0]})[first[0]], args)
                    if differ:
                        raise _BadRow(self.cols.get("id", "id"), f"id '{args['code']}' is also in row "
                                      f"{first[0]} with other data ({', '.join(differ)}): keep one of rows "
                                      f"{first[0]} and {n}")
                    dups.add(n)
                    continue
                new = args.get("new_subject")
                if new is not None:
                    other = registered.setdefault(args["subject"], (n, new))
                    differ = self._differ(other[1], new, prefix="subject_")
                    if differ:
                        raise _BadRow(self.cols.get("subject", "subject"), f"subject '{args['subject']}' is "
                                      f"also registered in row {other[0]} with other data ({', '.join(differ)})"
                                      f": keep one of rows {other[0]} and {n}")
                seen[args["code"]] = (n, mark)
                good.append((n, args))
            except _BadRow as e:
                bad.append(Bad(n, e.column, e.why))
        index.add_ids(seen)
        rows_of = index.counts([a["subject"] for _, a in good]) if self.what == "trigger" else {}
        planned: dict[str, int] = {}  # subject -> this chunk's new triggers of theirs
        stored = self._stored([a["code"] for _, a in good], ids=self._ids)
        if self.what == "trigger":
            self._prefetch([a["subject"] for _, a in good], created)
        # the data keys of the chunk's subjects in one read (sealing their attributes, G8)
        keys = self.app.keyring.prefetched([a["subject"] for _, a in good] if spill is not None else [])
        with keys:
            for n, args in good:
                old = stored.get(args["code"])
                try:
                    if self.what == "subject":
                        if old is not None:
                            existing.add(n)
                        continue
                    if old is not None:
                        if (old.kind, old.subject) != (args["kind"], args["subject"]):
                            raise _BadRow(self.cols.get("id", "id"), f"trigger '{args['code']}' is already stored "
                                                                     f"for {old.kind} of subject {old.subject}")
                        # a correction is never dropped silently: it is `trigger amend`
                        differ = [self.cols.get("at", "at") if f == "at" else self.attrs.get(f, f)
                                  for f in differing_fields(self.app, old, args["attributes"], args["at"])]
                        if differ:
                            raise _BadRow(differ[0], f"trigger '{args['code']}' is already stored with other data "
                                          f"({', '.join(differ)}): correct it with 'huifang trigger amend "
                                          f"{args['code']} --attr KEY=VALUE'")
                        existing.add(n)
                        continue
                    subj, is_new = self._subject(args["subject"], args["new_subject"], created)
                    if is_new:
                        created[args["subject"]] = subj
                    # single pass: the first trigger of a subject already stored is planned and encoded
                    # here, once; the others (a plan may read the subject's earlier triggers) when written
                    if spill is not None and not is_new and args["subject"] not in rows_of \
                            and args["subject"] not in planned and self._spill_planned(spill, n, args, subj,
                                                                                       file_history):
                        planned[args["subject"]] = 1
                        continue
                    trigger, fus, closed, _ = plans.plan_trigger(
                        self.app, args["kind"], args["subject"], args["attributes"], args["code"], args["at"],
                        actor=self.actor, subj=subj, check_existing=False, history=file_history)
                    file_history.add(trigger)
                    planned[args["subject"]] = planned.get(args["subject"], 0) + 1
                    if spill is not None:
                        spill.later(n, args)
                    elif not is_new and not closed and len(self._plans) < KEEP_PLANS:
                        self._plans[n] = (args["subject"], trigger, fus)
                except _BadRow as e:
                    bad.append(Bad(n, e.column, e.why))
                except HuifangError as e:
                    bad.append(Bad(n, "-", str(e)))
        index.add_counts(planned)

    def _spill_planned(self, spill: Spill, n: int, args: dict[str, Any], subj: Any, history: FileHistory) -> bool:
        """Plan one row's records once and spill them (bulk.Planner); False when the row must be
        planned the usual way (nothing spilled then)."""
        assert self._planner is not None
        recorder: Any = self.app.recorder
        keys = recorder.key_writes
        before = len(keys)
        known = set(keys) if before else set()
        planned = self._planner.plan(self.app.registry.resolve_kind(args["kind"]), subj, args["code"], args["at"],
                                     args["attributes"], history, self._ids.get(args["code"]))
        if planned is None:
            return False
        records, seen, at = planned
        history.add(seen)
        # data keys this row's sealing created are written in its batch's transaction (G8)
        made = {s: keys.pop(s) for s in set(keys) - known} if len(keys) != before else None
        spill.planned(n, args["subject"], args["code"], at, records, made)
        return True

    def _write_spilled(self, spill: Spill, resume: int, imported: int) -> tuple[int, int]:
        """Pass 2 of the single pass: the spilled rows in the batches pass 1 read them in (one save
        and then the position per batch, as _write); a row spilled without records is planned now."""
        total = self.source.total
        batches = 0
        checked = resume > 0
        last = resume
        rows = spill.rows()
        row = next(rows, None)

        def flush(pending: list[bulk.Row], upto: int) -> None:
            nonlocal imported, batches, checked
            if pending:
                try:
                    try:
                        imported += self._commit_spilled(pending, check=checked)
                    except ConflictError:  # a concurrent writer stored one of these ids: plan afresh
                        imported += self._commit_spilled(pending, check=True, replan=True)
                except HuifangError as e:
                    if batches == 0 and resume == 0:
                        raise
                    raise HuifangError(f"rows {pending[0].n}-{pending[-1].n}: {e} (the rows before them are "
                                       f"imported: re-run the same command to resume)") from None
                batches += 1
                checked = False
            self._save_position(upto, imported)

        for end, count in self._chunk_ends:
            bulk.settle()
            last = end if end is not None else last
            pending: list[bulk.Row] = []
            batch_subjects: set[str] = set()
            while row is not None and row.n <= last:
                if row.subject in batch_subjects:  # a plan may read the subject's earlier triggers: saved first
                    flush(pending, row.n - 1)
                    pending, batch_subjects = [], set()
                batch_subjects.add(row.subject)
                pending.append(row)
                row = next(rows, None)
            flush(pending, last)
            self.progress("importing", count, max(total, count))
        self._save_position(last, imported, "done")
        return imported, batches

    def _reparse(self, rows: set[int]) -> dict[int, dict[str, Any]]:
        """The parsed arguments of these rows, read from the file again (a failed save's rows whose
        records were spilled: planned afresh)."""
        out: dict[int, dict[str, Any]] = {}
        if not rows:  # nothing to read again (not a scan of the whole file per batch)
            return out
        for n, rec, _raw in self.source.rows():
            if n in rows:
                out[n] = self._parse(n, rec)
                if len(out) == len(rows):
                    break
        return out

    def _commit_spilled(self, pending: list[bulk.Row], check: bool, replan: bool = False) -> int:
        """One batch in one transaction: the spilled records as they are, the other rows planned now
        (every row when `replan`: a failed save), with the same chain, seal and guards as commit()."""
        from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError

        from . import timekeeping

        later = [r for r in pending if replan or r.records is None]
        again = self._reparse({r.n for r in later if r.args is None}) if later else {}
        by_row = self._plan_rows([(r.n, r.args if r.args is not None else again[r.n]) for r in later], check,
                                 span=(pending[0].n, pending[-1].n)) if later else {}
        stored = self._stored([r.code for r in pending if r.records is not None and not replan]) if check else {}
        records: list[Any] = []
        spilled: list[bulk.Record] = []  # the spilled rows' records not yet in `records` (made StoredEvents at once)
        aggregates: list[Any] = []
        times: list[datetime] = []
        keys: dict[str, bytes] = {}
        n_new = 0
        for r in pending:
            if replan or r.records is None:
                mine = by_row.get(r.n)
                if mine is None:
                    continue
                records += bulk.stored_events(spilled)  # in row order
                spilled = []
                aggregates += mine
                records += [e for a in mine for e in a.collect_events()]
            elif r.code not in stored:
                assert r.at is not None
                times.append(r.at)
                spilled += r.records
                if r.keys:
                    keys.update(r.keys)
            else:
                continue
            n_new += 1
        records += bulk.stored_events(spilled)
        if not records:
            return n_new
        saved = (*aggregates, _Stamped(_span(times, self.actor)))
        self.app.access.guard(saved)
        timekeeping.before_save(self.app, saved)  # store-wide time; a backfill never takes this path
        encoded = [e if isinstance(e, StoredEvent) else self.app.mapper.to_stored_event(e) for e in records]
        recorder: Any = self.app.recorder
        recorder.key_writes.update(keys)
        self._keys_spent.update(keys)  # written, or dropped with the failed save (keyring on_abort)
        try:
            recorder.insert_events(encoded)
        except IntegrityError:
            names = ", ".join(sorted({r.code for r in pending}))
            raise ConflictError(f"{names} was changed by another command at the same time; nothing was written: "
                                f"re-run the command") from None
        except (OperationalError, PersistenceError) as e:
            raise StoreUnavailable(e) from None
        return n_new

    def _write(self, resume: int, imported: int, skip: set[int]) -> tuple[int, int]:
        """Pass 2: one save per batch, then the position. The first batch after a resume checks
        which ids are stored (its save may have landed before the kill); later batches trust pass 1
        and fall back to checking if a concurrent writer stored one of their ids (ConflictError)."""
        total = self.source.total
        batches = 0
        checked = resume > 0
        last = resume
        count = 0

        def flush(pending: list[tuple[int, dict[str, Any]]], upto: int) -> None:
            nonlocal imported, batches, checked
            if pending:
                try:
                    try:
                        imported += self._commit(pending, check=checked)
                    except ConflictError:  # the failed save took the kept plans' events: plan afresh
                        imported += self._commit(pending, check=True, reuse=False)
                except HuifangError as e:
                    if batches == 0 and resume == 0:
                        raise
                    raise HuifangError(f"rows {pending[0][0]}-{pending[-1][0]}: {e} (the rows before them are "
                                       f"imported: re-run the same command to resume)") from None
                batches += 1
                checked = False
            self._save_position(upto, imported)

        for count, chunk in self._chunks(resume, self.batch):
            pending: list[tuple[int, dict[str, Any]]] = []
            batch_subjects: set[str] = set()
            for n, rec, _raw in chunk:
                if n not in skip:
                    args = self._parse(n, rec)
                    # a plan may read the subject's earlier triggers (history): one trigger per subject per save
                    if self.what == "trigger":
                        if args["subject"] in batch_subjects:
                            flush(pending, last)
                            pending, batch_subjects = [], set()
                        batch_subjects.add(args["subject"])
                    pending.append((n, args))
                last = n
            flush(pending, last)
            self.progress("importing", count, max(total, count))
        self._save_position(last, imported, "done")
        return imported, batches

    def _commit(self, pending: list[tuple[int, dict[str, Any]]], check: bool, reuse: bool = True) -> int:
        if self.what == "subject" and clock.backfill() is None:  # a backfill logs what each save writes
            return self._commit_subjects(pending, check)
        by_row = self._plan_rows(pending, check, reuse)
        aggregates = [a for n, _ in pending for a in by_row.get(n, ())]
        if aggregates:
            self.app.commit(*aggregates)
        return len(by_row)

    def _commit_subjects(self, pending: list[tuple[int, dict[str, Any]]], check: bool) -> int:
        """A batch of subject rows in one transaction, their `Registered` records built and encoded
        directly (bulk.Planner.subject: no aggregate per row), with the same keys, guards, chain and
        seal as commit()."""
        from . import timekeeping

        if self._planner is None:
            self._planner = bulk.Planner(self.app, self.actor)
        first, last = pending[0][0], pending[-1][0]
        stored = self._stored([a["code"] for _, a in pending]) if check else {}
        new = [(n, a) for n, a in pending if a["code"] not in stored]
        records: list[bulk.Record] = []
        times: list[datetime] = []
        with self.app.keyring.prefetched([a["code"] for _, a in new]):
            for n, args in new:
                try:
                    record, at = self._planner.subject(args)
                except HuifangError as e:
                    raise HuifangError(f"row {n}: {e}; nothing of rows {first}-{last} was written: "
                                       f"fix it and re-run to resume") from None
                records.append(record)
                times.append(at)
        if not records:
            return 0
        saved = (_Stamped(_span(times, self.actor)),)
        self.app.access.guard(saved)
        timekeeping.before_save(self.app, saved)  # store-wide time; a backfill never takes this path
        self._insert(bulk.stored_events(records), [a["code"] for _, a in new])
        return len(records)

    def _insert(self, encoded: list[StoredEvent], codes: list[str]) -> None:
        """The batch's records in one transaction, store failures as one-line errors (as commit())."""
        from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError

        recorder: Any = self.app.recorder
        try:
            recorder.insert_events(encoded)
        except IntegrityError:
            raise ConflictError(f"{', '.join(sorted(codes))} was changed by another command at the same time; "
                                f"nothing was written: re-run the command") from None
        except (OperationalError, PersistenceError) as e:
            raise StoreUnavailable(e) from None

    def _plan_rows(self, pending: list[tuple[int, dict[str, Any]]], check: bool, reuse: bool = True,
                   span: tuple[int, int] | None = None) -> dict[int, list[Any]]:
        """The aggregates each new row of a batch saves (rows already stored are left out); `span`:
        the batch's first and last row, as errors name them (default: those of `pending`)."""
        first, last = span or (pending[0][0], pending[-1][0])
        out: dict[int, list[Any]] = {}
        created: dict[str, Any] = {}
        plans = {n: self._plans.pop(n) for n, _ in pending if n in self._plans}
        if not reuse:
            plans = {}
        stored = self._stored([a["code"] for _, a in pending]) if check else {}
        if self.what == "trigger":
            self._prefetch([a["subject"] for n, a in pending if n not in plans], created)
        # the data keys of the subjects this batch registers: one read for the batch, not one per subject
        if self.what == "subject":
            new_codes = [a["code"] for _, a in pending if a["code"] not in stored]
        else:
            new_codes = [a["new_subject"]["code"] for n, a in pending
                         if n not in plans and a["code"] not in stored and a.get("new_subject")]
        with self.app.keyring.prefetched(new_codes):
            for n, args in pending:
                if args["code"] in stored:
                    continue
                kept = plans.get(n)
                if kept is not None:  # planned in pass 1 on the same store state and logical time
                    out[n] = [kept[1], *kept[2]]
                    continue
                try:
                    if self.what == "subject":
                        out[n] = [self.app.new_subject(args["code"], args["name"], args["phones"], args["email"],
                                                       args["tz"], args["attributes"], actor=self.actor, checked=True)]
                        continue
                    subj, is_new = self._subject(args["subject"], args["new_subject"], created)
                    trigger, fus, closed, _ = self.app.plan_trigger(
                        args["kind"], args["subject"], args["attributes"], args["code"], args["at"], actor=self.actor,
                        subj=subj, check_existing=False)
                except _BadRow as e:
                    raise HuifangError(f"row {n}, column '{e.column}': {e.why}; nothing of rows {first}-"
                                       f"{last} was written: fix it and re-run to resume") from None
                except HuifangError as e:
                    raise HuifangError(f"row {n}: {e}; nothing of rows {first}-{last} was written: "
                                       f"fix it and re-run to resume") from None
                if is_new:
                    created[args["subject"]] = subj
                out[n] = [subj, trigger, *fus, *closed] if is_new else [trigger, *fus, *closed]
        return out

    def _write_rejects(self, bad: list[Bad]) -> None:
        """The bad rows as they were, with the row number, column and reason in front (UTF-8 with a
        BOM so Excel shows the Chinese text)."""
        rows = {b.row: b for b in bad}
        # G8: the rows hold plaintext personal data: owner-only (an existing file is narrowed too),
        # and listed by `retention report` until someone deletes it
        fd = os.open(self.reject_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(["row", "column", "error", *map(formula_safe, self.source.headers)])
            for n, _rec, raw in self.source.rows():
                b = rows.get(n)
                if b is not None:  # as text, never a formula when opened in a spreadsheet (OWASP)
                    w.writerow([formula_safe(x) for x in (n, b.column, b.why, *raw)])


KEEP_PLANS = 20000  # pass-1 plans kept for pass 2 (bounded memory; later rows are planned again)
KEEP_PHONES = 200000  # numbers pass 1 validated, not parsed again in pass 2 (about 20 MB at most)


class FileHistory:
    """What a plan reads while pass 1 checks a file: the store's history plus this file's triggers
    planned before the row, for every kind a plan counted across subjects (`triggers_of_kind`) — so
    a limit such as A3/A7's (at most `batch_threshold` clients per activity, more must be an approved
    campaign) holds for an import as for triggers typed one by one. Only kinds some plan asked about
    are kept (memory stays bounded by what the rules count); a plan asks before its own row is added.
    Pass 2 plans against the store, which by then holds every earlier batch: it never counts more."""

    def __init__(self, base: History):
        self.base = base
        self.rows: dict[str, list[dict[str, Any]]] = {}  # kind -> trigger rows as the `triggers` view holds them

    def add(self, trigger: Any) -> None:
        if trigger.kind in self.rows:
            self.rows[trigger.kind].append({
                "code": trigger.code, "kind": trigger.kind, "plugin": trigger.plugin, "subject": trigger.subject,
                "occurred_at": trigger.occurred_at, "attributes": trigger.attributes,
                "followups": len(trigger.followups), "skipped": trigger.skipped})

    def triggers_of_kind(self, kind: str) -> list[dict[str, Any]]:
        rows = self.rows.setdefault(kind, [])
        return sorted([*self.base.triggers_of_kind(kind), *rows], key=lambda r: str(r.get("occurred_at", "")))

    def triggers(self, subject: str, kind: str | None = None) -> list[dict[str, Any]]:
        return self.base.triggers(subject, kind)

    def followups(self, subject: str) -> list[dict[str, Any]]:
        return self.base.followups(subject)

    def staff(self, code: str) -> Any:
        return self.base.staff(code)

    def subject(self, code: str) -> Any:
        return self.base.subject(code)

    def read(self, query: Callable[[Any], Any]) -> Any:
        return self.base.read(query)


@dataclass
class _Stamp:
    """What access.guard and timekeeping.before_save read of a spilled row's events."""

    timestamp: datetime
    actor: str


def _fingerprint(cells: list[str]) -> int:
    """What pass 1 keeps of a row to tell a repeated id's data (not the row itself: a 1M-row file's rows
    held 1 GB): the hash of its cells as read. The same cells give the same data; a repeated id whose
    cells differ has its first row read again and the two parsed rows compared field by field
    (Importer._differ): cells that differ only where the data does not (spaces around a value, another
    spelling of the same time, a column not imported) are a repeat."""
    return hash(tuple(cells))


def _span(times: list[datetime], actor: str) -> list[_Stamp]:
    """A batch's spilled rows as their earliest and latest stamps: all that access.guard (the actors) and
    timekeeping.before_save (the earliest and latest times, outside a backfill) read of them."""
    return [_Stamp(min(times), actor), _Stamp(max(times), actor)] if times else []


@dataclass
class _Stamped:
    """A batch's spilled rows as one record for access.guard and timekeeping.before_save."""

    pending_events: list[_Stamp]


class _BadRow(Exception):
    def __init__(self, column: str, why: str):
        super().__init__(why)
        self.column = column
        self.why = " ".join(str(why).split())


def _checked(value: str, column: str, multiline: bool) -> str:
    """A cell under the one input rule (core/inputs.py): a bad row naming the column, else the cell."""
    problem = text_problem(value, multiline)
    if problem is not None:
        raise _BadRow(column, f"the cell {problem}")
    return value


def _code(code: str, column: str) -> None:
    if not code:
        raise _BadRow(column, "the id is empty")
    if len(code) > 120 or _SPACE.search(code):
        raise _BadRow(column, f"'{code}' must be 1-120 characters without spaces")


_SPACE = re.compile(r"\s")  # str.isspace()'s characters (both are Py_UNICODE_ISSPACE)


def parse_when(text: str, column: str, tz: str) -> datetime:
    """ISO-8601 as well as what HIS exports write: 2026/9/28 9:05, 2026-09-28 09:05:00, 2026年9月28日.
    Remembered (an export repeats its times): a bounded memo of the instants parsed."""
    key = (text, tz)
    hit = _WHEN.get(key)
    if hit is None:
        if len(_WHEN) >= 4096:
            _WHEN.clear()
        hit = _WHEN[key] = _parse_when(text, column, tz)
    return hit


_WHEN: dict[tuple[str, str], datetime] = {}


def _parse_when(text: str, column: str, tz: str) -> datetime:
    t = text.strip().replace("年", "-").replace("月", "-").replace("日", " ").replace("/", "-").strip()
    if " " in t and "T" not in t:
        d, _, rest = t.partition(" ")
        t = f"{d}T{rest.strip()}"
    d, sep, rest = t.partition("T")
    parts = d.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        d = f"{int(parts[0]):04d}-{int(parts[1]):02d}-{int(parts[2]):02d}"
    if rest and rest[:2].rstrip(":").isdigit() and len(rest.split(":")[0]) == 1:
        rest = "0" + rest
    try:
        return clock.parse_instant(d + sep + rest, column, tz)
    except HuifangError:
        raise _BadRow(column, f"'{text}' is not a date or date-time (e.g. 2026-09-28 09:30)") from None


def summary(report: dict[str, Any]) -> str:
    if report["already_imported"]:
        return f"{report['file']}: already imported ({report['rows']} rows); nothing to do"
    parts = [f"{report['imported']} {report['what']}(s) imported from {report['rows']} row(s) in "
             f"{report['batches']} batch(es)"]
    if report["existing"] or report["duplicates"]:
        parts.append(f"{report['existing']} already in the store, {report['duplicates']} repeated in the file")
    if report["resumed_after_row"]:
        parts.append(f"resumed after row {report['resumed_after_row']}")
    if report["skipped_bad"]:
        parts.append(f"{report['skipped_bad']} bad row(s) written to {report['reject_file']}")
    return "; ".join(parts)
