"""Who is acting (G8): the identity the platform authenticated, not a name typed on the command line.

- PostgreSQL: the login role of the connection (`session_user`, authenticated by the server).
- SQLite: the operating-system user running the command (read at the CLI edge from the process's
  uid, never from environment variables); under `sudo` to the store's service account, the user
  sudo names (SUDO_USER, set by sudo itself).

A staff member is bound to such an identity by an admin (`huifang staff add n1 ... --db-role n1`,
`--os-user wang`; a `Login` record per identity). The rules, applied once per command:

1. An identity bound to a staff member acts as that staff member; `--as` may only repeat that name.
2. The store's *custodian* (PostgreSQL: a superuser or a member of the role owning the event table;
   SQLite: root or the owner of the database file) can rewrite the store with a plain SQL client
   anyway, so refusing it `--as` would protect nothing: it may act as any registered staff member
   (setup, integrations, the demo and the tests run this way). The events still name that staff
   member; keep the custodian account away from operators (README: the sudo deployment).
3. In setup mode (no admin yet, access control off) `--as` names whoever sets the store up.
4. Otherwise `--as` from an identity bound to nobody is refused, and so is any name that is not
   registered staff once access control is on. Every refusal is recorded (AccessLog) first.

Without `--as` an unbound identity acts as the anonymous `cli`, which may only run what changes
nothing and shows no personal data once access control is on.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

ANONYMOUS_CLAIMS = ("", "cli")


@dataclass(frozen=True)
class OsLogin:
    """The operating-system user running the command, as the CLI read it."""

    uid: int | None  # os.getuid() (None where the platform has none)
    name: str  # that uid's account name
    sudo_user: str | None = None  # SUDO_USER: who ran `sudo -u SERVICE huifang ...`


@dataclass(frozen=True)
class Platform:
    """The authenticated identity of this command and whether it is the store's custodian."""

    kind: str  # "db_role" | "os_user"
    name: str
    custodian: bool

    def __str__(self) -> str:
        return f"{'database role' if self.kind == 'db_role' else 'OS user'} '{self.name}'"

    @property
    def option(self) -> str:
        return "--" + self.kind.replace("_", "-")


def platform(app: Any, login: OsLogin | None) -> Platform | None:
    """The identity the store's platform authenticated (None: unknown, e.g. no OS login given)."""
    store = app.store
    if store.kind == "postgres":
        return _db_role(app)
    if login is None:
        return None
    owner = _file_owner(store.path)
    runs_as_owner = login.uid == 0 or (login.uid is not None and login.uid == owner)
    # sudo sets SUDO_USER itself; it is believed only in a process running as root or as the store's
    # owner (the service account), where whoever could fake it could rewrite the file anyway
    name = login.sudo_user if (login.sudo_user and runs_as_owner) else login.name
    custodian = name == "root" or (name == login.name and runs_as_owner) or name == _account(owner)
    return Platform("os_user", name, custodian)


def _db_role(app: Any) -> Platform:
    recorder = app.recorder
    known = getattr(recorder, "session_role", None)  # read with the store's start-up query
    if known is not None:
        who, superuser, owner = known
        return Platform("db_role", who, superuser or owner)
    datastore = recorder.datastore
    with datastore.transaction(commit=False) as curs:
        curs.execute(
            "SELECT session_user AS who, r.rolsuper AS super, "
            "COALESCE((SELECT pg_has_role(session_user, c.relowner, 'MEMBER') FROM pg_class c "
            "          JOIN pg_namespace n ON n.oid = c.relnamespace "
            "          WHERE n.nspname = %s AND c.relname = %s), false) AS owner "
            "FROM pg_roles r WHERE r.rolname = session_user",
            (datastore.schema or "public", recorder.events_table_name))
        row = curs.fetchone()
    return Platform("db_role", str(row["who"]), bool(row["super"] or row["owner"]))


def _file_owner(path: str | None) -> int | None:
    try:
        return os.stat(path or "").st_uid
    except OSError:
        return None


def _account(uid: int | None) -> str | None:
    if uid is None:
        return None
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return None


def bound_staff(app: Any, who: Platform) -> str | None:
    """The staff member bound to this identity, if any."""
    from .domain.staff import Login  # here, not at the top: the CLI edge imports OsLogin on every command

    login = app.find_by_id(Login.create_id(who.kind, who.name))
    return login.staff if login is not None else None


def resolve(app: Any, claimed: str | None, login: OsLogin | None) -> str:
    """The actor of this command: the staff member the platform identity is bound to, or the name
    given with `--as` where the rules above allow it; a refusal is recorded, then raised."""
    access = app.access
    claim = None if claimed is None or claimed.strip() in ANONYMOUS_CLAIMS else claimed
    who = platform(app, login)
    staff = bound_staff(app, who) if who is not None else None
    if staff is not None and claim in (None, staff):
        return staff
    if claim is None:
        return "cli"
    if who is not None and not who.custodian:
        if staff is not None:
            raise access.deny(staff, "identity", f"--as {claim}",
                              f"you are signed in as {who}, which is staff {staff}: --as may only name {staff}, "
                              f"not {claim}", field="actor")
        if access.enforced():
            raise access.deny(claim, "identity", f"--as {claim}",
                              f"{who} is not bound to any staff member, so it may not act as {claim}: an admin "
                              f"binds it (huifang staff bind STAFF_ID {who.option} {who.name}); --as is only "
                              f"for setup mode and the store's custodian", field="actor")
    if access.enforced():
        access.registered(claim, "identity", f"--as {claim}")
    return claim


# -- PostgreSQL least privilege ------------------------------------------------------------------------
EVENTS = "huifang_events"  # eventsourcing's table for the application named "huifang"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_statements(schema: str, staff_role: str = "huifang_staff", erasure_role: str = "huifang_erasure") -> list[str]:
    """The SQL that gives a PostgreSQL store least-privilege roles (G8), run by the store's owner.

    Staff login roles join `staff_role`: they read everything, write the views (derived data every
    command refreshes), append to the log, its hash chain and the subject keys, and can neither
    UPDATE nor DELETE any of those, nor create or alter anything. Admins who erase subjects (G10)
    also join `erasure_role`, which may overwrite a subject's wrapped key and nothing else."""
    from .audit.postgres_recorder import LOCK_FUNCTION  # psycopg: only for this command
    from .audit.recorders import CHAIN, HEAD, KEYS

    s, staff, erasure = _ident(schema), _ident(staff_role), _ident(erasure_role)
    append_only = ", ".join(f"{s}.{_ident(t)}" for t in (EVENTS, CHAIN, KEYS))
    lock = f"{s}.{_ident(LOCK_FUNCTION)}"
    return [
        "-- huifang least-privilege roles (G8). Run as the store's owner (the role that ran `huifang init`),",
        "-- after init and again after enabling a plugin or upgrading huifang; running it twice is harmless.",
        *(f"DO $$ BEGIN CREATE ROLE {r} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
          for r in (staff, erasure)),
        f"GRANT USAGE ON SCHEMA {s} TO {staff};",
        "-- the views: derived from the log (`huifang projections rebuild`), refreshed by every command",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {staff};",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {staff};",
        "-- the log, its hash chain and the subject keys: read and append, never change or remove",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {append_only} FROM {staff};",
        "-- the server attests who appended each record: a column only it fills in (staff may insert the",
        "-- other columns only), to compare with the record's actor; earlier records show the owner",
        f"ALTER TABLE {s}.{_ident(EVENTS)} ADD COLUMN IF NOT EXISTS inserted_by text NOT NULL DEFAULT session_user;",
        f"REVOKE INSERT ON {s}.{_ident(EVENTS)} FROM {staff};",
        f"GRANT INSERT (originator_id, originator_version, topic, state) ON {s}.{_ident(EVENTS)} TO {staff};",
        "-- the high-water mark: one sealed row every writer moves forward (`audit verify` checks it)",
        f"REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON {s}.{_ident(HEAD)} FROM {staff};",
        "-- writers serialise on the log's EXCLUSIVE lock, which PostgreSQL grants only with UPDATE or",
        "-- DELETE on the table: this function of the owner takes it for them (until their commit)",
        f"CREATE OR REPLACE FUNCTION {lock}() RETURNS void LANGUAGE plpgsql SECURITY DEFINER "
        f"SET search_path = pg_catalog, pg_temp AS $$ BEGIN LOCK TABLE {s}.{_ident(EVENTS)} IN EXCLUSIVE MODE; "
        f"END $$;",
        f"REVOKE ALL ON FUNCTION {lock}() FROM PUBLIC;",
        f"GRANT EXECUTE ON FUNCTION {lock}() TO {staff};",
        "-- erasure (G10): overwrite a subject's wrapped key, nothing else",
        f"GRANT UPDATE (wrapped, erased) ON {s}.{_ident(KEYS)} TO {erasure};",
        "-- then one login role per person, bound to their staff record, e.g.:",
        f"--   CREATE ROLE n1 LOGIN PASSWORD '...' IN ROLE {staff};  -- an admin who erases: IN ROLE {staff}, {erasure}",
        "--   huifang --db 'postgresql://OWNER:PW@HOST/DB?schema=...' --as ADMIN staff bind n1 --db-role n1",
    ]
