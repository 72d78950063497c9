"""User-facing errors: one line, naming the field and the fix (CLI exit code 2).

The domain names the *field* an error is about (`field="name"`, `field="answers.satisfaction"`:
the answers field, key satisfaction); each front end words it its own way — the CLI as the option
to fix (`--name: …`, `--answer satisfaction: …`)."""
from __future__ import annotations


def first_line(e: BaseException) -> str:
    """An error's first line, shortened: what a one-line message quotes of a library's error."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]


class HuifangError(Exception):
    """A refused command. The message is shown as-is on one line; nothing was written."""

    exit_code = 2

    def __init__(self, message: str, field: str | None = None):
        self.message = " ".join(str(message).split())
        self.field = field
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class NotFound(HuifangError):
    pass


class Refused(HuifangError):
    """A rule forbids the command (lifecycle, G5, G7, G9, lock ladder ...)."""


class ConflictError(HuifangError):
    """Optimistic-concurrency conflict: someone else changed the same record first."""


class ConfigError(HuifangError):
    pass


class StoreUnavailable(HuifangError):
    """The database server is away (restarting, connection lost, lock wait timed out): worth retrying
    once it is back (HTTP 503). Raised around a save, nothing of the command was written; a read that
    fails after a save says only to retry (a re-sent trigger or import is recognised)."""

    def __init__(self, cause: BaseException, nothing_written: bool = True):
        super().__init__(f"the store is unavailable ({first_line(cause)}); "
                         + ("nothing was written: " if nothing_written else "") + "retry when it is back")

    @classmethod
    def behind(cls, e: BaseException) -> StoreUnavailable | None:
        """The error for a PostgreSQL connection failure (server restarting, connection dropped,
        serialization or lock failure) behind `e`, however a layer wrapped it; None for anything
        else. For failures outside a save (a read): the front ends say retry, not "internal error".
        Found by class name, so psycopg stays unimported."""
        seen: set[int] = set()
        cur: BaseException | None = e
        while cur is not None and id(cur) not in seen:
            seen.add(id(cur))
            if any(c.__module__.startswith("psycopg") and c.__name__ in ("OperationalError", "InterfaceError")
                   for c in type(cur).__mro__):
                return cls(cur, nothing_written=False)
            orig = getattr(cur, "orig", None)  # SQLAlchemy's DBAPIError keeps the driver's error here
            cur = orig if isinstance(orig, BaseException) else cur.__cause__ or cur.__context__
        return None
