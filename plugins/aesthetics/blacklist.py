"""A9 blacklist for abusive clients (无礼多事): a flag on the client's file (attributes `blacklisted`,
`blacklist_reason`); the client's open marketing follow-ups are cancelled in the same commit, care
follow-ups continue. Plans and the campaign policy read the flag through the client's grade."""
from __future__ import annotations

from typing import Any

from huifang.core.plugin_api import OPEN, History, PluginError

from .curves import NAME, is_marketing


def open_marketing(history: History, subject: str) -> list[str]:
    """The client's open marketing follow-ups of this plugin (A9 cancels them)."""
    return [r["code"] for r in history.followups(subject)
            if r["plugin"] == NAME and r["status"] in OPEN and is_marketing(r["visit_type"])]


def set_blacklist(app: Any, code: str, reason: str | None, remove: bool, actor: str) -> list[str]:
    """Put a client on the blacklist (or take them off); returns the follow-ups cancelled."""
    if remove:
        return list(app.set_subject_attributes(code, {"blacklisted": False, "blacklist_reason": None}, actor=actor))
    why = (reason or "").strip()
    if not why:
        raise PluginError("say why the client is blacklisted (A9: e.g. abusive)", field="reason")
    return list(app.set_subject_attributes(code, {"blacklisted": True, "blacklist_reason": why}, actor=actor,
                                           cancel=open_marketing(app.history, code),
                                           reason=f"A9: client blacklisted ({why})"))
