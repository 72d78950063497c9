"""User-facing errors: one line, naming the field and the fix (CLI exit code 2)."""


class HuifangError(Exception):
    """A refused command. The message is shown as-is on one line; nothing was written."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class NotFound(HuifangError):
    pass


class Refused(HuifangError):
    """A rule forbids the command (lifecycle, G5, G7, G9, lock ladder ...)."""


class ConflictError(HuifangError):
    """Optimistic-concurrency conflict: someone else changed the same record first."""


class ConfigError(HuifangError):
    pass
