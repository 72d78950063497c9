"""The application as the use cases see it: a structural type (`App`) that `HuifangApp` satisfies.

The use-case modules (core/usecases/, campaigns.py, subject_flags.py) are called BY the application
and type their `app` argument with this Protocol, not with HuifangApp, so the import graph runs one
way: application -> use cases -> services. mypy checks that HuifangApp conforms wherever it passes
itself to a use case.
"""
from __future__ import annotations

from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import Repository
from eventsourcing.persistence import ApplicationRecorder, EventStore, Mapper

from .access import Access
from .calendar import BusinessCalendar
from .config import Config
from .contract import FollowUpInfo, Settings, SurveyTemplate
from .domain import FollowUp, Staff
from .ports import History, ReadSide
from .privacy import KeyRing
from .registry import Registry
from .scheduling import Scheduler

A = TypeVar("A")


class App(Protocol):
    """The services every command needs: the store, the rules' settings and the read side."""

    config: Config
    registry: Registry
    keyring: KeyRing
    access: Access
    calendar: BusinessCalendar  # the official calendar (G6); replaced by a calendar import

    # -- the event store (eventsourcing's Application) -------------------------------------------
    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def mapper(self) -> Mapper[UUID]: ...

    @property
    def events(self) -> EventStore[UUID]: ...

    @property
    def repository(self) -> Repository[UUID]: ...

    def commit(self, *aggregates: Any) -> None:
        """Save a command's aggregates atomically (all or nothing)."""
        ...

    def load(self, cls: type[A], code: str, what: str, field: str | None = None) -> A: ...

    def find(self, cls: type[A], code: str) -> A | None: ...

    def find_by_id(self, uid: Any) -> Any | None: ...

    def actor_staff(self, actor: str) -> Staff | None: ...

    # -- rules and the read side -----------------------------------------------------------------
    def settings(self, plugin: str) -> Settings: ...

    def scheduler(self, plugin: str, tz: str | None) -> Scheduler: ...

    def ladder(self, code: str) -> list[str]: ...

    def survey(self, fu: FollowUp) -> SurveyTemplate | None: ...

    def info(self, fu: FollowUp) -> FollowUpInfo: ...

    @property
    def read_side(self) -> ReadSide: ...

    @property
    def history(self) -> History: ...
