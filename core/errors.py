"""User-facing errors: one line, naming the field and the fix (CLI exit code 2).

The domain names the *field* an error is about (`field="name"`, `field="answers.satisfaction"`:
the answers field, key satisfaction); each front end words it its own way — the CLI as the option
to fix (`--name: …`, `--answer satisfaction: …`)."""
from __future__ import annotations


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
