"""The role matrix (G8, G9, G17, F6, A4), generated from the one policy table (core/policy.py): every
command x role x same/other department cell runs through the real CLI on one store per backend, and is
allowed (exit 0) or refused (exit 2) exactly as the table says; every refusal is recorded first, as an
`AccessLog.Refused` of the actor naming the action.

Attack (before the table): sales resolved tickets, sales and admins ran `qa record`, any writer of any
department opted subjects out or exempted them (closing their follow-ups), any agent recorded service
events — none of it as the README's role table said.

The store: two departments, cardiology (the records' department) and surgery, each with one staff member
of every role (`agent-c`, `supervisor-c`, ... and `agent-s`, ...); in each the agent reports to the
supervisor, who reports to the manager. Every record belongs to cardiology and is owned by `agent-c`, so
"same department" cells are staff positioned as their role's scope expects (the owner, their supervisor,
the department's manager), "other department" cells their surgery twins. A command that uses its record
up (complete, close, erase, unlock, ...) gets a fresh one for each allowed cell; a refused cell changes
nothing, so refused cells share one.

SQLite runs every cell; PostgreSQL one allowed and one refused cell per command (the whole matrix is
marked slow).
"""
from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from huifang.core import clock
from huifang.core.contract import ROLES
from huifang.core.policy import ANY, POLICY, commands, scope_of
from tests.conftest import STORE, Huifang, copy_store
from tests.testkit import install_kit

T0 = "2026-09-28T09:00+08:00"  # staff, subjects, service events (setup mode)
CALL = "2026-10-08T10:20+08:00"
ON = "2026-10-08T12:00+08:00"  # the first admin: access control on
NOW = "2026-10-08T16:00+08:00"  # every cell
SAME, OTHER = "cardiology", "surgery"
APPROVAL = {"subject.export"}  # G8: beyond the subject's departments only with a manager's approval


def who(role: str, same: bool) -> str:
    return f"{role}-{'c' if same else 's'}"


# G7: no shipped visit type is exempted by a statement on the subject's file; the test kit's is (F6 cells)
KIT = ["--attr", "owner=agent-c", "--attr", f"department={SAME}"]


def discharge(nurse: str = "agent-c") -> list[str]:
    return ["--attr", f"department={SAME}", "--attr", "diagnosis=CHD", "--attr", f"responsible_nurse={nurse}",
            "--attr", "attending_doctor=dr1"]


@dataclass
class Matrix:
    """The store of one backend, its shared records and a counter for fresh ones."""

    hf: Huifang
    app: Any
    dir: Path
    n: Iterator[int] = field(default_factory=itertools.count)
    shared: dict[str, str] = field(default_factory=dict)

    def ok(self, *args: str, actor: str | None = None, now: str = NOW) -> Any:
        return self.hf.ok(*args, actor=actor, now=now)

    def refusals(self, actor: str) -> list[dict[str, Any]]:
        from huifang.core.audit.trail import AccessLog

        log = self.app.find_by_id(AccessLog.create_id(actor))
        return list(log.refusals) if log is not None else []

    def file(self, name: str, text: str) -> str:
        p = self.dir / name
        p.write_text(text, encoding="utf-8")
        return str(p)

    # -- fresh records, for cells that use theirs up (written by intake and the owner, as in real life)
    def fresh(self, kind: str) -> dict[str, str]:
        n = next(self.n)
        if kind == "subject":
            self.ok("subject", "add", f"PE{n}", "--name", "王五", "--phone", "13700000005", actor="intake-c")
            return {"subject": f"PE{n}"}
        if kind == "locked":
            return {"locked": self.locked(f"locked-{n}")}
        if kind == "ticket":
            t = self.ok("ticket", "open", "DS-1", "--category", "billing", "--dept", SAME, actor="agent-c")
            return {"ticket": t["id"]}
        subject = f"PX{n}" if kind == "own-subject" else "PF"
        if kind == "own-subject":  # F6: a follow-up a statement on the subject's file exempts (the kit's)
            self.ok("subject", "add", subject, "--name", "赵六", "--phone", "13600000006", actor="intake-c")
            self.ok("trigger", "kit.signed", "--subject", subject, "--id", f"K{n}", "--at", T0, *KIT,
                    actor="intake-c")
            return {"subject": subject, "kit_fu": f"K{n}-1"}
        self.ok("trigger", "discharge", "--subject", subject, "--id", f"X{n}", "--at", T0, *discharge(),
                actor="intake-c")
        if kind == "reached":
            self.ok("attempt", f"X{n}-1", "--channel", "phone", "--outcome", "reached", actor="agent-c")
        return {"subject": subject, "fu": f"X{n}-1"}

    def locked(self, code: str) -> str:
        """An agent of cardiology below supervisor-c, locked one level (A4) as `tick` would lock them."""
        from huifang.core.domain import Staff

        self.ok("staff", "add", code, "--name", "锁", "--role", "agent", "--dept", SAME, "--reports-to",
                "supervisor-c", actor="admin-c")
        with clock.at(clock.parse_instant(NOW)):
            staff = self.app.load(Staff, code, "staff")
            staff.lock_at(level=1, followups=["DS-1"], days_overdue=1, actor="system")
            self.app.commit(staff)
        return code


@dataclass(frozen=True)
class Cmd:
    """How to run one command of the policy on the matrix store: its argv for a target (the shared
    records, or fresh ones of `fresh` kind for an allowed cell), and further actions it needs."""

    argv: Callable[[Matrix, dict[str, str], str], list[str]]
    fresh: str | None = None
    also: tuple[str, ...] = ()


def _csv(m: Matrix, name: str, header: list[str], row: list[str]) -> str:
    p = m.dir / name
    with p.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerow(row)
    return str(p)


CMDS: dict[str, Cmd] = {
    "staff add": Cmd(lambda m, t, c: ["staff", "add", f"new-{c}", "--name", "新", "--role", "agent", "--dept", SAME]),
    "staff bind": Cmd(lambda m, t, c: ["staff", "bind", "bind-me", "--os-user", f"u-{c}"]),
    "calendar import": Cmd(lambda m, t, c: ["calendar", "import", m.file(
        f"cal-{c}.json", '{"year": 2027, "holidays": ["2027-01-01"], "workdays": [], "source": "matrix"}')]),
    "privacy widen": Cmd(lambda m, t, c: ["privacy", "widen", "--encrypt", f"x_{c}", "--reason", "matrix"]),
    "subject add": Cmd(lambda m, t, c: ["subject", "add", f"N-{c}", "--name", "张三", "--phone", "13800000001"]),
    "import subjects": Cmd(lambda m, t, c: ["import", "subjects", _csv(
        m, f"s-{c}.csv", ["id", "name", "phone"], [f"I-{c}", "李四", "13900000002"])]),
    "trigger": Cmd(lambda m, t, c: ["trigger", "discharge", "--subject", "PS", "--id", f"T-{c}", "--at", T0,
                                    *discharge()]),
    "import triggers": Cmd(lambda m, t, c: ["import", "triggers", _csv(
        m, f"t-{c}.csv", ["id", "subject", "at", "department", "diagnosis", "responsible_nurse", "attending_doctor"],
        [f"IT-{c}", "PS", "2026/09/28 09:00", SAME, "CHD", "agent-c", "dr1"]), "--kind", "medical.discharge"]),
    "subject optout": Cmd(lambda m, t, c: ["subject", "optout", t["subject"], "--channel", "letter"]),
    "aesthetics blacklist": Cmd(lambda m, t, c: ["aesthetics", "blacklist", t["subject"], "--reason", "abusive"]),
    "subject exempt": Cmd(lambda m, t, c: ["subject", "exempt", t["subject"], "--statement", "SM-1"],
                          fresh="own-subject"),
    "close --exempt": Cmd(lambda m, t, c: ["close", t["kit_fu"], "--exempt", "--statement", "SM-2"],
                          fresh="own-subject", also=("followup.work",)),
    "subject erase": Cmd(lambda m, t, c: ["subject", "erase", t["subject"], "--reason", "request",
                                          "--legal-order", "order 1"], fresh="subject"),
    "attempt": Cmd(lambda m, t, c: ["attempt", t["fu"], "--channel", "phone", "--outcome", "busy"]),
    "complete": Cmd(lambda m, t, c: ["complete", t["fu"], "--answer", "recovery=8", "--answer", "satisfaction=满意"],
                    fresh="reached"),
    "close": Cmd(lambda m, t, c: ["close", t["fu"], "--cancel", "duplicate"], fresh="fu"),
    "ticket open": Cmd(lambda m, t, c: ["ticket", "open", t["fu"], "--category", "billing", "--dept", SAME]),
    "reassign": Cmd(lambda m, t, c: ["reassign", t["fu"], "--to", "agent2-c", "--reason", "leave"], fresh="fu"),
    "unlock": Cmd(lambda m, t, c: ["unlock", t["locked"]], fresh="locked"),
    "ticket resolve": Cmd(lambda m, t, c: ["ticket", "resolve", t["ticket"], "--note", "refunded"], fresh="ticket"),
    "qa record": Cmd(lambda m, t, c: ["qa", "record", t["done"], "--result", "pass"]),
    "subject show": Cmd(lambda m, t, c: ["subject", "show", t["subject"], "--reason", "follow-up call"]),
    "show": Cmd(lambda m, t, c: ["show", t["fu"]]),
    "subject find": Cmd(lambda m, t, c: ["subject", "find", "--phone", "13800000001"]),
    "subject edit": Cmd(lambda m, t, c: ["subject", "edit", t["subject"], "--address", f"地址 {c}"]),
    "history": Cmd(lambda m, t, c: ["history", t["subject"], "--reason", "follow-up call"]),
    "subject export": Cmd(lambda m, t, c: ["subject", "export", t["subject"], "--out", str(m.dir / f"e-{c}.json"),
                                           "--reason", "care plan"]),
    "audit reads": Cmd(lambda m, t, c: ["audit", "reads", "--subject", t["subject"]]),
    "audit export": Cmd(lambda m, t, c: ["audit", "export", "--out", str(m.dir / f"log-{c}.jsonl"),
                                         "--reason", "annual audit"]),
    # the grantee exports within their own department anyway: no cell's outcome depends on another's
    "audit approve-export": Cmd(lambda m, t, c: ["audit", "approve-export", t["subject"], "--for", "auditor-c",
                                                 "--reason", "regulator request"]),
    "campaign request": Cmd(lambda m, t, c: ["campaign", "request", m.file(f"c-{c}.json", json.dumps({"id": f"C-{c}"}))]),
}


def actions(cmd: str) -> tuple[str, ...]:
    return (commands()[cmd], *CMDS[cmd].also)


def allowed(cmd: str, role: str, same: bool) -> bool:
    """What the policy says of the cell (every action the command needs, in the scope the store sets up)."""
    for action in actions(cmd):
        scope = scope_of(action, role)
        if scope is None or (not same and (scope != ANY or action in APPROVAL)):
            return False
    return True


CELLS = [(cmd, role, same) for cmd in commands() for role in ROLES for same in (True, False)]


def cell_id(cell: tuple[str, str, bool]) -> str:
    cmd, role, same = cell
    return f"{cmd.replace(' ', '_')}-{role}-{'same' if same else 'other'}"


def _subset() -> list[tuple[str, str, bool]]:
    """One allowed and one refused cell of every command."""
    out = []
    for cmd in commands():
        mine = [c for c in CELLS if c[0] == cmd]
        out += [next(c for c in mine if allowed(*c)), next(c for c in mine if not allowed(*c))]
    return out


PG_SUBSET = _subset()


def build(hf: Huifang, tmp: Path) -> Matrix:
    """Staff of every role in both departments, the shared records, then the first admin."""
    from huifang.projections import open_app

    for dept, s in ((SAME, "c"), (OTHER, "s")):
        hf.ok("staff", "add", f"manager-{s}", "--name", "经理", "--role", "manager", "--dept", dept, now=T0)
        hf.ok("staff", "add", f"supervisor-{s}", "--name", "护士长", "--role", "supervisor", "--dept", dept,
              "--reports-to", f"manager-{s}", now=T0)
        hf.ok("staff", "add", f"agent-{s}", "--name", "护士", "--role", "agent", "--dept", dept,
              "--reports-to", f"supervisor-{s}", now=T0)
        for role in ("auditor", "sales", "intake"):
            hf.ok("staff", "add", f"{role}-{s}", "--name", role, "--role", role, "--dept", dept, now=T0)
    for code in ("agent2-c", "bind-me"):
        hf.ok("staff", "add", code, "--name", "护士二", "--role", "agent", "--dept", SAME, "--reports-to",
              "supervisor-c", now=T0)
    for subject in ("PS", "PQ", "PF"):
        hf.ok("subject", "add", subject, "--name", "张三", "--phone", "13800000001", now=T0)
    hf.ok("trigger", "discharge", "--subject", "PS", "--id", "DS", *discharge(), now=T0)
    hf.ok("trigger", "discharge", "--subject", "PQ", "--id", "DQ", *discharge(), now=T0)
    hf.ok("trigger", "kit.signed", "--subject", "PS", "--id", "KS", *KIT, now=T0)
    hf.ok("attempt", "DQ-1", "--channel", "phone", "--outcome", "reached", actor="agent-c", now=CALL)
    hf.ok("complete", "DQ-1", "--answer", "recovery=8", "--answer", "satisfaction=满意", actor="agent-c", now=CALL)
    ticket = hf.ok("ticket", "open", "DS-1", "--category", "billing", "--dept", SAME, actor="agent-c", now=CALL)
    hf.ok("staff", "add", "admin-c", "--name", "管理员", "--role", "admin", "--dept", SAME, now=ON)  # roles on
    hf.ok("staff", "add", "admin-s", "--name", "管理员", "--role", "admin", "--dept", OTHER, actor="admin-c", now=ON)
    m = Matrix(hf, open_app(hf.db), tmp)
    m.shared = {"subject": "PS", "fu": "DS-1", "kit_fu": "KS-1", "done": "DQ-1", "ticket": ticket["id"],
                "locked": m.locked("locked")}
    return m


@pytest.fixture(scope="module")
def matrix_sqlite(sqlite_template: Path, tmp_path_factory: Any) -> Iterator[Matrix]:
    d = tmp_path_factory.mktemp("matrix")
    with pytest.MonkeyPatch.context() as mp:
        install_kit(mp)
        m = build(Huifang(copy_store(sqlite_template, d / STORE)), d)
        yield m
        m.app.close()


@pytest.fixture(scope="module")
def matrix_pg(pg_pool: Any, tmp_path_factory: Any) -> Iterator[Matrix]:
    if pg_pool is None:
        pytest.skip("HUIFANG_TEST_PG not set")
    url = pg_pool.acquire()
    try:
        with pytest.MonkeyPatch.context() as mp:
            install_kit(mp)
            m = build(Huifang(url), tmp_path_factory.mktemp("matrix-pg"))
            yield m
            m.app.close()
    finally:
        pg_pool.release(url)


def run_cell(m: Matrix, cmd: str, role: str, same: bool) -> None:
    actor, key = who(role, same), cell_id((cmd, role, same))
    expect = allowed(cmd, role, same)
    spec = CMDS[cmd]
    target = {**m.shared, **(m.fresh(spec.fresh) if expect and spec.fresh else {})}
    before = len(m.refusals(actor))
    r = m.hf(*spec.argv(m, target, key), actor=actor, now=NOW)
    after = m.refusals(actor)
    if expect:
        assert r.code == 0, f"{key}: the policy allows it, but: {r.err}"
        assert len(after) == before, f"{key}: allowed, yet a refusal was recorded: {after[-1]}"
        return
    assert r.code == 2 and r.err.count("\n") == 1, f"{key}: the policy refuses it, but exit {r.code}: {r.out[:300]}"
    assert len(after) == before + 1, f"{key}: refused ({r.err.strip()}) but not recorded"
    assert after[-1]["action"] in actions(cmd), (key, after[-1])


def test_g8_every_policy_command_has_a_matrix_row() -> None:
    """The matrix runs every command the policy names (a new command in the table needs its row here)."""
    assert set(commands()) == set(CMDS)
    assert {a for a in POLICY if POLICY[a].commands} == set(POLICY)


# The fast tier runs one allowed and one refused cell per command; CI runs every cell (slow).
@pytest.mark.parametrize("cell", [pytest.param(c, marks=() if c in PG_SUBSET else pytest.mark.slow) for c in CELLS],
                         ids=cell_id)
def test_g8_role_matrix_sqlite(matrix_sqlite: Matrix, cell: tuple[str, str, bool]) -> None:
    run_cell(matrix_sqlite, *cell)


@pytest.mark.postgres
@pytest.mark.parametrize("cell", PG_SUBSET, ids=cell_id)
def test_g8_role_matrix_postgres(matrix_pg: Matrix, cell: tuple[str, str, bool]) -> None:
    run_cell(matrix_pg, *cell)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("cell", [c for c in CELLS if c not in PG_SUBSET], ids=cell_id)
def test_g8_role_matrix_postgres_full(matrix_pg: Matrix, cell: tuple[str, str, bool]) -> None:
    run_cell(matrix_pg, *cell)
