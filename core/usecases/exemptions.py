"""F6/G7: what may close a follow-up as exempt (not lost, not due) instead of following it up.

G7 lets a subject opt out of follow-up altogether only for insurance, with a statement signed at
purchase (F6, 004 §4 art.9(四)); every other follow-up is done, or closed lost with reason `refused`
when the subject refuses it (G14; G15 takes it out of the success-rate denominator). Each visit type
says so (contract.VisitType.exemption): `trigger`, only the statement signed with the service event
itself and recorded on its trigger (the kind's `exemption_attribute`: finance's new-policy callback);
`subject`, a signed statement on the subject's file (no shipped plugin; the engine keeps it for a
plugin whose rules allow it); `never`, nothing — the default, and the mode of a visit type the plugins
do not declare (the engine's second follow-ups: G12's check with the subject is never waived)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..contract import TriggerInfo
from ..domain import FollowUp, Subject, Trigger
from ..errors import HuifangError, Refused

if TYPE_CHECKING:
    from ..services import App


def mode(app: App, plugin: str, visit_type: str) -> str:
    vt = app.registry.visit_type(plugin, visit_type)
    return vt.exemption if vt is not None else "never"


def _attribute(app: App, kind: str) -> str | None:
    try:
        return app.registry.resolve_kind(kind).spec.exemption_attribute
    except HuifangError:
        return None


def _on_trigger(app: App, kind: str, attributes: dict[str, Any]) -> str | None:
    """The statement recorded on a trigger (its plaintext), or None."""
    attr = _attribute(app, kind)
    value = app.keyring.reveal_all(attributes).get(attr) if attr else None
    return str(value).strip() or None if value else None


def allowed(app: App) -> str:
    """What the enabled plugins let a signed statement exempt, for a refusal's message (G7)."""
    reg = app.registry
    on_trigger = sorted(f"{p}.{n}" for (p, n), vt in reg.visit_types.items() if vt.exemption == "trigger")
    on_file = sorted(f"{p}.{n}" for (p, n), vt in reg.visit_types.items() if vt.exemption == "subject")
    where = sorted(f"{k.qualified} --attr {k.spec.exemption_attribute}=…"
                   for k in reg.kinds.values() if k.spec.exemption_attribute)
    parts: list[str] = []
    if on_trigger:
        parts.append(f"{', '.join(on_trigger)} follow-ups, by the statement signed with the service event and "
                     f"recorded on its trigger" + (f" ({'; '.join(where)})" if where else ""))
    if on_file:
        parts.append(f"{', '.join(on_file)} follow-ups, by a statement on the subject's file")
    return " and ".join(parts) if parts else "follow-ups a plugin allows (none of the enabled plugins does)"


REFUSING = "a subject who refuses the follow-up is closed --lost refused (G7, G14)"


def at_planning(app: App, trigger: TriggerInfo, visit_type: str, subj: Subject) -> str | None:
    """The closing reason when a newly planned follow-up is exempt from the start, else None."""
    m = mode(app, trigger.plugin, visit_type)
    if m == "subject":
        return f"signed statement: {app.keyring.reveal(subj.exemption_note)}" if subj.exempt else None
    if m == "trigger":
        statement = _on_trigger(app, trigger.kind, trigger.attributes)
        return f"signed statement at purchase: {statement}" if statement else None
    return None


def by_subject(app: App, fu: FollowUp) -> bool:
    """Whether a statement on the subject's file exempts this follow-up (`subject exempt`)."""
    return mode(app, fu.plugin, fu.visit_type) == "subject"


def check_on_file(app: App, subject: str, open_followups: list[FollowUp]) -> None:
    """`subject exempt`: refused (F6/G7) when the statement on the subject's file could exempt nothing —
    no visit type of the enabled plugins takes one, and none of the subject's open follow-ups does."""
    if any(by_subject(app, fu) for fu in open_followups):
        return
    if any(vt.exemption == "subject" for vt in app.registry.visit_types.values()):
        return
    raise Refused(f"F6: only {allowed(app)}, may be exempted, not by a statement on {subject}'s file; {REFUSING}",
                  field="statement")


def at_close(app: App, fu: FollowUp) -> str | None:
    """`close --exempt`: the closing reason when the statement must be on the trigger; None when the
    subject's file decides (the caller's checks). Refused for a visit type that is never exempted or
    a trigger without its statement (an ad-hoc statement does not exempt it)."""
    m = mode(app, fu.plugin, fu.visit_type)
    if m == "never":
        raise Refused(f"F6: {fu.visit_type} follow-ups cannot be exempted (only {allowed(app)}); {REFUSING}",
                      field="exempt")
    if m != "trigger":
        return None
    trig = app.find(Trigger, fu.trigger)
    statement = _on_trigger(app, fu.trigger_kind, trig.attributes) if trig is not None else None
    if statement is None:
        attr = _attribute(app, fu.trigger_kind) or "the statement"
        raise Refused(f"F6: {fu.code} is exempt only by the statement signed with the event itself and recorded on "
                      f"trigger {fu.trigger} (--attr {attr}=…, or `huifang trigger amend`); an ad-hoc statement "
                      f"does not exempt it", field="exempt")
    return f"signed statement at purchase: {statement}"
