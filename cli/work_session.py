"""The workspace's way to the store (`huifang work`, cli/workspace.py): the acting staff member's
work list, call sheets, attempts, survey and tickets through the application's use cases, as the
plain commands run them — the same refusals, the same events, every read of personal data recorded
(G8). No Textual here: the workspace only draws what this returns."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from .state import State
from .survey_form import Field, Form, choice_field, followup_survey

POLL_SECONDS = 2.0  # how often the workspace looks for changes by `tick` or other operators


class Session:
    """The workspace's access to the store: one acting staff member, each action at its own instant."""

    def __init__(self, state: State):
        self.state = state
        self.app: Any = state.app()
        self.actor = state.actor

    @contextlib.contextmanager
    def moment(self) -> Iterator[None]:
        """Each action at its own instant: --now as given, else the system clock when it is taken."""
        from huifang.core import clock

        if self.state.now_given:
            with clock.at(self.state.now, clock.NOW_OPTION):
                yield
        else:
            with clock.at(clock.wall_clock(), clock.SYSTEM_CLOCK):
                yield

    def staff_name(self) -> str:
        staff = self.app.find_staff(self.actor)
        return f"{staff.name} ({self.actor})" if staff is not None else self.actor

    def head(self) -> int:
        """The event log's head: it moves whenever anyone (`tick`, another operator) writes."""
        return int(self.app.recorder.max_notification_id() or 0)

    def queue(self) -> list[dict[str, Any]]:
        """The actor's work list as `huifang queue` shows it (their own follow-ups; everyone's for
        the anonymous setup-mode `cli`), each row with the subject's name and masked number where the
        actor may read them (a recorded read, G8; once a day per subject, core/audit/reads.py)."""
        from huifang.core import clock, humantime, queries
        from huifang.projections.people import list_people

        from .queue import whose

        with self.moment():
            rows: list[dict[str, Any]] = queries.queue(self.app, whose(self.app, self.actor, None, False, False),
                                                       limit=0)
            people = list_people(self.app, self.actor, [r["subject"] for r in rows], "queue", "work") if rows else {}
            now, tz = clock.now(), clock.zone(self.app.config.huifang.timezone)
        for r in rows:
            who = people.get(r["subject"], {})
            r.update(name=who.get("name"), phone=who.get("phone"),
                     due_text=humantime.due_text(datetime.fromisoformat(r["due"]), now, tz))
        return rows

    def sheet(self, code: str) -> Any:
        """The call sheet of one follow-up (projections/callsheet.py), as `huifang show` builds it: a
        recorded read of the subject's data (G8)."""
        from huifang.projections.callsheet import build_call_sheet

        with self.moment():
            return build_call_sheet(self.app, code, actor=self.actor)

    def outcome_form(self) -> Form:
        from huifang.core.contract import OUTCOMES

        return Form("记录尝试 (attempt)", [choice_field("outcome", "结果 (outcome)", "outcome", OUTCOMES)])

    def attempt(self, code: str, channel: str, outcome: str) -> list[str]:
        with self.moment():
            _fu, messages = self.app.record_attempt(code, channel, outcome, actor=self.actor)
        return list(messages)

    def survey(self, code: str) -> Form:
        with self.moment():
            return followup_survey(self.app, code, self.actor)

    def complete(self, code: str, answers: dict[str, Any]) -> list[str]:
        with self.moment():
            _fu, messages = self.app.complete(code, answers, actor=self.actor)
        return list(messages)

    def ticket_form(self, code: str) -> Form:
        from huifang.core.domain import FollowUp
        from huifang.core.usecases.tickets import SEVERITIES

        department = self.app.load(FollowUp, code, "follow-up").department
        return Form("开问题件 (ticket, G12)", [
            Field("category", "类别 (category)", required=True),
            Field("department", "科室/部门 (department)", required=True, default=department or None),
            choice_field("severity", "严重程度 (severity)", "severity", SEVERITIES, default="1"),
            Field("note", "说明 (note)"),
        ])

    def open_ticket(self, code: str, values: dict[str, Any]) -> list[str]:
        with self.moment():
            t = self.app.open_ticket(code, values["category"], values["department"], values["severity"],
                                     values.get("note") or "", actor=self.actor)
        return [f"问题件 {t.code}（{t.department}，负责人 {t.owner or '-'}）"]
