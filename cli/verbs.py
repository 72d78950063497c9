"""Commands whose first argument may name a sibling verb instead (`invite list`, `trigger import FILE`):
no follow-up is called `list` and no trigger kind `import`, so the verb's own command parses the rest."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import click


class VerbCommand(click.Command):
    """VERBS: verb → a function returning its command (called only when the verb is used, so a verb's
    module is imported lazily); EPILOG: the lines `--help` ends with, naming the verbs."""

    VERBS: ClassVar[dict[str, Callable[[], click.Command]]] = {}
    EPILOG: ClassVar[tuple[str, ...]] = ()

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        load = self.VERBS.get(args[0]) if args else None
        if load is not None:
            return load().make_context(f"{info_name} {args[0]}", args[1:], parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.command is not self:
            return ctx.command.invoke(ctx)
        return super().invoke(ctx)

    def format_epilog(self, ctx: click.Context, formatter: Any) -> None:
        if self.EPILOG:
            formatter.write_paragraph()
            for line in self.EPILOG:
                formatter.write_text(line)
