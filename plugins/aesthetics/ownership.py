"""A5 responsibility (001 管理原则): the outpatient assistant (门诊医助) is first responsible; clients who
never came belong to the online consultant (电网咨询) or the member specialist (会员专员); emotional care
is finally executed by the member centre (会员中心) when the clinic names its desk. The steps the curve
document names a role for (001 整形医院回访体系) keep that role: the nurse the day before stitch removal,
the consultant at day 7–15 and day 30."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .settings import AestheticsSettings

# visit type -> (attribute naming the curve's person, role label); first present attribute wins
CURVE_ROLE: dict[str, tuple[tuple[str, ...], str]] = {
    "not_visited": (("member_specialist", "consultant"), "online_consultant"),
    "not_purchased": (("consultant",), "consultant"),
    "stitch_reminder": (("nurse", "assistant"), "nurse"),
    "recovery_care": (("consultant",), "consultant"),
    "recheck_invite": (("consultant",), "consultant"),
    "experience_first": (("specialist", "member_specialist"), "member_specialist"),
    "experience_second": (("specialist", "member_specialist"), "member_specialist"),
    "membership_rights": (("member_specialist",), "member_specialist"),
    "activity": (("owner",), "activity_owner"),
}
EMOTIONAL = ("recovery_care", "treatment_care")


def owner_for(visit_type: str, attrs: dict[str, Any], settings: AestheticsSettings) -> tuple[str | None, str]:
    """(staff id, role) owning a follow-up of this visit type."""
    if visit_type in EMOTIONAL:
        centre = attrs.get("member_specialist") or settings.member_centre
        if centre:
            return centre, "member_centre"
    names, role = CURVE_ROLE.get(visit_type, (("assistant",), "assistant"))
    for n in names:
        if attrs.get(n):
            return attrs[n], role if n != "assistant" else "assistant"
    if visit_type in ("experience_first", "experience_second", "membership_rights") and settings.member_centre:
        return settings.member_centre, "member_centre"
    if attrs.get("assistant"):
        return attrs["assistant"], "assistant"
    return None, role
