"""Served commands per second on PostgreSQL, group commit on vs off (HUIFANG_GROUP_COMMIT=0).

    HUIFANG_TEST_PG=postgresql://huifang:huifang@127.0.0.1:55433/huifang_test python benchmarks/served.py
    python benchmarks/served.py --pg URL --clients 1,4,8 --duration 10 --runs 3

One fresh schema per mode, set up as benchmarks/load.py does (access control on, tokens), and one
`huifang serve` per mode (one worker unless --workers), both up for the whole run. For each client count,
the modes' runs alternate (on, off, on, off, ...; `--runs` of each) so that neither is flattered by the
order (a neighbour's load, a warmer cache). A run: C client threads, each over its own keep-alive
connection, repeatedly add a subject, post a discharge for it, record an attempt and the completion on
its first follow-up (4 commands, each its own request). Printed per mode and client count, the median of
its runs: commands answered 2xx per second (wall), the serving processes' CPU ms per command, commands
per chain block (1.0 without grouping) and commands/s as a ratio of the same mode at the first client
count. Then `huifang audit verify` on each store (exit 1 if it fails or any command was refused).
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # (benchmarks/load.py: the store, the server, the CPU reading)

ROOT = Path(__file__).resolve().parents[1]


class Client(threading.Thread):
    def __init__(self, n: int, run: str, port: int, tokens: dict[str, str], deadline: float):
        super().__init__(daemon=True)
        self.n, self.run_id, self.port, self.tokens, self.deadline = n, run, port, tokens, deadline
        self.agent = f"n{n % load.AGENTS}"
        self.ok = 0
        self.failed: list[str] = []

    def call(self, conn: http.client.HTTPConnection, path: str, body: Any, token: str) -> Any:
        conn.request("POST", path, json.dumps(body).encode(),
                     {"Content-Type": "application/json", "Authorization": f"Bearer {self.tokens[token]}"})
        r = conn.getresponse()
        answer = json.loads(r.read() or b"null")
        if r.status not in (200, 201):
            self.failed.append(f"{path}: {r.status} {answer}")
            return None
        self.ok += 1
        return answer

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=load.REQUEST_TIMEOUT)
        i = 0
        try:
            while time.monotonic() < self.deadline:
                i += 1
                sid = f"B{self.run_id}-{self.n}-{i}"
                if self.call(conn, "/api/v1/subjects", {"id": sid, "name": "王伟"}, "his") is None:
                    continue
                a = self.call(conn, "/api/v1/triggers", {"id": f"T{sid}", "kind": "discharge", "subject": sid,
                                                         "attributes": {**load.ATTRS, "responsible_nurse": self.agent}},
                              "his")
                if a is None or not a["followups"]:
                    continue
                fu = a["followups"][0]["id"]
                if self.call(conn, f"/api/v1/followups/{fu}/attempts", {"channel": "phone", "outcome": "reached"},
                             self.agent) is None:
                    continue
                self.call(conn, f"/api/v1/followups/{fu}/complete", load.ANSWERS, self.agent)
        finally:
            conn.close()


def chain_blocks(db: str) -> tuple[int, int]:
    """(chain blocks, records) in the store."""
    import psycopg

    from tests.pg_support import split_schema

    url, schema = split_schema(db)
    with psycopg.connect(url) as conn:
        blocks = conn.execute(f'SELECT count(*) FROM "{schema}".huifang_chain').fetchone()
        records = conn.execute(f'SELECT count(*) FROM "{schema}".huifang_events').fetchone()
    return int(blocks[0] if blocks else 0), int(records[0] if records else 0)


def measure(db: str, port: int, pid: int, tokens: dict[str, str], clients: int, duration: float,
            run: str) -> dict[str, float]:
    blocks0, _ = chain_blocks(db)
    cpu0 = sum(load.cpu_seconds(pid))
    t0 = time.monotonic()
    threads = [Client(n, run, port, tokens, t0 + duration) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    cpu = sum(load.cpu_seconds(pid)) - cpu0
    blocks1, _ = chain_blocks(db)
    ok = sum(t.ok for t in threads)
    failed = [f for t in threads for f in t.failed]
    if failed:
        print(f"  {len(failed)} refused, e.g. {failed[0][:300]}", file=sys.stderr)
    return {"cmd_s": ok / wall, "cpu_ms": 1000 * cpu / max(ok, 1), "per_block": ok / max(blocks1 - blocks0, 1),
            "failed": float(len(failed))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pg", default=os.environ.get("HUIFANG_TEST_PG"), help="a PostgreSQL server URL (a fresh "
                   "schema is made and dropped per mode)")
    p.add_argument("--clients", default="1,4,8")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per run (at most 20)")
    p.add_argument("--runs", type=int, default=3, help="runs per mode and client count (median)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--modes", default="on,off")
    a = p.parse_args(argv)
    if not a.pg:
        p.error("give --pg URL (or set HUIFANG_TEST_PG)")
    duration = min(a.duration, 20.0)
    counts = [int(c) for c in a.clients.split(",")]
    modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    results: dict[tuple[str, int], dict[str, float]] = {}
    bad = 0
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        served: dict[str, tuple[str, int, int, dict[str, str]]] = {}
        for mode in modes:  # each mode its own store and server, up for the whole run
            db = load.make_store(a.pg, Path(tmp))
            stack.callback(load.drop_store, db)
            tokens = load.setup(db)
            os.environ["HUIFANG_GROUP_COMMIT"] = "0" if mode == "off" else "1"  # the server started next inherits it
            port, pid = stack.enter_context(load.server(db, a.workers, Path(tmp) / f"serve-{mode}.log"))
            served[mode] = (db, port, pid, tokens)
        for c in counts:
            runs: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
            for r in range(a.runs):
                for mode in modes:  # alternating: on, off, on, off, ...
                    db, port, pid, tokens = served[mode]
                    runs[mode].append(measure(db, port, pid, tokens, c, duration, f"{mode}{c}r{r}"))
            for mode in modes:
                results[(mode, c)] = m = {k: statistics.median(x[k] for x in runs[mode]) for k in runs[mode][0]}
                bad += int(sum(x["failed"] for x in runs[mode]))
                base = results.get((mode, counts[0]), m)["cmd_s"] or 1.0
                print(f"group commit {mode:3}  {c} clients: {m['cmd_s']:7.1f} commands/s ({m['cmd_s'] / base:4.2f}x "
                      f"{counts[0]} client{'s' if counts[0] > 1 else ''})  {m['cpu_ms']:6.2f} ms server CPU/command  "
                      f"{m['per_block']:5.2f} commands/block", flush=True)
        for mode in modes:
            verified = load.cli(served[mode][0], "audit", "verify")
            print(f"  audit verify ({mode}): {json.dumps(verified, ensure_ascii=False)[:200]}", flush=True)
    if "on" in modes and "off" in modes:
        for c in counts:
            print(f"{c} clients: on/off = {results[('on', c)]['cmd_s'] / results[('off', c)]['cmd_s']:.2f}x")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
