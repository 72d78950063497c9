"""huifang benchmarks (scale): each figure next to the machine's own limit, measured in the same run.

    python benchmarks/run.py                     # 10k triggers (a few minutes)
    python benchmarks/run.py --sizes 10000,100000,1000000
    python benchmarks/run.py --pg postgresql://huifang:huifang@127.0.0.1:55432/huifang_test

Per size: bulk import (events/s) vs a raw sqlite3 batched insert of the same stored rows (same
synchronous setting, same unique index); projection rebuild (events/s) vs reading and decoding the
same log through eventsourcing's notification log, with the rebuild's peak memory (own process);
`queue` for one agent and `show` in-process p99, and the whole CLI process vs `huifang --version`;
`tick` over a day on which every window opens, vs the import rate. Once: PostgreSQL commands/s with
1, 2 and 4 writer processes (eventsourcing locks the events table on every insert).
No figure here is asserted by a test.
"""
from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NURSES = 50
NOW = "2026-10-20T10:00:00+08:00"


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
        for i in range(n):  # every discharge on one day: their windows all open on 2026-10-08
            w.writerow([f"D{i}", f"P{i}", "2026-10-01 09:00", "心内科", "高血压", f"n{i % NURSES}", "王医生"])
    return subjects, triggers


def timed(fn):
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def bench_import(db: str, subjects: Path, triggers: Path) -> dict:
    from huifang.core import clock
    from huifang.core.importer import ColumnMap, Importer

    app = app_for(db)
    with clock.at(clock.parse_instant(NOW)):
        app.projector.ensure()
        for i in range(NURSES):
            app.add_staff(f"n{i}", f"护士{i}", "agent")
        Importer(app, "subject", str(subjects), ColumnMap()).run()
        before = app.recorder.max_notification_id()
        t0 = time.perf_counter()
        report = Importer(app, "trigger", str(triggers), ColumnMap(), kind="medical.discharge").run()
        secs = time.perf_counter() - t0
    events = app.recorder.max_notification_id() - before
    app.close()
    return {"triggers": report["imported"], "events": events, "seconds": secs, "events_per_s": events / secs}


def bench_raw_insert(db: str, batch_rows: int) -> dict:
    """The machine's limit for the same rows: sqlite3 executemany into the same table shape
    (PRIMARY KEY (originator_id, originator_version) = the same unique index), WAL, default
    synchronous (FULL, as eventsourcing leaves it), one transaction per batch. The rows are read
    from the store a batch at a time (only the inserts are timed), so this process never holds the
    whole log (its memory is inherited by the measuring child processes' peak RSS otherwise)."""
    src = sqlite3.connect(db)
    cur = src.execute("SELECT originator_id, originator_version, topic, state FROM stored_events "
                      "WHERE topic IN ('huifang:Trigger.Received','huifang:FollowUp.Planned') ORDER BY rowid")
    dst_path = db + ".raw"
    for suffix in ("", "-wal", "-shm"):
        Path(dst_path + suffix).unlink(missing_ok=True)
    dst = sqlite3.connect(dst_path, isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, "
                "state BLOB, PRIMARY KEY (originator_id, originator_version))")
    secs, n = 0.0, 0
    while True:
        rows = cur.fetchmany(batch_rows)
        if not rows:
            break
        t0 = time.perf_counter()
        dst.execute("BEGIN")
        dst.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", rows)
        dst.execute("COMMIT")
        secs += time.perf_counter() - t0
        n += len(rows)
    src.close()
    dst.close()
    for suffix in ("", "-wal", "-shm"):
        Path(dst_path + suffix).unlink(missing_ok=True)
    return {"rows": n, "seconds": secs, "rows_per_s": n / secs}


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
        t0 = time.perf_counter()
        n = app.projector.rebuild()
        secs = time.perf_counter() - t0
    q.put({"events": n, "seconds": secs, "peak_rss_mb": peak_rss_mb()})


def _decode_child(db: str, q) -> None:
    app = app_for(db)
    t0 = time.perf_counter()
    n, start = 0, 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=1000)
        if not notes:
            break
        for x in notes:
            app.mapper.to_domain_event(x)
        n += len(notes)
        start = notes[-1].id + 1
    secs = time.perf_counter() - t0
    q.put({"events": n, "seconds": secs, "peak_rss_mb": peak_rss_mb()})


def in_child(fn, *args) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=fn, args=(*args, q))
    p.start()
    r = q.get()
    p.join()
    return r


def bench_reads(db: str) -> dict:
    from huifang.core import clock, queries
    from huifang.core.domain import FollowUp

    app = app_for(db)
    out = {}
    with clock.at(clock.parse_instant("2026-10-08T12:00:00+08:00")):
        app.projector.catch_up()
        for name, fn in (("queue", lambda i: queries.queue(app, f"n{i % NURSES}")),
                         ("show", lambda i: queries.followup_json(app, app.load(FollowUp, f"D{i * 7919 % 1000}-1",
                                                                                  "follow-up")))):
            fn(0)
            samples = []
            for i in range(300):
                t = time.perf_counter()
                fn(i)
                samples.append((time.perf_counter() - t) * 1000)
            samples.sort()
            out[name] = {"p50_ms": samples[len(samples) // 2], "p99_ms": samples[int(len(samples) * 0.99) - 1],
                         "rows": len(fn(1)) if name == "queue" else 1}
    app.close()
    cli = [sys.executable, "-c", "import sys; from huifang.cli.main import main; main(sys.argv[1:])"]

    def run(args):
        t = time.perf_counter()
        subprocess.run(cli + args, capture_output=True, check=True)
        return time.perf_counter() - t

    version = statistics.median(run(["--version"]) for _ in range(5))
    queue = statistics.median(run(["--db", db, "--now", "2026-10-08T12:00+08:00", "queue", "--agent", "n1", "--json"])
                              for _ in range(5))
    show = statistics.median(run(["--db", db, "--now", "2026-10-08T12:00+08:00", "show", "D1-1", "--json"])
                             for _ in range(5))
    out["cli"] = {"version_s": version, "queue_s": queue, "show_s": show, "queue_ratio": queue / version,
                  "show_ratio": show / version}
    return out


def bench_tick(db: str) -> dict:
    from huifang.core import clock
    from huifang.core.timers import tick

    app = app_for(db)
    with clock.at(clock.parse_instant("2026-10-08T12:00:00+08:00")):
        app.projector.catch_up()
        before = app.recorder.max_notification_id()
        secs, r = timed(lambda: tick(app))
    events = app.recorder.max_notification_id() - before
    app.close()
    return {"opened": r["opened"], "events": events, "seconds": secs, "events_per_s": events / secs}


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


def bench_pg(base_url: str, per_writer: int) -> list[dict]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.pg_support import drop_schema, fresh_schema_url

    out = []
    for writers in (1, 2, 4):
        url = fresh_schema_url(base_url)
        try:
            app_for(url).close()  # tables created once, before the writers start
            ctx = mp.get_context("spawn")
            barrier, q = ctx.Barrier(writers), ctx.Queue()
            procs = [ctx.Process(target=_pg_writer, args=(url, w, per_writer, barrier, q)) for w in range(writers)]
            for p in procs:
                p.start()
            times = [q.get() for _ in procs]
            for p in procs:
                p.join()
            total = writers * per_writer
            out.append({"writers": writers, "commands": total, "seconds": max(times),
                        "commands_per_s": total / max(times)})
        finally:
            drop_schema(url)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000", help="comma-separated trigger counts (default 10000)")
    ap.add_argument("--pg", default=os.environ.get("HUIFANG_TEST_PG"), help="PostgreSQL URL for the writer figures")
    ap.add_argument("--pg-commands", type=int, default=300, help="commands per PostgreSQL writer")
    ap.add_argument("--json", dest="json_out", default=None, help="also write the figures to this file")
    args = ap.parse_args()
    os.environ.setdefault("HUIFANG_KEY_DIR", tempfile.mkdtemp(prefix="huifang-bench-keys-"))
    results: dict = {"machine": machine(), "sizes": {}}
    print(results["machine"], flush=True)
    for n in [int(x) for x in args.sizes.split(",") if x]:
        with tempfile.TemporaryDirectory(prefix=f"huifang-bench-{n}-") as d:
            db = str(Path(d) / "bench.db")
            subjects, triggers = make_files(Path(d), n)
            r: dict = {}
            r["import"] = bench_import(db, subjects, triggers)
            r["raw_insert"] = bench_raw_insert(db, 1000)
            r["import_ratio"] = r["import"]["events_per_s"] / r["raw_insert"]["rows_per_s"]
            r["rebuild"] = in_child(_rebuild_child, db)
            r["decode"] = in_child(_decode_child, db)
            r["rebuild"]["events_per_s"] = r["rebuild"]["events"] / r["rebuild"]["seconds"]
            r["decode"]["events_per_s"] = r["decode"]["events"] / r["decode"]["seconds"]
            r["rebuild_ratio"] = r["rebuild"]["events_per_s"] / r["decode"]["events_per_s"]
            r["tick"] = bench_tick(db)
            r["tick_vs_import"] = r["tick"]["events_per_s"] / r["import"]["events_per_s"]
            r["reads"] = bench_reads(db)
            results["sizes"][n] = r
            i, raw, rb, dc, t, rd = r["import"], r["raw_insert"], r["rebuild"], r["decode"], r["tick"], r["reads"]
            print(f"\n== {n} triggers ==", flush=True)
            print(f"import   {i['events']} events in {i['seconds']:.1f} s = {i['events_per_s']:.0f} ev/s; raw sqlite3 "
                  f"{raw['rows_per_s']:.0f} rows/s; ratio {r['import_ratio']:.3f} (target >= 0.35)")
            print(f"rebuild  {rb['events']} events in {rb['seconds']:.1f} s = {rb['events_per_s']:.0f} ev/s, peak "
                  f"{rb['peak_rss_mb']:.0f} MB; read+decode {dc['events_per_s']:.0f} ev/s (peak {dc['peak_rss_mb']:.0f} "
                  f"MB); ratio {r['rebuild_ratio']:.2f} (target >= 0.5)")
            print(f"tick     {t['opened']} windows opened, {t['events']} events in {t['seconds']:.1f} s = "
                  f"{t['events_per_s']:.0f} ev/s = {r['tick_vs_import']:.2f} x import")
            print(f"queue    p50 {rd['queue']['p50_ms']:.2f} ms, p99 {rd['queue']['p99_ms']:.2f} ms "
                  f"({rd['queue']['rows']} rows); show p50 {rd['show']['p50_ms']:.2f} ms, p99 {rd['show']['p99_ms']:.2f} "
                  f"ms (target p99 <= 5 ms)")
            c = rd["cli"]
            print(f"cli      --version {c['version_s']:.2f} s; queue {c['queue_s']:.2f} s ({c['queue_ratio']:.2f} x); "
                  f"show {c['show_s']:.2f} s ({c['show_ratio']:.2f} x) (target <= 2 x)", flush=True)
    if args.pg:
        results["postgres"] = bench_pg(args.pg, args.pg_commands)
        print("\n== PostgreSQL writers (add_subject, one aggregate per command) ==")
        one = results["postgres"][0]["commands_per_s"]
        for w in results["postgres"]:
            print(f"{w['writers']} writer(s): {w['commands_per_s']:.0f} commands/s ({w['commands_per_s'] / one:.2f} x one)")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
