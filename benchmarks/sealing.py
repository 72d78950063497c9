"""Cost of tamper evidence (G8, G10): append rate with the hash chain and seals on vs off.

    python benchmarks/sealing.py [--events 3000] [--batch 1 100] [--db postgresql://…]

Appends the same events to a fresh store three ways, measured in the same run on this machine:
  off      eventsourcing's insert alone (chaining switched off on the recorder)
  chained  + one hash per record and one chain block per transaction, no seal key
  sealed   + the HMAC seal of every block (what huifang does)
once with one event per transaction (an operator's command) and once with batches (bulk import),
each --repeat times interleaved (best shown). Prints events/s and the ratio to `off`. No timing assertions anywhere; this is a measurement.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


CREATED: list[str] = []


def fresh(base: str | None, tmp: str, name: str) -> str:
    """A new empty store for one run: a SQLite file, or a new schema on the PostgreSQL server."""
    if not base:
        return str(Path(tmp) / f"{name}.db")
    import psycopg

    schema = f"bench_{name}_{os.getpid()}"
    with psycopg.connect(base.split("?")[0], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    CREATED.append(schema)
    return f"{base.split('?')[0]}?schema={schema}"


def run(db: str, mode: str, events: int, batch: int) -> float:
    from huifang.core import clock
    from huifang.core.domain import Staff
    from huifang.projections import open_app

    app = open_app(db)
    try:
        if mode == "off":
            app.recorder.chaining = False
        elif mode == "chained":
            app.recorder.seal_key_source = lambda create: None
        with clock.at(clock.parse_instant("2026-11-23T09:00+08:00")):
            objs = [Staff(code=f"{mode}-{batch}-{i}", name=f"staff {i}", role="agent", dept="bench", reports_to=None,
                          actor="bench") for i in range(events)]
            t0 = time.perf_counter()
            for i in range(0, events, batch):
                app.save(*objs[i:i + batch])
            return events / (time.perf_counter() - t0)
    finally:
        app.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--batch", type=int, nargs="*", default=[1, 100])
    ap.add_argument("--repeat", type=int, default=3, help="runs per mode, interleaved; the best is shown")
    ap.add_argument("--db", default=None, help="postgresql://… (default: a fresh SQLite file)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("HUIFANG_KEY_DIR", str(Path(tmp) / "keys"))
        print(f"store: {'PostgreSQL' if args.db else 'SQLite'}, {args.events} events per run")
        print(f"{'events/transaction':>18}  {'off':>10}  {'chained':>10}  {'sealed':>10}  {'sealed/off':>10}")
        for batch in args.batch:
            rates = {"off": 0.0, "chained": 0.0, "sealed": 0.0}
            for n in range(args.repeat):  # interleaved, best of N: other load on the machine hits every mode
                for m in rates:
                    rates[m] = max(rates[m], run(fresh(args.db, tmp, f"{m}_{batch}_{n}"), m, args.events, batch))
            print(f"{batch:>18}  {rates['off']:>10.0f}  {rates['chained']:>10.0f}  {rates['sealed']:>10.0f}  "
                  f"{rates['sealed'] / rates['off']:>10.2f}")
    if args.db:
        import psycopg

        with psycopg.connect(args.db.split("?")[0], autocommit=True) as conn:
            for schema in CREATED:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
