"""The chaining application recorder for PostgreSQL stores (see recorders.py).

Apart from recorders.py because it imports psycopg (about a quarter of a second of start-up): it is
loaded only when eventsourcing resolves APPLICATION_RECORDER_TOPIC for a PostgreSQL store.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from .recorders import CHAIN, KEYS, ChainMixin


class ChainedPostgresRecorder(ChainMixin, PostgresApplicationRecorder):
    POS = "notification_id"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._init_chain()
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (last_position bigint PRIMARY KEY, first_position bigint NOT NULL, "
            "prev_hash bytea NOT NULL, entries bytea NOT NULL, head bytea NOT NULL, seal bytea)").format(
            schema, Identifier(CHAIN)))
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (subject text PRIMARY KEY, wrapped bytea, "
            "erased integer NOT NULL DEFAULT 0)").format(schema, Identifier(KEYS)))

    def q(self, sql: str) -> Any:
        s = self.datastore.schema
        text = sql.replace("?", "%s").replace("{chain}", "{0}").replace("{keys}", "{1}").replace("{events}", "{2}")
        return SQL(text).format(Identifier(s, CHAIN), Identifier(s, KEYS), Identifier(s, self.events_table_name))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        def go() -> Sequence[int] | None:
            ids: Sequence[int] | None = None
            with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                if stored_events:
                    self._insert_stored_events(curs, stored_events, **kwargs)  # takes the table lock
                    ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
                elif self.key_writes or self.erasures:
                    self._lock_table(curs)
                self._after_insert(curs, ids, stored_events)
            return ids

        return self._around_insert(go)

    def _read(self) -> Any:
        return self.datastore.transaction(commit=False)
