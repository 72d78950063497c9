"""G8: the actor is the identity the platform authenticated, not a string typed after `--as`.

The attacks: `--as`/HUIFANG_ACTOR could name anyone (an agent signing as their supervisor); on
PostgreSQL every operator connected as the store's owner, so any of them could UPDATE or DELETE the
event table and its chain with psql. Now a staff member is bound to a database role or OS user
(`staff add/bind --db-role/--os-user`, stored as events); connected or logged in as that identity,
huifang acts as them and refuses `--as` naming anyone else; an identity bound to nobody may not claim
a name once access control is on; the documented GRANTs (`huifang staff grants`) leave staff roles
append-only on the log. Every refusal is recorded.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from tests.audit_kit import DISCHARGE
from tests.conftest import Huifang, _init, _store_dir
from tests.pg_support import drop_schema, fresh_schema_url, pg_url, split_schema

T0 = "2026-09-28T09:00+08:00"
CALL = "2026-10-06T10:00+08:00"
LATER = "2026-10-06T11:00+08:00"


def staffed(hf, n1_identity: list[str]) -> None:
    """hn (supervisor) <- n1 (agent, bound as given), P1's D1-1 owned by n1, then the first admin."""
    hf.ok("staff", "add", "hn", "--name", "HN", "--role", "supervisor", "--dept", "cardiology", now=T0)
    hf.ok("staff", "add", "n1", "--name", "N1", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn",
          *n1_identity, now=T0)
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000000", now=T0)
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE, now=T0)
    hf.ok("staff", "add", "adm", "--name", "ADM", "--role", "admin", now=T0)  # access control on


def busy(hf, actor=None, now=CALL):
    return hf("attempt", "D1-1", "--channel", "phone", "--outcome", "busy", actor=actor, now=now)


# -- bindings ---------------------------------------------------------------------------------------
def test_g8_identity_bindings_are_admin_events_and_unique(hf):
    """Bindings did not exist: nothing tied a staff record to a platform identity."""
    n1 = hf.ok("staff", "add", "n1", "--name", "N1", "--role", "agent", "--db-role", "r_n1", "--os-user", "wang",
               now=T0)
    assert (n1["db_role"], n1["os_user"]) == ("r_n1", "wang")
    r = hf("staff", "add", "n2", "--name", "N2", "--role", "agent", "--os-user", "wang", now=T0)
    assert r.code == 2 and "OS user 'wang' already authenticates staff n1" in r.err
    hf.ok("staff", "add", "n2", "--name", "N2", "--role", "agent", now=T0)
    hf.ok("staff", "add", "adm", "--name", "ADM", "--role", "admin", now=T0)
    r = hf("staff", "bind", "n2", "--os-user", "li", actor="n1", now=T0)  # only an admin binds
    assert r.code == 2 and "only admin may" in r.err
    hf.ok("staff", "bind", "n1", "--os-user", "zhao", actor="adm", now=T0)  # wang released ...
    assert hf.ok("staff", "bind", "n2", "--os-user", "wang", actor="adm", now=T0)["os_user"] == "wang"  # ... reused
    events = hf.ok("history", "n1", "--reason", "identity audit", actor="adm", now=T0)["events"]
    bound = [(e["actor"], e["data"]) for e in events if e["event"] == "IdentityBound"]
    assert bound == [("cli", {"db_role": "r_n1", "os_user": "wang"}), ("adm", {"db_role": "r_n1", "os_user": "zhao"})]
    assert hf.ok("audit", "verify", now=T0)["ok"]


# -- SQLite: the operating-system user ------------------------------------------------------------------
def as_os_user(monkeypatch, name: str, uid: int = 4242, sudo_user: str | None = None) -> None:
    """The CLI reads the OS user at its edge (cli/state.os_login); here a user who does not own the
    store file, as in a deployment where operators are not the store's custodian."""
    from huifang.cli import state
    from huifang.core.identity import OsLogin

    monkeypatch.setattr(state, "os_login", lambda: OsLogin(uid=uid, name=name, sudo_user=sudo_user))


def test_g8_os_user_bound_to_staff_is_the_actor_and_as_is_refused(hf_sqlite, monkeypatch):
    """An agent logged in as `wang` signed an attempt as their supervisor with `--as hn`."""
    hf = hf_sqlite
    staffed(hf, ["--os-user", "wang"])
    as_os_user(monkeypatch, "wang")
    assert hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "busy", now=CALL)["attempts"][-1]["actor"] == "n1"
    r = busy(hf, actor="hn")
    assert r.code == 2 and "--as: you are signed in as OS user 'wang', which is staff n1" in r.err
    assert busy(hf, actor="n1").code == 0  # naming oneself is fine
    as_os_user(monkeypatch, "li")  # bound to nobody
    r = busy(hf, actor="n1")
    assert r.code == 2 and "OS user 'li' is not bound to any staff member" in r.err
    r = busy(hf)  # without --as: the anonymous cli, which changes nothing once roles are on
    assert r.code == 2 and "access control is on" in r.err
    monkeypatch.undo()  # the custodian (root or the file's owner) reads the trail
    assert [a["actor"] for a in hf.ok("show", "D1-1", now=LATER)["attempts"]] == ["n1", "n1"]
    got = {who: [(x["action"], x["target"]) for x in hf.ok("audit", "reads", "--actor", who, actor="adm",
                                                            now=LATER)["refusals"]] for who in ("n1", "cli")}
    assert got == {"n1": [("identity", "--as hn"), ("identity", "--as n1")], "cli": [("followup.work", "follow-up D1-1")]}


def test_g8_os_user_may_use_as_in_setup_mode_only(hf_sqlite, monkeypatch):
    """`--as` from a login bound to nobody: allowed while the store is set up, refused afterwards."""
    hf = hf_sqlite
    as_os_user(monkeypatch, "li")
    hf.ok("staff", "add", "adm", "--name", "ADM", "--role", "admin", actor="setup", now=T0)  # setup mode
    r = hf("staff", "add", "n9", "--name", "N9", "--role", "agent", actor="adm", now=T0)
    assert r.code == 2 and "OS user 'li' is not bound" in r.err


def _root_with_setpriv() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("setpriv") is not None


@pytest.mark.slow
@pytest.mark.skipif(not _root_with_setpriv(), reason="needs root and setpriv to run huifang as another OS user")
def test_g8_real_os_users_sudo_and_a_spoofed_sudo_user(monkeypatch):
    """Real processes: `nobody` (bound to n1) acts as n1 and cannot sign as hn, even with a forged
    SUDO_USER=root; root running for a sudo caller (SUDO_USER=wang, bound to hn) acts as hn."""
    d = Path(tempfile.mkdtemp(prefix="huifang-os-"))
    try:
        d.chmod(0o777)
        db = str(d / "huifang.db")
        hf = Huifang(db)
        _init(db)
        staffed(hf, ["--os-user", "nobody"])
        hf.ok("staff", "bind", "hn", "--os-user", "wang", actor="adm", now=T0)
        for p in d.rglob("*"):  # a store its operators may write (not own): no custodian among them
            p.chmod(0o777 if p.is_dir() else 0o666)
        script = Path(sys.executable).with_name("huifang")  # the venv's console script
        exe = [str(script)] if script.exists() else [sys.executable, "-m", "huifang.cli.main"]
        base = [*exe, "--db", db, "--now", CALL, "--json", "attempt", "D1-1", "--channel", "phone", "--outcome", "busy"]
        env = {k: v for k, v in os.environ.items() if k not in ("SUDO_USER", "HUIFANG_ACTOR")}
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]

        def run(cmd: list[str], **extra: str) -> subprocess.CompletedProcess:
            return subprocess.run(cmd, env={**env, **extra}, capture_output=True, text=True, timeout=60, cwd=d)

        ok = run([*nobody, *base])
        assert ok.returncode == 0, ok.stderr
        forged = run([*nobody, *base[:1], "--as", "hn", *base[1:]], SUDO_USER="root")
        assert forged.returncode == 2 and "OS user 'nobody', which is staff n1" in forged.stderr
        sudo = run([*base[:1], "--as", "n1", *base[1:]], SUDO_USER="wang")  # root on behalf of wang
        assert sudo.returncode == 2 and "OS user 'wang', which is staff hn" in sudo.stderr
        assert [a["actor"] for a in hf.ok("show", "D1-1", now=LATER)["attempts"]] == ["n1"]
    finally:
        shutil.rmtree(d, ignore_errors=True)


# -- PostgreSQL: the database role --------------------------------------------------------------------------
def _psql() -> str | None:
    return shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))), None)


def _as_role(url: str, role: str, password: str) -> str:
    """`url` (the owner's) with another login role."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{quote(role)}:{quote(password)}@{rest.split('@', 1)[1]}"


@pytest.fixture
def pg_store():
    """A fresh schema made by the owner, and role names unique to this test (dropped afterwards)."""
    base = pg_url()
    if not base:
        pytest.skip("HUIFANG_TEST_PG not set")
    if _psql() is None:
        pytest.skip("psql is not installed")
    url = fresh_schema_url(base)
    tag = uuid.uuid4().hex[:8]
    roles = {k: f"t3_{tag}_{k}" for k in ("staff", "erasure", "n1", "x", "adm")}
    try:
        yield url, roles
    finally:
        drop_schema(url)
        shutil.rmtree(_store_dir(url), ignore_errors=True)
        conninfo, _ = split_schema(url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for r in roles.values():
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (r,)).fetchone():
                    conn.execute(f'DROP OWNED BY "{r}"')
                    conn.execute(f'DROP ROLE "{r}"')


def psql(url: str, sql: str, stop: bool = True) -> subprocess.CompletedProcess:
    """psql as the URL's role; without `stop`, every statement runs (autocommit) and each error is printed."""
    conninfo, schema = split_schema(url)
    return subprocess.run([_psql() or "psql", conninfo, "-X", "-q", "-v", f"ON_ERROR_STOP={int(stop)}"],
                          input=f'SET search_path TO "{schema}";\n{sql}\n', capture_output=True, text=True,
                          timeout=60)


@pytest.mark.postgres
def test_g8_db_role_is_the_actor_and_cannot_alter_the_log(pg_store):
    """Every operator used the owner's connection: psql could UPDATE/DELETE huifang_events and its
    chain, and `--as` named anyone. With the documented GRANTs a staff login role appends through
    huifang (attributed to its staff member) and the database refuses it everything else."""
    url, roles = pg_store
    owner = Huifang(url)
    _init(url)
    staffed(owner, ["--db-role", roles["n1"]])
    grants = owner("staff", "grants", "--staff-role", roles["staff"], "--erasure-role", roles["erasure"],
                   json_out=False, now=T0)
    assert grants.code == 0 and "REVOKE UPDATE, DELETE, TRUNCATE" in grants.out
    done = psql(url, grants.out)  # the documented SQL, as the owner runs it
    assert done.returncode == 0, done.stderr
    for who in ("n1", "x"):
        made = psql(url, f"""CREATE ROLE "{roles[who]}" LOGIN PASSWORD 'pw' IN ROLE "{roles['staff']}";""")
        assert made.returncode == 0, made.stderr
    n1_url, x_url = _as_role(url, roles["n1"], "pw"), _as_role(url, roles["x"], "pw")

    count = "SELECT count(*) FROM huifang_events;"
    before = psql(n1_url, count)
    assert before.returncode == 0, before.stderr  # reading is allowed
    attacks = ["UPDATE huifang_events SET topic = topic", "DELETE FROM huifang_events", "TRUNCATE huifang_events",
               "UPDATE huifang_chain SET seal = NULL", "DELETE FROM huifang_chain", "TRUNCATE huifang_chain",
               "UPDATE huifang_keys SET erased = 1", "DELETE FROM huifang_keys", "CREATE TABLE forged (a int)",
               "ALTER TABLE huifang_events DISABLE TRIGGER ALL", "DROP TABLE huifang_chain"]
    r = psql(n1_url, ";\n".join(attacks) + ";", stop=False)  # one psql session, every statement tried
    errors = [line for line in r.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == len(attacks), r.stderr
    assert all("permission denied" in e or "must be owner" in e for e in errors), errors
    assert psql(n1_url, count).stdout == before.stdout  # nothing changed
    forged = psql(n1_url, "INSERT INTO huifang_events (originator_id, originator_version, topic, state, inserted_by) "
                          "VALUES (gen_random_uuid(), 1, 'huifang:Staff.Registered', '\\x00', 'huifang')")
    assert forged.returncode != 0 and "permission denied" in forged.stderr  # the attestation is the server's

    n1 = Huifang(n1_url)
    assert n1.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "busy", now=CALL)["attempts"][-1]["actor"] == "n1"
    r = busy(n1, actor="hn")
    assert r.code == 2 and f"signed in as database role '{roles['n1']}', which is staff n1" in r.err
    assert busy(n1, actor="n1").code == 0
    x = Huifang(x_url)  # a staff login role bound to nobody
    r = busy(x, actor="n1")
    assert r.code == 2 and f"database role '{roles['x']}' is not bound to any staff member" in r.err
    assert busy(x).code == 2  # the anonymous cli changes nothing once roles are on

    assert [a["actor"] for a in owner.ok("show", "D1-1", now=LATER)["attempts"]] == ["n1", "n1"]
    by = psql(url, "SELECT DISTINCT inserted_by FROM huifang_events")  # n1's attempts, x's recorded refusals
    assert by.returncode == 0 and roles["n1"] in by.stdout and roles["x"] in by.stdout, by
    got = owner.ok("audit", "reads", "--actor", "n1", actor="adm", now=LATER)["refusals"]
    assert [(g["action"], g["target"]) for g in got] == [("identity", "--as hn"), ("identity", "--as n1")]
    assert "is not bound" in got[1]["reason"]
    assert owner.ok("audit", "verify", now=LATER)["ok"]  # what the role appended is chained and sealed

    # an admin's role also joins the erasure role: enough to erase a subject (G10), nothing more
    made = psql(url, f"""CREATE ROLE "{roles['adm']}" LOGIN PASSWORD 'pw' IN ROLE "{roles['staff']}", "{roles['erasure']}";""")
    assert made.returncode == 0, made.stderr
    owner.ok("staff", "bind", "adm", "--db-role", roles["adm"], actor="adm", now=LATER)
    owner.ok("subject", "add", "P9", "--name", "李四", "--phone", "13900000000", actor="adm", now=LATER)
    adm = Huifang(_as_role(url, roles["adm"], "pw"))
    assert adm.ok("subject", "erase", "P9", "--reason", "request", "--legal-order", "order 7", now=LATER)["erased"]
    assert psql(_as_role(url, roles["adm"], "pw"), "DELETE FROM huifang_keys").returncode != 0
    assert owner.ok("audit", "verify", now=LATER)["ok"]
