"""The application's commands, one module per part of the rulebook's vocabulary (RULES.md):

- staff.py      registering staff; the reporting ladder (G9, A4, escalation)
- subjects.py   the subject file (G1), consent and opt-outs (G7), signed exemptions (F6)
- plans.py      triggers and the follow-ups their plugin plans (G6, G9)
- followups.py  work on a follow-up: attempts (G5, G6, G11), completion (G4), closing as lost
                (G14), reassigning
- tickets.py    tickets and the second follow-up (G12, G13)
- reactions.py  the reaction interpreter: what a plugin answers to an attempt or a completion
- locks.py      the overdue lock and its unlock ladder (A4)
- calendar.py   the official calendar and re-planning provisional deadlines (G6)

Each command loads what it needs, checks the rules and saves every changed aggregate in ONE
`app.commit(...)`, so it is all-or-nothing. HuifangApp exposes them as methods.
"""
from __future__ import annotations

from ..errors import HuifangError


def need_code(code: str, what: str | None = None, field: str | None = None) -> None:
    """An id: 1-120 characters without spaces. `what` names a positional argument, `field` an option."""
    if not code or not code.strip() or any(c.isspace() for c in code) or len(code) > 120:
        message = f"'{code}' must be 1-120 characters without spaces"
        raise HuifangError(f"{what}: {message}" if what else message, field=field)
