"""The overdue lock (超时锁定, A4) as an engine capability: `tick` locks the owner of a follow-up
past its window; who may unlock depends on how long it was overdue — one level up the ladder, two
levels up, or (hard lock) only with an approved rectification report. Lock and unlock are events."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain import Staff
from ..errors import HuifangError, Refused

if TYPE_CHECKING:
    from ..services import App


def unlock(app: App, code: str, report: str | None = None, actor: str = "cli") -> Staff:
    app.access.registered(actor, "staff.unlock", f"staff {code}")  # G8: an unregistered name, recorded
    staff = app.load(Staff, code, "staff")
    if not staff.lock:
        raise Refused(f"{code} is not locked")
    level = staff.lock["level"]
    app.access.require(actor, "staff.unlock", target_staff=staff, target=f"staff {code}")
    if actor not in unlock_ladder(app, staff):  # A4's ladder, recorded like every refusal (G8)
        raise app.access.deny(actor, "staff.unlock", f"staff {code}",
                              f"A4: {actor} cannot unlock {code} (level {level}): {unlockers(app, staff)}")
    report_doc = None
    if level >= 3:
        report_doc = rectification_report(staff, report, actor)
        staff.approve_rectification(report=report_doc, actor=actor)
    staff.unlock(level=level, report=report_doc, actor=actor)
    app.commit(staff)
    return staff


def unlock_ladder(app: App, staff: Staff) -> list[str]:
    """Who may unlock: one level up or above (level 1), two levels up or above (2 and hard lock 3).
    A ladder too short for the level leaves its top to decide."""
    level = staff.lock["level"] if staff.lock else 0
    chain = app.ladder(staff.code)
    skip = 0 if level <= 1 else 1
    return chain[skip:] if len(chain) > skip else chain[-1:]


def unlockers(app: App, staff: Staff) -> str:
    """Who may unlock `staff`, and how, in words."""
    lock = staff.lock or {}
    level = lock.get("level", 0)
    need = unlock_ladder(app, staff)
    names = " or ".join(need[:2]) if need else "a manager"
    if level >= 3:
        return (f"hard lock: an approved rectification report is needed "
                f"(huifang --as {need[0] if need else 'MANAGER'} unlock {staff.code} --report FILE; the report "
                f"names {', '.join(lock['followups'][:5])}; approved by {names}, two levels up)")
    return f"unlock needs {names} ({'one level' if level == 1 else 'two levels'} up)"


def rectification_report(staff: Staff, report: str | None, actor: str) -> dict[str, Any]:
    """Hard lock: the rectification report (整改报告) is a text file that names every overdue
    follow-up of the lock; unlocking with it is its approval by `actor` (two levels up), recorded
    as a RectificationApproved event with the file's SHA-256."""
    lock = staff.lock or {}
    if not report:
        raise Refused(f"A4: {staff.code} is hard-locked ({lock['days_overdue']} days overdue): "
                      f"pass --report FILE with the rectification report to approve")
    p = Path(report)
    if not p.is_file():
        raise HuifangError(f"file '{report}' does not exist", field="report")
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise HuifangError(f"'{p.name}' is not UTF-8 text; give the report as a text file", field="report") from None
    if not text.strip():
        raise HuifangError(f"'{p.name}' is empty", field="report")
    missing = [f for f in lock["followups"] if f not in text]
    if missing:
        raise Refused(f"A4: the rectification report does not address {', '.join(missing[:5])}"
                      f"{' …' if len(missing) > 5 else ''}: name every overdue follow-up of the lock")
    return {"file": p.name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
            "approved_by": actor, "followups": list(lock["followups"]), "level": lock["level"],
            "days_overdue": lock["days_overdue"]}
