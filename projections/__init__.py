"""The read side: views fed from the event log, reports over them, and `open_app`, which composes
an application with its views (core/ports.ReadSide)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huifang.core.application import HuifangApp
    from huifang.core.config import Config
    from huifang.core.registry import Registry


def open_app(db: str | None = None, config: Config | None = None, *, registry: Registry | None = None,
             extra_plugins: dict[str, Any] | None = None) -> HuifangApp:
    """An application on the store `db` (SQLite path or postgresql:// URL) with its views; the views'
    machinery (SQLAlchemy) loads only here, not with the package."""
    from .read_side import open_app as compose

    return compose(db, config, registry=registry, extra_plugins=extra_plugins)
