"""A bounded load test of `huifang serve` on 127.0.0.1: latency, throughput, errors, and then proof that
nothing was lost or written twice.

    python benchmarks/load.py                                   # 50 clients x 120 s, SQLite, one worker
    python benchmarks/load.py --clients 20 --duration 20        # a quick run
    python benchmarks/load.py --pg postgresql://huifang:huifang@127.0.0.1:55432/huifang_test --workers 2

It makes a throwaway store (a temporary SQLite file, or a fresh schema on --pg, dropped afterwards),
sets up access control (an admin, an intake account for the hospital system, ten agents) and API
tokens, starts `huifang serve` on a free port, and runs C client threads for D seconds. Each client,
over its own keep-alive connection, repeatedly: adds a subject, posts a discharge trigger for it,
sometimes re-sends it (same data: 200; changed data: 409 naming the field), sometimes posts one of a
few shared trigger ids every client races on (created once, 200 for the rest), then records an
attempt and the completion on the follow-up as the agent who owns it. Survey-link submissions
(POST /s/{token}) join when the service has them.

Printed: p50/p95/p99 latency per endpoint, requests/s, answers by status. Then, read from the event
log: every trigger id answered 2xx was received exactly once, every completion answered 200 recorded
exactly once (and every attempt), nothing written for a refused request, and `huifang audit verify`
passes. Exit status 1 if any of that fails. Bounded: the clients stop at the deadline, each request
times out after 60 s.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-09-28T10:30:00+08:00"  # a Monday morning, in calling hours: the store runs on the logical clock
AGENTS = 10
SHARED_IDS = 20  # trigger ids every client may post: the same id raced from many connections
ATTRS = {"department": "cardiology", "diagnosis": "CHD", "attending_doctor": "dr1"}
ANSWERS = {"answers": {"recovery": 8, "satisfaction": "满意"}}
SURVEY_FORM = {"recovery": "8", "adherence": "good", "lifestyle": "good", "symptoms": "none", "satisfaction": "满意"}
DISCHARGED_BEFORE = "2026-09-18T09:00:00+08:00"  # the survey links' follow-ups: their window is open at NOW
REQUEST_TIMEOUT = 60.0


# -- the store and the CLI ---------------------------------------------------------------------------------
def cli(db: str, *args: str, actor: str | None = None) -> Any:
    """One `huifang` command, run in this process (the CLI's own entry point: the set-up costs one
    start-up, not one per command); its JSON answer."""
    from huifang.cli.main import main as huifang

    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            huifang(["--db", db, "--now", NOW, *(["--as", actor] if actor else []), *args, "--json"])
        except SystemExit as e:
            code = e.code
    if code:
        raise SystemExit(f"load: `huifang {' '.join(args)}` failed ({code}): {err.getvalue().strip()}")
    return json.loads(out.getvalue()) if out.getvalue().strip() else None


def make_store(pg: str | None, tmp: Path) -> str:
    if pg is None:
        return str(tmp / "load.db")
    sys.path.insert(0, str(ROOT))
    from tests.pg_support import fresh_schema_url

    return fresh_schema_url(pg)


def drop_store(db: str) -> None:
    if db.startswith("postgresql://"):
        from tests.pg_support import drop_schema

        drop_schema(db)


def setup(db: str) -> dict[str, str]:
    """Access control on, the accounts and their tokens: {"his": token, "n0": token, ...}."""
    cli(db, "init", "--clock", "logical")  # --now below: a logical-clock store
    cli(db, "staff", "add", "adm", "--name", "管理员", "--role", "admin")
    cli(db, "staff", "add", "his", "--name", "HIS接口", "--role", "intake", actor="adm")
    for i in range(AGENTS):
        cli(db, "staff", "add", f"n{i}", "--name", f"护士{i}", "--role", "agent", "--dept", "cardiology", actor="adm")
    cli(db, "subject", "add", "SX", "--name", "共享", "--phone", "13800000000", actor="his")
    tokens = {"his": cli(db, "token", "issue", "--staff", "his", "--scope", "write,read", actor="adm")["token"]}
    for i in range(AGENTS):
        tokens[f"n{i}"] = cli(db, "token", "issue", "--staff", f"n{i}", "--scope", "write,read", actor="adm")["token"]
    return tokens


def survey_links(db: str, n: int) -> tuple[list[tuple[str, str]], int, str | None]:
    """n follow-ups whose window is open, each with a survey link sent by SMS (`huifang invite`):
    ([(follow-up, link token)], triggers written, why there are none). Made in this process through the
    use cases (the link reaches only the subject: no command prints it)."""
    import importlib.util

    if n <= 0:
        return [], 0, "--surveys 0"
    if importlib.util.find_spec("huifang.service.survey") is None:
        return [], 0, "the service has no survey links"
    from datetime import timedelta

    from huifang.core import clock
    from huifang.core.config import load_config
    from huifang.core.errors import HuifangError
    from huifang.core.usecases import invites
    from huifang.projections import open_app

    app = open_app(db, load_config(None, None, db))
    out: list[tuple[str, str]] = []
    k = 0
    try:
        with clock.at(clock.parse_instant(NOW), clock.NOW_OPTION):
            for k in range(n):
                agent = f"n{k % AGENTS}"
                app.add_subject(f"V{k}", "李娜", [f"139{k:08d}"], actor="his")
                _, fus, _ = app.receive_trigger("discharge", f"V{k}", {**ATTRS, "responsible_nurse": agent}, f"V{k}",
                                                clock.parse_instant(DISCHARGED_BEFORE), actor="his")
                sent = invites.issue(app, fus[0].code, "sms", timedelta(hours=72), actor=agent)
                out.append((fus[0].code, invites.token(app, sent["id"])))
    except HuifangError as e:  # the links cannot be sent on this tree: the rest of the load still runs
        return [], k + 1, f"`huifang invite` failed: {e.message}"
    finally:
        app.close()
    return out, n, None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(parent: int) -> list[float]:
    """CPU seconds used so far by `parent` and each process it started (uvicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out: dict[int, float] = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid, ppid = int(d.name), int(fields[1])
        if pid == parent or ppid == parent:
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return [out[p] for p in sorted(out, key=lambda p: p != parent)]


@contextlib.contextmanager
def server(db: str, workers: int, log: Path) -> Iterator[tuple[int, int]]:
    port = free_port()
    cmd = [sys.executable, "-c", "import sys; from huifang.cli.main import main; main(sys.argv[1:])",
           "--db", db, "--now", NOW, "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--rate-limit", "100000000"]
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=os.environ.copy())
        try:
            end = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"load: huifang serve exited {proc.returncode}: {log.read_text()[-2000:]}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=2):
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > end:
                        raise SystemExit("load: huifang serve did not answer within 120 s") from None
                    time.sleep(0.2)
            yield port, proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- the clients ---------------------------------------------------------------------------------------------
@dataclass
class Tally:
    """What the clients saw (each client writes its own; merged at the end)."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    triggers_ok: set[str] = field(default_factory=set)  # ids answered 201 or 200
    created: Counter = field(default_factory=Counter)  # id -> times answered 201
    unexpected: list[str] = field(default_factory=list)
    attempts_ok: Counter = field(default_factory=Counter)  # follow-up -> attempts answered 200
    completed_ok: Counter = field(default_factory=Counter)  # follow-up -> completions answered 200
    surveys_ok: int = 0
    uncertain: set[str] = field(default_factory=set)  # trigger ids and follow-ups a failed request may have written

    def merge(self, other: Tally) -> None:
        for k, v in other.latency.items():
            self.latency[k] += v
        for k, c in other.status.items():
            self.status[k].update(c)
        self.triggers_ok |= other.triggers_ok
        self.created.update(other.created)
        self.unexpected += other.unexpected
        self.attempts_ok.update(other.attempts_ok)
        self.completed_ok.update(other.completed_ok)
        self.surveys_ok += other.surveys_ok
        self.uncertain |= other.uncertain


class Client:
    def __init__(self, n: int, port: int, tokens: dict[str, str], deadline: float, repeat: float, seed: int,
                 links: list[tuple[str, str]], lock: threading.Lock):
        self.n, self.port, self.tokens, self.deadline, self.repeat = n, port, tokens, deadline, repeat
        self.links, self.lock = links, lock  # survey links not answered yet, shared by the clients
        self.reconnect = False  # a new connection for every request (else one keep-alive connection)
        self.agent = f"n{n % AGENTS}"
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.conn: http.client.HTTPConnection | None = None

    def call(self, endpoint: str, method: str, path: str, body: Any, token: str | None) -> tuple[int, Any]:
        """A JSON call with the API token `token`; or (token None) the subject's browser: a form, a page."""
        if token is None:
            data = urllib.parse.urlencode(body).encode() if body is not None else None
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        else:
            data = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.tokens[token]}"}
        t0 = time.perf_counter()
        try:  # never re-sent: whether a failed request was written is then unknown (Tally.uncertain)
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
            self.conn.request(method, path, data, headers)
            r = self.conn.getresponse()
            raw = r.read()
            status = r.status
            answer: Any = json.loads(raw) if raw and token is not None else raw.decode("utf-8", "replace")
            if self.reconnect:
                self.conn.close()
                self.conn = None
        except (ConnectionError, http.client.HTTPException, OSError, ValueError) as e:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            status, answer = 0, {"message": f"{type(e).__name__}: {e}"}
        self.tally.latency[endpoint].append(time.perf_counter() - t0)
        self.tally.status[endpoint][status] += 1
        return status, answer

    def expect(self, what: str, status: int, answer: Any, *wanted: int) -> bool:
        if status in wanted:
            return True
        if status == 0 or status >= 500:
            self.tally.uncertain.add(what.rsplit(" ", 1)[-1])
        message = answer.get("message") if isinstance(answer, dict) else answer
        self.tally.unexpected.append(f"{what}: {status} (wanted {'/'.join(map(str, wanted))}): {message}")
        return False

    def trigger(self, tid: str, subject: str, **changed: str) -> tuple[int, Any]:
        body = {"id": tid, "kind": "discharge", "subject": subject,
                "attributes": {**ATTRS, "responsible_nurse": self.agent if subject != "SX" else "n0", **changed}}
        status, answer = self.call("POST /triggers", "POST", "/api/v1/triggers", body, "his")
        if status in (200, 201):
            self.tally.triggers_ok.add(tid)
            if status == 201:
                self.tally.created[tid] += 1
        return status, answer

    def survey(self) -> bool:
        """The subject opens their link and answers (then presses submit once more: refused, 410)."""
        with self.lock:
            if not self.links:
                return False
            fu, link = self.links.pop()
        s, page = self.call("GET /s/{token}", "GET", f"/s/{link}", None, None)
        if not self.expect(f"survey page {fu}", s, page, 200):
            return True
        s, page = self.call("POST /s/{token}", "POST", f"/s/{link}", SURVEY_FORM, None)
        if self.expect(f"survey {fu}", s, page, 200):
            self.tally.attempts_ok[fu] += 1  # the web attempt and the completion
            self.tally.completed_ok[fu] += 1
            self.tally.surveys_ok += 1
            if self.rng.random() < self.repeat:
                s, page = self.call("POST /s/{token}", "POST", f"/s/{link}", SURVEY_FORM, None)
                self.expect(f"re-sent survey {fu}", s, page, 410)
        return True

    def run(self) -> None:
        i = 0
        while time.monotonic() < self.deadline:
            i += 1
            if self.rng.random() < 0.25 and self.survey():
                continue
            sid, tid = f"S{self.n}-{i}", f"T{self.n}-{i}"
            s, a = self.call("POST /subjects", "POST", "/api/v1/subjects",
                             {"id": sid, "name": "王伟", "phones": [f"138{self.n:04d}{i % 10000:04d}"]}, "his")
            if not self.expect(f"subject {sid}", s, a, 201):
                continue
            s, a = self.trigger(tid, sid)
            if not self.expect(f"trigger {tid}", s, a, 201):
                continue
            planned = [f["id"] for f in a["followups"]][:1]  # the first visit is due now
            if self.rng.random() < self.repeat:  # the caller re-sends: nothing changes
                s, a = self.trigger(tid, sid)
                self.expect(f"re-sent trigger {tid}", s, a, 200)
            if self.rng.random() < self.repeat / 2:  # re-sent with other data: refused, naming the field
                s, a = self.trigger(tid, sid, diagnosis="AMI")
                if self.expect(f"changed trigger {tid}", s, a, 409) and a.get("fields") != ["diagnosis"]:
                    self.tally.unexpected.append(f"changed trigger {tid}: 409 naming {a.get('fields')}")
            if self.rng.random() < self.repeat:  # an id raced from many connections: created exactly once
                x = f"X{self.rng.randrange(SHARED_IDS)}"
                s, a = self.trigger(x, "SX")
                self.expect(f"shared trigger {x}", s, a, 200, 201)
            for fu in planned:
                s, a = self.call("POST /attempts", "POST", f"/api/v1/followups/{fu}/attempts",
                                 {"channel": "phone", "outcome": "reached"}, self.agent)
                if not self.expect(f"attempt {fu}", s, a, 200):
                    continue
                self.tally.attempts_ok[fu] += 1
                s, a = self.call("POST /complete", "POST", f"/api/v1/followups/{fu}/complete", ANSWERS, self.agent)
                if self.expect(f"complete {fu}", s, a, 200):
                    self.tally.completed_ok[fu] += 1
        if self.conn is not None:
            self.conn.close()


# -- the figures and the checks ----------------------------------------------------------------------------
def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))] if s else float("nan")


def report(t: Tally, seconds: float) -> dict[str, Any]:
    rows = {}
    total = sum(len(v) for v in t.latency.values())
    print(f"\n{'endpoint':<16} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  answers")
    for ep in sorted(t.latency):
        xs = t.latency[ep]
        row = {"requests": len(xs), "per_s": len(xs) / seconds, "p50_ms": pct(xs, 50) * 1000,
               "p95_ms": pct(xs, 95) * 1000, "p99_ms": pct(xs, 99) * 1000, "status": dict(sorted(t.status[ep].items()))}
        rows[ep] = row
        print(f"{ep:<16} {row['requests']:>9} {row['per_s']:>8.1f} {row['p50_ms']:>8.0f} {row['p95_ms']:>8.0f} "
              f"{row['p99_ms']:>8.0f}  {' '.join(f'{k}:{v}' for k, v in row['status'].items())}")
    errors = Counter({k: v for c in t.status.values() for k, v in c.items() if k >= 500 or k == 0})
    print(f"{'all':<16} {total:>9} {total / seconds:>8.1f}   server errors/timeouts: {dict(errors) or 0}")
    return {"endpoints": rows, "requests": total, "per_s": total / seconds, "errors": dict(errors)}


def originators(app: Any, topic: str) -> Counter:
    counts: Counter = Counter()
    start = 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=5000, topics=[topic])
        if not notes:
            return counts
        counts.update(n.originator_id for n in notes)
        start = notes[-1].id + 1


def verify(db: str, t: Tally, prepared: int) -> list[str]:
    """What the event log holds against what the clients were told; the problems found."""
    from huifang.core.config import Config
    from huifang.core.domain.base import aggregate_uuid
    from huifang.projections import open_app

    problems: list[str] = []
    app = open_app(db, Config())
    try:
        received = originators(app, "huifang:Trigger.Received")
        completed = originators(app, "huifang:FollowUp.Completed")
        attempts = originators(app, "huifang:FollowUp.AttemptRecorded")
    finally:
        app.close()
    lost = [x for x in t.triggers_ok if received[aggregate_uuid("trigger", x)] != 1]
    twice = [x for x, n in t.created.items() if n > 1]
    maybe = sum(1 for x in t.uncertain - t.triggers_ok if received[aggregate_uuid("trigger", x)])
    extra = sum(received.values()) - len(t.triggers_ok) - prepared - maybe
    if lost:
        problems.append(f"{len(lost)} trigger ids answered 2xx not received exactly once: {sorted(lost)[:5]}")
    if twice:
        problems.append(f"{len(twice)} trigger ids answered 201 more than once: {sorted(twice)[:5]}")
    if extra:
        problems.append(f"{extra} triggers received that no client was told of")
    sure = {aggregate_uuid("followup", f) for f in t.uncertain}
    recorded = sum(n for f, n in completed.items() if f not in sure)
    wrong = [f for f, n in t.completed_ok.items() if f not in t.uncertain and completed[aggregate_uuid("followup", f)] != n]
    if wrong or recorded != sum(n for f, n in t.completed_ok.items() if f not in t.uncertain):
        problems.append(f"completions: {sum(t.completed_ok.values())} answered 200, {sum(completed.values())} "
                        f"recorded; differing follow-ups {sorted(wrong)[:5]}")
    recorded = sum(n for f, n in attempts.items() if f not in sure)
    wrong = [f for f, n in t.attempts_ok.items() if f not in t.uncertain and attempts[aggregate_uuid("followup", f)] != n]
    if wrong or recorded != sum(n for f, n in t.attempts_ok.items() if f not in t.uncertain):
        problems.append(f"attempts: {sum(t.attempts_ok.values())} answered 200, {sum(attempts.values())} "
                        f"recorded; differing follow-ups {sorted(wrong)[:5]}")
    print(f"\nevent log: {sum(received.values())} triggers received ({len(t.triggers_ok)} ids answered 2xx, "
          f"{sum(t.created.values())} created by a 201), {sum(attempts.values())} attempts, "
          f"{sum(completed.values())} completions recorded ({t.surveys_ok} by survey links)"
          + (f"; {len(t.uncertain)} trigger ids or follow-ups left uncertain by a failed request (checked "
             f"0 or 1 times)" if t.uncertain else ""))
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", "import sys; from huifang.cli.main import main; main(sys.argv[1:])",
                        "--db", db, "--now", NOW, "audit", "verify", "--json"], capture_output=True, text=True,
                       timeout=1800, env=os.environ.copy())
    out = json.loads(r.stdout) if r.stdout.strip() else r.stderr.strip()
    ok = r.returncode == 0 and isinstance(out, dict) and out.get("ok") is True
    print(f"huifang audit verify: {'passes' if ok else 'FAILS'} ({time.perf_counter() - t0:.1f} s)")
    if not ok:
        problems.append(f"audit verify failed: {json.dumps(out, ensure_ascii=False)[:400]}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    ap.add_argument("--duration", type=float, default=120.0, help="seconds of load (default 120)")
    ap.add_argument("--pg", default=None, metavar="URL", help="a PostgreSQL server (a fresh schema is made on it)")
    ap.add_argument("--workers", type=int, default=1, help="`huifang serve --workers` (PostgreSQL only; default 1)")
    ap.add_argument("--repeat", type=float, default=0.1, help="share of triggers re-sent (default 0.1)")
    ap.add_argument("--surveys", type=int, default=None, metavar="N",
                    help="survey links prepared for the clients to answer (default 4 per client)")
    ap.add_argument("--reconnect", action="store_true",
                    help="a new connection per request (default: each client keeps one connection alive, which "
                         "ties it to the worker that accepted it)")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--json", dest="json_out", default=None, metavar="FILE", help="also write the figures here")
    args = ap.parse_args(argv)
    if not (1 <= args.clients <= 500 and 0 < args.duration <= 3600):
        ap.error("--clients 1..500, --duration up to 3600 s")

    tmp = Path(tempfile.mkdtemp(prefix="huifang-load-"))
    os.environ.update({"HUIFANG_HOME": str(tmp / "home"), "HUIFANG_CLOCK": "logical", "HUIFANG_ACTOR": "cli"})
    os.environ.pop("HUIFANG_DEBUG", None)
    db = make_store(args.pg, tmp)
    backend = "PostgreSQL" if args.pg else "SQLite"
    try:
        t0 = time.perf_counter()
        tokens = setup(db)
        links, prepared, why = survey_links(db, args.clients * 4 if args.surveys is None else args.surveys)
        print(f"load: {backend} store ready in {time.perf_counter() - t0:.0f} s ({len(links)} survey links sent); "
              f"serving with {args.workers} worker(s); {args.clients} clients for {args.duration:.0f} s", flush=True)
        if not links:
            print(f"load: survey-link submissions (POST /s/{{token}}) skipped: {why}", flush=True)
        lock = threading.Lock()
        total = Tally()
        with server(db, args.workers, tmp / "serve.log") as (port, pid):
            before = cpu_seconds(pid)
            start = time.monotonic()
            deadline = start + args.duration
            clients = [Client(n, port, tokens, deadline, args.repeat, args.seed * 1000 + n, links, lock)
                       for n in range(args.clients)]
            for c in clients:
                c.reconnect = args.reconnect
            threads = [threading.Thread(target=c.run, name=f"client-{c.n}", daemon=True) for c in clients]
            for th in threads:
                th.start()
            for th in threads:
                th.join(timeout=max(1.0, deadline - time.monotonic()) + REQUEST_TIMEOUT * 6)
            seconds = time.monotonic() - start
            used = [round(b - a, 1) for a, b in zip(before, cpu_seconds(pid), strict=False)]
            stuck = [th.name for th in threads if th.is_alive()]
            for c in clients:
                total.merge(c.tally)
        figures = report(total, seconds)
        if used:  # CPU time: the figure to compare on a shared machine (wall time swings with other load)
            print(f"server CPU seconds during the run: {used[0]} (parent)"
                  + "".join(f", {x} (worker {n})" for n, x in enumerate(used[1:], 1))
                  + f"; {1000 * sum(used) / max(1, figures['requests']):.1f} ms CPU a request")
        problems = verify(db, total, prepared)
        if stuck:
            problems.append(f"{len(stuck)} clients still waiting at the end")
        if total.unexpected:
            kinds = Counter(u.split(":")[0].split(" ")[0] + " " + u.split(": ")[1].split(" ")[0] for u in total.unexpected)
            print(f"\nunexpected answers: {len(total.unexpected)} ({dict(kinds)}); first: {total.unexpected[:3]}")
        figures.update(backend=backend, workers=args.workers, clients=args.clients, seconds=seconds, server_cpu=used,
                       unexpected=len(total.unexpected), problems=problems)
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(figures, indent=1, ensure_ascii=False))
        print("\n" + ("0 lost, 0 duplicated: every acknowledged trigger, attempt and completion recorded once"
                      if not problems else "PROBLEMS:\n  " + "\n  ".join(problems)))
        return 1 if problems else 0
    finally:
        with contextlib.suppress(Exception):
            drop_store(db)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
