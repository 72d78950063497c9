"""huifang benchmarks (scale): each figure divided by a peer measured in the same run.

    python benchmarks/run.py                     # 10k and 100k rows
    python benchmarks/run.py --sizes 10000       # one size
    python benchmarks/run.py --big               # 10k, 100k and 1M rows (hours; memory peaks in children)
    python benchmarks/run.py --pg postgresql://huifang:huifang@127.0.0.1:55432/huifang_test
    python benchmarks/run.py --sizes '' --pg postgresql://...   # the PostgreSQL figures only
                                                 # (writers, schemas, then benchmarks/served.py)

Every ratio is printed twice: in CPU time (this process's, or the measuring child's; the median of
REPEAT runs) and in wall time. CPU time is the one to quote on a shared machine: wall time swings
several-fold with other load. The peers, per size:
  subject import   rows/s, and ÷ a raw sqlite3 insert of the same stored rows (same primary key, WAL,
                   TX_ROWS rows a transaction, an explicit 64 MB page cache so the baseline does not
                   collapse once the table outgrows SQLite's default 2 MB);
  trigger import   ÷ a plain-SQL reference import: the same CSV, validated by the kind's model and
                   planned by the same plugin rules (the engine's Scheduler), the follow-ups written
                   to one plain table with the queue's index, TX_ROWS rows a transaction; the two run
                   alternately, PAIRS times, and the figure is the median of the pairs' ratios; then
                   one more import in its own process, for its peak memory;
  rebuild          ÷ reading and decoding the same log with eventsourcing's default JSONTranscoder
                   (constructed here, not the app's: a faster transcoder cannot flatter it);
  queue            in process, CPU per call ÷ the same SQL through plain sqlite3;
  tick             events/s over a day on which every window opens, vs the import.
`huifang audit verify` runs on every store a benchmark wrote and must pass. Once (with --pg):
PostgreSQL commands/s with 1, 2 and 4 writer processes in one store, then 4 writers in one schema vs
split over 2 and 4 schemas (per-organisation stores). No figure here is asserted by a test.
"""
from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import os
import platform
import queue
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

NURSES = 50
NOW = "2026-10-20T10:00:00+08:00"
LATER = "2026-10-21T11:00:00+08:00"  # tick and queue: the next day, inside a calling window
REPEAT = 3  # every timed figure is the median of this many runs
PAIRS = 5  # trigger import and its reference: this many alternated pairs (bench_trigger_import)
TX_ROWS = 8000  # rows per transaction of the raw and plain-SQL peers: the importer's SQLite batch (checked in main)
PAGE_CACHE_KB = 65536  # the raw peer's explicit page cache


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                   if x.startswith("MemTotal")) / 1024 / 1024
    except OSError:
        mem = 0
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} CPU ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, load average at start {load:.1f}")


def app_for(db: str):
    from huifang.core.config import Config
    from huifang.projections import open_app

    return open_app(db, Config())


def make_files(d: Path, n: int) -> tuple[Path, Path]:
    subjects, triggers = d / "subjects.csv", d / "discharges.csv"
    with subjects.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "phone"])
        for i in range(n):
            w.writerow([f"P{i}", "王伟", f"138{i:08d}"])
    with triggers.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "subject", "at", "department", "diagnosis", "responsible_nurse", "attending_doctor"])
        for i in range(n):  # every discharge on one day, imported later: every window opens at the import (NOW)
            w.writerow([f"D{i}", f"P{i}", "2026-10-01 09:00", "心内科", "高血压", f"n{i % NURSES}", "王医生"])
    return subjects, triggers


class Clock:
    """CPU time of this process and wall time of one measured stretch (summed over stretches)."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0

    def __enter__(self) -> Clock:
        self._c, self._w = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu += time.process_time() - self._c
        self.wall += time.perf_counter() - self._w


def median_of(runs: list[dict]) -> dict:
    """Per key, the median over the runs (cpu and wall separately)."""
    return {k: statistics.median(r[k] for r in runs) if isinstance(runs[0][k], (int, float)) else runs[0][k]
            for k in runs[0]}


def ratio(work: float, peer: float) -> float:
    """How fast the engine is next to its peer for the same rows: peer time ÷ engine time."""
    return peer / work if work else float("nan")


def copy_store(src: str, dst: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(src + suffix).exists():
            shutil.copyfile(src + suffix, dst + suffix)


def audit_ok(db: str, what: str) -> None:
    """`huifang audit verify` on a store a benchmark wrote: a failure stops the run."""
    from huifang.core.audit.verify import summary, verify

    app = app_for(db)
    try:
        report = verify(app)
    finally:
        app.close()
    if not report["ok"]:
        raise SystemExit(f"audit verify failed after {what} ({db}):\n{summary(report)}")


# -- subject import -------------------------------------------------------------------------------
def bench_subject_import(d: Path, subjects: Path, n: int) -> tuple[str, dict]:
    """REPEAT fresh stores; returns the first store (staff and subjects in it) and the median."""
    from huifang.core import clock
    from huifang.core.importer import ColumnMap, Importer

    runs, first = [], ""
    for rep in range(REPEAT):
        db = str(d / f"subjects{rep}.db")
        app = app_for(db)
        with clock.at(clock.parse_instant(NOW)):
            app.projector.ensure()
            for i in range(NURSES):
                app.add_staff(f"n{i}", f"护士{i}", "agent")
            events, c = timed_import(app, Importer(app, "subject", str(subjects), ColumnMap()), n)
        app.close()
        audit_ok(db, "subject import")
        runs.append({"rows": n, "events": events, "cpu": c.cpu, "wall": c.wall})
        first = first or db
    drop_repeats(d, "subjects")
    return first, median_of(runs)


def timed_import(app: Any, importer: Any, n: int) -> tuple[int, Clock]:
    """Run one import under the clock: the events it wrote and its CPU/wall time."""
    before = app.recorder.max_notification_id()
    with Clock() as c:
        report = importer.run()
    assert report["imported"] == n, report
    return app.recorder.max_notification_id() - before, c


def drop_repeats(d: Path, stem: str) -> None:
    """Delete the repeat runs' stores (the first is kept for the later benchmarks)."""
    for rep in range(1, REPEAT):
        for suffix in ("", "-wal", "-shm"):
            Path(str(d / f"{stem}{rep}.db") + suffix).unlink(missing_ok=True)


def bench_raw_insert(db: str, topics: tuple[str, ...]) -> dict:
    """The machine's limit for the same stored rows: sqlite3 executemany into the same table shape
    (PRIMARY KEY (originator_id, originator_version) = the store's unique index), WAL, synchronous
    NORMAL (as the importer commits its batches), an explicit page cache, TX_ROWS rows a
    transaction. The rows are read from the store a batch at a time; only the inserts are timed."""
    runs = []
    marks = ",".join("?" * len(topics))
    for _ in range(REPEAT):
        src = sqlite3.connect(db)
        cur = src.execute(f"SELECT originator_id, originator_version, topic, state FROM stored_events "
                          f"WHERE topic IN ({marks}) ORDER BY rowid", topics)
        dst_path = db + ".raw"
        for suffix in ("", "-wal", "-shm"):
            Path(dst_path + suffix).unlink(missing_ok=True)
        dst = sqlite3.connect(dst_path, isolation_level=None)
        dst.execute("PRAGMA journal_mode=WAL")
        dst.execute("PRAGMA synchronous=NORMAL")
        dst.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KB}")
        dst.execute("CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, "
                    "state BLOB, PRIMARY KEY (originator_id, originator_version))")
        c, n = Clock(), 0
        while True:
            rows = cur.fetchmany(TX_ROWS)
            if not rows:
                break
            with c:
                dst.execute("BEGIN")
                dst.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", rows)
                dst.execute("COMMIT")
            n += len(rows)
        src.close()
        dst.close()
        for suffix in ("", "-wal", "-shm"):
            Path(dst_path + suffix).unlink(missing_ok=True)
        runs.append({"rows": n, "cpu": c.cpu, "wall": c.wall})
    return median_of(runs)


# -- trigger import and its plain-SQL peer --------------------------------------------------------------
def bench_trigger_import(d: Path, template: str, triggers: Path, n: int) -> tuple[str, dict, dict]:
    """PAIRS imports, each into a copy of the store with the staff and subjects and each followed by the
    plain-SQL reference on the same file: alternated, the two meet the same machine minute by minute
    (this machine's speed drifts by a quarter between minutes). Returns the first store, the import's
    medians with `paired_cpu`/`paired_wall` (the median of each pair's reference ÷ import, the figure
    quoted), and the reference's medians."""
    from huifang.core import clock
    from huifang.core.importer import ColumnMap, Importer

    runs, refs, first = [], [], ""
    for rep in range(PAIRS):
        db = str(d / f"bench{rep}.db")
        copy_store(template, db)
        app = app_for(db)
        with clock.at(clock.parse_instant(NOW)):
            events, c = timed_import(
                app, Importer(app, "trigger", str(triggers), ColumnMap(), kind="medical.discharge"), n)
        app.close()
        audit_ok(db, "trigger import")
        runs.append({"triggers": n, "events": events, "cpu": c.cpu, "wall": c.wall})
        refs.append(one_reference(d, triggers))
        first = first or db
        if rep:
            for suffix in ("", "-wal", "-shm"):
                Path(db + suffix).unlink(missing_ok=True)
    out = median_of(runs)
    out["paired_cpu"] = statistics.median(ref["cpu"] / run["cpu"] for ref, run in zip(refs, runs, strict=True))
    out["paired_wall"] = statistics.median(ref["wall"] / run["wall"] for ref, run in zip(refs, runs, strict=True))
    return first, out, median_of(refs)


def reference_import(path: Path, db: str) -> int:
    """What a user could write instead: read the CSV, validate each row with the kind's model, plan it
    with the same plugin rules and the engine's Scheduler (made once), and write the follow-ups to one
    plain table with the queue's index, TX_ROWS rows a transaction. Returns the follow-ups written."""
    from huifang.core import clock
    from huifang.core.plugin_api import PlannedVisit, TriggerInfo, testing
    from huifang.core.plugin_api.views import ts
    from huifang.plugins.medical import plugin

    tz = "Asia/Shanghai"
    settings = testing.settings_of(plugin)
    scheduler = testing.scheduler(settings, tz)
    spec = testing.kinds_of(plugin)["discharge"]
    history = testing.FakeHistory()
    zone = clock.zone(tz)
    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # as the importer commits its batches
    conn.execute("CREATE TABLE followups (code TEXT PRIMARY KEY, subject TEXT NOT NULL, trigger TEXT NOT NULL, "
                 "visit_type TEXT NOT NULL, owner TEXT, status TEXT NOT NULL, window_open TEXT NOT NULL, "
                 "due TEXT NOT NULL, channel TEXT, department TEXT)")
    conn.execute("CREATE INDEX ix_followups_owner_due ON followups (owner, due, code, status, window_open)")
    insert = "INSERT INTO followups VALUES (?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?)"
    written, batch = 0, []

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany(insert, batch)
        conn.execute("COMMIT")
        batch.clear()

    with path.open(newline="", encoding="utf-8") as f, clock.at(clock.parse_instant(NOW)):
        reader = csv.reader(f)
        header = next(reader)
        for row in reader:
            rec = dict(zip(header, row, strict=True))
            attrs = {k: v for k, v in rec.items() if k not in ("id", "subject", "at")}
            at = datetime.strptime(rec["at"], "%Y-%m-%d %H:%M").replace(tzinfo=zone)
            info = TriggerInfo(id=rec["id"], kind="medical.discharge", plugin=plugin.name, subject=rec["subject"],
                               at=at, attributes=spec.attributes.model_validate(attrs).model_dump(mode="json"))
            items = plugin.huifang_plan(trigger=info, subject=testing.subject(rec["subject"], tz), settings=settings,
                                        scheduler=scheduler, history=history) or []
            for v in items:
                if isinstance(v, PlannedVisit):
                    batch.append((f"{info.id}-{v.key}", info.subject, info.id, v.visit_type, v.owner,
                                  ts(v.window_open), ts(v.due), v.channel, v.department))
                    written += 1
            if len(batch) >= TX_ROWS:
                flush()
    if batch:
        flush()
    conn.close()
    return written


def one_reference(d: Path, triggers: Path) -> dict:
    db = str(d / "reference.db")
    with Clock() as c:
        written = reference_import(triggers, db)
    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    return {"followups": written, "cpu": c.cpu, "wall": c.wall}


# -- rebuild and its decode peer (each in its own process: own peak memory) ----------------------------
def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not getrusage's ru_maxrss: on Linux that keeps the
    high-water mark across fork+exec, so a spawned child would report its parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rebuild_child(db: str, q) -> None:
    from huifang.core import clock

    app = app_for(db)
    with clock.at(clock.parse_instant(NOW)):
        app.projector.ensure()
        with Clock() as c:
            n = app.projector.rebuild()
    app.close()
    q.put({"events": n, "cpu": c.cpu, "wall": c.wall, "peak_rss_mb": peak_rss_mb()})


def _import_child(template: str, triggers: str, db: str, n: int, q) -> None:
    """One trigger import into a copy of the store in its own process: its peak memory (not timed for
    the ratio: the alternated pairs are)."""
    from huifang.core import clock
    from huifang.core.importer import ColumnMap, Importer

    copy_store(template, db)
    app = app_for(db)
    with clock.at(clock.parse_instant(NOW)):
        events, c = timed_import(app, Importer(app, "trigger", triggers, ColumnMap(), kind="medical.discharge"), n)
    app.close()
    q.put({"events": events, "cpu": c.cpu, "wall": c.wall, "peak_rss_mb": peak_rss_mb()})


def bench_import_memory(d: Path, template: str, triggers: Path, n: int) -> dict:
    db = str(d / "memory.db")
    out = in_child(_import_child, template, str(triggers), db, n)
    audit_ok(db, "trigger import (memory)")
    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    return out


def _decode_child(db: str, q) -> None:
    """Read the whole log and decode every event with eventsourcing's default JSONTranscoder and its
    default transcodings, built here (pinned: whatever the app's mapper uses)."""
    from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper, UUIDAsHex

    app = app_for(db)
    transcoder = JSONTranscoder()
    for t in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(t)
    mapper = Mapper(transcoder=transcoder)
    with Clock() as c:
        n, start = 0, 1
        while True:
            notes = app.recorder.select_notifications(start=start, limit=1000)
            if not notes:
                break
            for x in notes:
                mapper.to_domain_event(x)
            n += len(notes)
            start = notes[-1].id + 1
    app.close()
    q.put({"events": n, "cpu": c.cpu, "wall": c.wall, "peak_rss_mb": peak_rss_mb()})


def in_child(fn, *args) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=fn, args=(*args, q))
    p.start()
    r = q.get()
    p.join()
    return r


def bench_rebuild(db: str) -> tuple[dict, dict]:
    """Interleaved (rebuild, decode, rebuild, ...): a change of the machine's load hits both alike."""
    rebuilds, decodes = [], []
    for _ in range(REPEAT):
        rebuilds.append(in_child(_rebuild_child, db))
        decodes.append(in_child(_decode_child, db))
    return median_of(rebuilds), median_of(decodes)


# -- reads ---------------------------------------------------------------------------------------------
def bench_queue(db: str, calls: int = 300) -> dict:
    """`queue` for one agent in process vs the same SQL (projections/queue_fast.queue_query) through
    plain sqlite3, CPU per call; median of REPEAT rounds; plus the p50/p99 wall of the engine's."""
    from huifang.core import clock, queries
    from huifang.core.queue_rows import queue_until
    from huifang.projections.queue_fast import queue_query

    at = clock.parse_instant(LATER)
    app = app_for(db)
    plain = sqlite3.connect(db)
    rounds, samples, rows = [], [], 0
    with clock.at(at):
        app.projector.catch_up()
        tz = clock.zone(app.config.huifang.timezone)
        rows = len(queries.queue(app, "n1"))
        for _ in range(REPEAT):
            with Clock() as engine:
                for i in range(calls):
                    t = time.perf_counter()
                    queries.queue(app, f"n{i % NURSES}")
                    samples.append((time.perf_counter() - t) * 1000)
            with Clock() as base:
                for i in range(calls):
                    sql, params = queue_query(queue_until(at, tz), f"n{i % NURSES}", None, queries.QUEUE_LIMIT)
                    plain.execute(sql, params).fetchall()
            rounds.append({"cpu": engine.cpu / calls, "wall": engine.wall / calls,
                           "plain_cpu": base.cpu / calls, "plain_wall": base.wall / calls})
    plain.close()
    app.close()
    samples.sort()
    out = median_of(rounds)
    out.update(rows=rows, p50_ms=samples[len(samples) // 2], p99_ms=samples[int(len(samples) * 0.99) - 1])
    return out


def bench_cli(db: str) -> dict:
    cli = [sys.executable, "-c", "import sys; from huifang.cli.main import main; main(sys.argv[1:])"]

    def run(args):
        t = time.perf_counter()
        subprocess.run(cli + args, capture_output=True, check=True)
        return time.perf_counter() - t

    version = statistics.median(run(["--version"]) for _ in range(5))
    queue = statistics.median(run(["--db", db, "--now", "2026-10-21T11:00+08:00", "queue", "--agent", "n1", "--json"])
                              for _ in range(5))
    return {"version_s": version, "queue_s": queue, "queue_ratio": queue / version}


def bench_tick(db: str) -> dict:
    from huifang.core import clock
    from huifang.core.timers import tick

    app = app_for(db)
    with clock.at(clock.parse_instant(LATER)):
        app.projector.catch_up()
        before = app.recorder.max_notification_id()
        with Clock() as c:
            r = tick(app)
    events = app.recorder.max_notification_id() - before
    app.close()
    audit_ok(db, "tick")
    return {"opened": r["opened"], "events": events, "cpu": c.cpu, "wall": c.wall}


# -- PostgreSQL writers ----------------------------------------------------------------------------------
def _pg_writer(url: str, wid: int, n: int, barrier, q) -> None:
    from huifang.core import clock

    app = app_for(url)
    with clock.at(clock.parse_instant(NOW)):
        barrier.wait()
        t0 = time.perf_counter()
        for i in range(n):
            app.add_subject(f"W{wid}-{i}", "王伟", ["13800138000"])
        q.put(time.perf_counter() - t0)
    app.close()


def _race(urls: list[str], per_writer: int) -> float:
    """One writer process per entry of urls (repeats allowed), started together; the slowest's seconds."""
    ctx = mp.get_context("spawn")
    barrier, q = ctx.Barrier(len(urls)), ctx.Queue()
    procs = [ctx.Process(target=_pg_writer, args=(url, w, per_writer, barrier, q)) for w, url in enumerate(urls)]
    for p in procs:
        p.start()
    times: list[float] = []
    while len(times) < len(procs):
        try:
            times.append(q.get(timeout=5))
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):  # a writer died: fail, do not wait forever
                for p in procs:
                    p.kill()
                raise SystemExit("a PostgreSQL writer failed (its traceback is above)") from None
    for p in procs:
        p.join()
    return max(times)


def _pg_store(url: str) -> None:
    """Tables, both keys and a first sealed block made once, before the writers start: on a store with no
    seal mark yet, a writer that reads "no mark" and then sees another writer's first block fails closed
    into enforced mode (G8) and refuses `cli`; one command first gives the writers a mark to read."""
    from huifang.core import clock
    from huifang.core.audit import ensure_keys

    app = app_for(url)
    try:
        ensure_keys(app)
        with clock.at(clock.parse_instant(NOW)):
            app.add_subject("SETUP", "王伟", ["13800138000"])
    finally:
        app.close()


def bench_pg(base_url: str, per_writer: int) -> list[dict]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.pg_support import drop_schema, fresh_schema_url

    out = []
    for writers in (1, 2, 4):
        url = fresh_schema_url(base_url)
        try:
            _pg_store(url)
            seconds = _race([url] * writers, per_writer)
            total = writers * per_writer
            audit_ok(url, f"{writers} PostgreSQL writers")
            out.append({"writers": writers, "commands": total, "seconds": seconds,
                        "commands_per_s": total / seconds})
        finally:
            drop_schema(url)
    return out


PG_SCHEMA_WRITERS = 4  # writer processes in the per-organisation schema comparison


def bench_pg_schemas(base_url: str, per_writer: int) -> list[dict]:
    """The same 4 writers in 1, 2 (2+2) and 4 (1 each) schemas: each schema has its own tables, so its
    own table lock, as one organisation per `?schema=` would."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.pg_support import drop_schema, fresh_schema_url

    out = []
    for schemas in (1, 2, 4):
        urls: list[str] = []
        try:
            for _ in range(schemas):
                urls.append(fresh_schema_url(base_url))
                _pg_store(urls[-1])
            seconds = _race([urls[w % schemas] for w in range(PG_SCHEMA_WRITERS)], per_writer)
            for url in urls:
                audit_ok(url, f"{PG_SCHEMA_WRITERS} PostgreSQL writers over {schemas} schema(s)")
            total = PG_SCHEMA_WRITERS * per_writer
            out.append({"schemas": schemas, "writers": PG_SCHEMA_WRITERS, "commands": total, "seconds": seconds,
                        "commands_per_s": total / seconds})
        finally:
            for url in urls:
                drop_schema(url)
    return out


# -- the run -----------------------------------------------------------------------------------------------
def bench_size(n: int) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"huifang-bench-{n}-") as tmp:
        d = Path(tmp)
        subjects, triggers = make_files(d, n)
        r: dict = {}
        template, r["subject_import"] = bench_subject_import(d, subjects, n)
        r["subject_raw"] = bench_raw_insert(template, ("huifang:Subject.Registered",))
        db, r["trigger_import"], r["reference"] = bench_trigger_import(d, template, triggers, n)
        r["trigger_raw"] = bench_raw_insert(db, ("huifang:Trigger.Received", "huifang:FollowUp.Planned"))
        r["import_memory"] = bench_import_memory(d, template, triggers, n)
        r["rebuild"], r["decode"] = bench_rebuild(db)
        audit_ok(db, "rebuild")
        r["tick"] = bench_tick(db)
        r["queue"] = bench_queue(db)
        r["cli"] = bench_cli(db)
        report(n, r)
        return r


def both(work: dict, peer: dict, wcpu: str = "cpu", pcpu: str = "cpu", wwall: str = "wall", pwall: str = "wall",
         per: tuple[float, float] = (1.0, 1.0)) -> str:
    """'x.xx CPU, y.yy wall' for engine ÷ peer in rate terms (per: work units of engine, of peer)."""
    cpu = ratio(work[wcpu] / per[0], peer[pcpu] / per[1])
    wall = ratio(work[wwall] / per[0], peer[pwall] / per[1])
    return f"{cpu:.3f} CPU, {wall:.3f} wall"


def report(n: int, r: dict) -> None:
    si, sr, ti, ref, tr = r["subject_import"], r["subject_raw"], r["trigger_import"], r["reference"], r["trigger_raw"]
    rb, dc, t, q, c = r["rebuild"], r["decode"], r["tick"], r["queue"], r["cli"]
    print(f"\n== {n} rows (CPU and wall: median of {REPEAT}) ==", flush=True)
    print(f"subject import   {n / si['cpu']:.0f} subjects/s CPU ({n / si['wall']:.0f} wall), {si['events']} events; "
          f"÷ raw sqlite3 insert of the same {sr['rows']} rows (page cache {PAGE_CACHE_KB // 1024} MB): "
          f"{both(si, sr, per=(si['events'], sr['rows']))}")
    print(f"trigger import   {n / ti['cpu']:.0f} triggers/s CPU ({n / ti['wall']:.0f} wall), {ti['events']} events; "
          f"÷ plain-SQL reference import ({n / ref['cpu']:.0f} triggers/s CPU), median of {PAIRS} alternated pairs: "
          f"{ti['paired_cpu']:.3f} CPU, {ti['paired_wall']:.3f} wall (target >= 0.3 at 100k; ratio of the medians "
          f"{both(ti, ref)}); "
          f"÷ raw sqlite3 insert of its {tr['rows']} rows: {both(ti, tr, per=(ti['events'], tr['rows']))}; "
          f"peak {r['import_memory']['peak_rss_mb']:.0f} MB (one import in its own process; target: flat, "
          f"<= 300 MB at 1M)")
    print(f"rebuild          {rb['events'] / rb['cpu']:.0f} events/s CPU ({rb['events'] / rb['wall']:.0f} wall), peak "
          f"{rb['peak_rss_mb']:.0f} MB; ÷ eventsourcing read+decode, default JSONTranscoder "
          f"({dc['events'] / dc['cpu']:.0f} events/s CPU, peak {dc['peak_rss_mb']:.0f} MB): "
          f"{both(rb, dc, per=(rb['events'], dc['events']))} (target >= 0.5 at 100k)")
    print(f"queue            {q['rows']} rows, {q['cpu'] * 1000:.3f} ms CPU per call in process, plain sqlite3 "
          f"{q['plain_cpu'] * 1000:.3f} ms: engine ÷ plain {q['cpu'] / q['plain_cpu']:.1f}x CPU, "
          f"{q['wall'] / q['plain_wall']:.1f}x wall (target <= 3x); p50 {q['p50_ms']:.2f} ms, p99 {q['p99_ms']:.2f} ms")
    print(f"tick             {t['opened']} windows opened, {t['events']} events, {t['events'] / t['cpu']:.0f} events/s "
          f"CPU = {(t['events'] / t['cpu']) / (ti['events'] / ti['cpu']):.2f}x the trigger import's")
    print(f"cli              --version {c['version_s']:.2f} s; queue {c['queue_s']:.2f} s ({c['queue_ratio']:.2f}x)",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated row counts (default 10000,100000)")
    ap.add_argument("--big", action="store_true", help="also 1,000,000 rows (hours; run it on a quiet machine)")
    ap.add_argument("--pg", default=None, help="PostgreSQL URL for the writer figures (none: skipped)")
    ap.add_argument("--pg-commands", type=int, default=300, help="commands per PostgreSQL writer")
    ap.add_argument("--json", dest="json_out", default=None, help="also write the figures to this file")
    args = ap.parse_args()
    from huifang.core.importer import default_batch

    batch = default_batch("sqlite")
    assert batch == TX_ROWS, f"TX_ROWS ({TX_ROWS}) must be the importer's SQLite batch ({batch}): like for like"
    os.environ.setdefault("HUIFANG_KEY_DIR", tempfile.mkdtemp(prefix="huifang-bench-keys-"))
    sizes = [int(x) for x in args.sizes.split(",") if x]
    if args.big and 1000000 not in sizes:
        sizes.append(1000000)
    results: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "sizes": {}}
    print(results["machine"], flush=True)
    for n in sizes:
        results["sizes"][n] = bench_size(n)
    if args.pg:
        results["postgres"] = bench_pg(args.pg, args.pg_commands)
        print("\n== PostgreSQL writers (add_subject, one aggregate per command) ==")
        one = results["postgres"][0]["commands_per_s"]
        for w in results["postgres"]:
            print(f"{w['writers']} writer(s): {w['commands_per_s']:.0f} commands/s ({w['commands_per_s'] / one:.2f} x one)")
        results["postgres_schemas"] = bench_pg_schemas(args.pg, args.pg_commands)
        print(f"\n== PostgreSQL schemas ({PG_SCHEMA_WRITERS} writers, add_subject; one schema per organisation) ==")
        one = results["postgres_schemas"][0]["commands_per_s"]
        for w in results["postgres_schemas"]:
            print(f"{w['schemas']} schema(s), {w['writers'] // w['schemas']} writer(s) each: "
                  f"{w['commands_per_s']:.0f} commands/s ({w['commands_per_s'] / one:.2f} x one schema)", flush=True)
        # the served path (1 / 4 / 8 clients, group commit on and off): its own script, its own figures
        print("\n== PostgreSQL, served (benchmarks/served.py) ==", flush=True)
        served = subprocess.run([sys.executable, str(Path(__file__).with_name("served.py")), "--pg", args.pg])
        results["served_rc"] = served.returncode
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
