"""Shared set-up for the medical plugin's tests (no tests here): an application with only the medical
plugin enabled, a ward with a head nurse and responsible nurses, and one-line helpers to run commands
at a given instant on the real calendar."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from huifang.core import clock
from huifang.core.application import HuifangApp
from huifang.core.config import Config
from huifang.projections import open_app


def at(text: str) -> Any:
    return clock.at(datetime.fromisoformat(text))


def make_app(db: str, **settings: Any) -> HuifangApp:
    cfg = {"huifang": {"plugins": ["medical"]}, "plugins": {"medical": settings} if settings else {}}
    return open_app(db, Config.model_validate(cfg))


def ward(app: HuifangApp, nurses: tuple[str, ...] = ("n1", "n2", "n3"), dept: str = "cardiology",
         when: str = "2026-06-01T08:00+08:00") -> None:
    with at(when):
        app.add_staff("dir", "护理部主任", "manager", "nursing")
        app.add_staff("hn", "护士长", "supervisor", dept, "dir")
        for n in nurses:
            app.add_staff(n, f"护士 {n}", "agent", dept, "hn")


def patient(app: HuifangApp, sid: str, when: str = "2026-06-01T08:00+08:00") -> None:
    with at(when):
        app.add_subject(sid, f"患者 {sid}", ["13800000000"])


def trigger(app: HuifangApp, kind: str, sid: str, tid: str, when: str, **attrs: Any) -> tuple[Any, list, Any]:
    with at(when):
        return app.receive_trigger(f"medical.{kind}", sid, attrs, trigger_id=tid)


def discharge(app: HuifangApp, sid: str, tid: str, when: str, nurse: str = "n1", diagnosis: str = "CHD",
              **extra: Any) -> list:
    _, fus, _ = trigger(app, "discharge", sid, tid, when, department="cardiology", diagnosis=diagnosis,
                        responsible_nurse=nurse, attending_doctor="dr1", **extra)
    return fus


def reach(app: HuifangApp, code: str, when: str, answers: dict[str, Any], actor: str = "n1") -> tuple[Any, list]:
    """One reached call and its survey, at `when`."""
    with at(when):
        app.record_attempt(code, "phone", "reached", actor=actor)
        return app.complete(code, answers, actor=actor)


def fail(app: HuifangApp, code: str, when: str, outcome: str = "no_answer", actor: str = "n1") -> list[str]:
    with at(when):
        return app.record_attempt(code, "phone", outcome, actor=actor)[1]


def load(app: HuifangApp, code: str) -> Any:
    from huifang.core.domain import FollowUp

    return app.load(FollowUp, code, "follow-up")


def local(dt: datetime) -> str:
    return clock.iso(dt, "Asia/Shanghai")


def followups_of(app: HuifangApp, tid: str) -> list[str]:
    from huifang.core.domain import Trigger

    return list(app.load(Trigger, tid, "trigger").followups)
