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

from .recorders import CHAIN, HEAD, KEYS, ChainMixin, table_statements

# the owner's SECURITY DEFINER function taking the log's EXCLUSIVE lock for staff roles (G8; its SQL:
# core/identity.py grant_statements)
LOCK_FUNCTION = "huifang_lock_events"


class ChainedPostgresRecorder(ChainMixin, PostgresApplicationRecorder):
    POS = "notification_id"
    COMBINED_WRITE = True

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._init_chain()
        self.sql_create_statements.extend(self.q(s) for s in table_statements("postgres"))

    def q(self, sql: str) -> Any:
        s = self.datastore.schema
        text = (sql.replace("?", "%s").replace("{chain}", "{0}").replace("{keys}", "{1}").replace("{events}", "{2}")
                .replace("{head}", "{3}"))
        return SQL(text).format(Identifier(s, CHAIN), Identifier(s, KEYS), Identifier(s, self.events_table_name),
                                Identifier(s, HEAD))

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

    # -- least privilege (G8): staff login roles may neither create tables nor UPDATE the log -------
    _lock_function: Any = None  # SQL calling the owner's lock function, when this role must use it

    def create_table(self) -> None:
        """A staff login role (core/identity.py grant_statements) has no CREATE on the schema, and
        PostgreSQL refuses even CREATE ... IF NOT EXISTS of an existing table without it: such a role
        uses the tables as the store's owner made them. It cannot take the log's EXCLUSIVE lock either
        (that needs UPDATE or DELETE): it takes it through the owner's SECURITY DEFINER function."""
        schema = self.datastore.schema or "public"
        events = f'"{schema}"."{self.events_table_name}"'
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT has_schema_privilege(%s, 'CREATE') AS creates, to_regclass(%s) IS NOT NULL AS made, "
                         "CASE WHEN to_regclass(%s) IS NULL THEN true "
                         "ELSE has_table_privilege(to_regclass(%s), 'UPDATE') END AS updates",
                         (schema, events, events, events))
            row = curs.fetchone()
        if row is None or row["creates"] or not row["made"]:
            super().create_table()  # the owner (or a store not made yet: the server says why not)
        else:
            self.datastore.register_type_adapters()
        if row is not None and not row["updates"]:
            self._lock_function = SQL("SELECT {}.{}()").format(Identifier(schema), Identifier(LOCK_FUNCTION))

    def _lock_table(self, curs: Any) -> None:
        if self._lock_function is None:
            super()._lock_table(curs)
            return
        curs.execute(self.lock_table_statements[0])  # SET LOCAL lock_timeout
        curs.execute(self._lock_function)
