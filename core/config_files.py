"""Where the deployment's huifang.toml is, and its raw TOML: stdlib only, so the read-only fast path of
`huifang queue` finds the same file as every other command without loading pydantic (core/config.py
validates it)."""
from __future__ import annotations

import sqlite3
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, HuifangError

DEFAULT_FILE = "huifang.toml"
SETTINGS_TABLE = "huifang_settings"  # name -> value: the config path recorded at init
# how the config file was found, in the order looked at
OPTION, ENV, STORE, CWD, DEFAULTS = "--config", "HUIFANG_CONFIG", "store", "current directory", "defaults"


@dataclass(frozen=True)
class ConfigLocation:
    path: str | None  # None: no file, every setting at its default
    how: str  # OPTION | ENV | STORE | CWD | DEFAULTS

    def describe(self) -> str:
        if self.path is None:
            return "defaults (no huifang.toml: not given, none recorded at init, none in the current directory)"
        return f"{self.path} ({'recorded at init' if self.how == STORE else self.how})"


def locate_config(path: str | Path | None, how: str | None = None, db: str | None = None) -> ConfigLocation:
    """Where the deployment's config is: --config, else HUIFANG_CONFIG (`how` says which was given),
    else the file recorded in the store at `init` (so a command run from another folder plans with
    the same settings), else ./huifang.toml, else the defaults."""
    if path is not None:
        return ConfigLocation(str(path), how or OPTION)
    recorded = recorded_config(db)  # db None: the default store file
    if recorded is not None:
        return ConfigLocation(recorded, STORE)
    if Path(DEFAULT_FILE).exists():
        return ConfigLocation(DEFAULT_FILE, CWD)
    return ConfigLocation(None, DEFAULTS)


def read_config_data(where: ConfigLocation) -> dict[str, Any]:
    """The TOML of the file (empty for the defaults)."""
    if where.path is None:
        return {}
    p = Path(where.path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if where.how == STORE:
            raise ConfigError(f"--config: the config recorded at init, '{p}', does not exist: restore it or "
                              f"pass --config FILE") from None
        raise ConfigError(f"--config: file '{p}' does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p.name}: not valid TOML ({e})") from None


def recorded_config(db: str | None) -> str | None:
    """The config path recorded in the store at `init` (None: none, or no such store yet)."""
    from .store import Store

    try:
        store = Store.parse(db)
    except HuifangError:  # not a store URL: the command reports that itself
        return None
    query = f"SELECT value FROM {SETTINGS_TABLE} WHERE name = 'config_path'"
    if store.kind == "sqlite":
        file = Path(store.path or "")
        if not file.is_file():
            return None
        try:
            con = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            return None
        try:
            row = con.execute(query).fetchone()
        except sqlite3.Error:
            return None
        finally:
            con.close()
        return str(row[0]) if row else None
    import psycopg

    try:
        with psycopg.connect(**_pg_params(store)) as pg:
            row = pg.execute(query.replace(SETTINGS_TABLE, _pg_table(store))).fetchone()
    except psycopg.OperationalError as e:
        # the server is away, or refuses the role or database: said now, with the server's own reason,
        # not after the pool's wait, and never by planning with the defaults instead of the recorded file
        raise store.unopened(e) from None
    except psycopg.Error:  # no settings table yet: a store before its `init`
        return None
    return str(row[0]) if row else None


def record_config(db: str | None, path: str) -> None:
    """`init`: remember the config file (absolute path) in the store."""
    from .store import Store

    store = Store.parse(db)
    absolute = str(Path(path).expanduser().resolve())
    if store.kind == "sqlite":
        con = sqlite3.connect(store.path or "", timeout=30)
        try:
            with con:
                con.execute(f"CREATE TABLE IF NOT EXISTS {SETTINGS_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
                con.execute(f"INSERT OR REPLACE INTO {SETTINGS_TABLE} (name, value) VALUES ('config_path', ?)",
                            (absolute,))
        finally:
            con.close()
        return
    import psycopg

    table = _pg_table(store)
    with psycopg.connect(**_pg_params(store)) as pg:
        pg.execute(f"CREATE TABLE IF NOT EXISTS {table} (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        pg.execute(f"INSERT INTO {table} (name, value) VALUES ('config_path', %s) "
                   f"ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value", (absolute,))


def _pg_params(store: Any) -> dict[str, Any]:
    return {"host": store.host, "port": store.port, "user": store.user or None, "password": store.password or None,
            "dbname": store.dbname, "connect_timeout": 5}


def _pg_table(store: Any) -> str:
    schema = (store.schema or "").replace('"', '""')
    return f'"{schema}".{SETTINGS_TABLE}' if store.schema else SETTINGS_TABLE
