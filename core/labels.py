"""Display labels of codes (zh_CN first, en), and reading a code back from what an operator types.

Codes are the stored, machine form (events, json, csv). Every code an operator or supervisor sees has
a label from the catalogue of whoever owns it: the engine's (gettext domain `huifang`, core/locale) or a
plugin's (its own domain and locale folder, declared by the hook `huifang_labels`). Msgids are the
English labels, so `en` needs no catalogue; `zh_CN` comes from the domain's .po file, compiled to .mo
by scripts/setup (scripts/i18n) — or compiled in memory when the .mo is missing or older than the .po,
so an editable checkout never falls back to English. A code without a label shows as the code itself.

The language of an invocation: `--lang` / HUIFANG_LANG, else `[huifang] lang` in huifang.toml, else
zh_CN. Plugins reach all of this through `huifang.core.plugin_api.i18n`.
"""
from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import HuifangError

LANGS = ("zh_CN", "en")
DEFAULT_LANG = "zh_CN"
_ALIASES = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh_hans": "zh_CN", "zh_hans_cn": "zh_CN", "cn": "zh_CN",
            "chinese": "zh_CN", "中文": "zh_CN", "en": "en", "english": "en"}

# The kinds of code that have labels. Engine-owned: outcome, channel, status, role, severity,
# satisfaction, lost_reason, qa_result, language, dissatisfaction_reason; plugin-owned: trigger_kind, visit_type, question, choice,
# category, department, report; both: column, section, plugin, choice (yes/no), attribute (a trigger
# attribute's key, shown as the call sheet's context: the engine labels the common ones).
KINDS = ("outcome", "channel", "status", "role", "severity", "satisfaction", "lost_reason", "qa_result",
         "language", "dissatisfaction_reason", "trigger_kind", "visit_type", "question", "choice", "category", "department", "column", "report",
         "section", "plugin", "attribute", "purpose")


def normalise_lang(text: str | None, field: str = "lang") -> str | None:
    """'zh', 'zh-CN', 'zh_CN.UTF-8' -> 'zh_CN'; 'en', 'en_GB' -> 'en'; None/'' -> None."""
    if text is None or not str(text).strip():
        return None
    raw = str(text).strip().split(".")[0].replace("-", "_").lower()
    lang = _ALIASES.get(raw) or _ALIASES.get(raw.split("_")[0])
    if lang is None:
        raise HuifangError(f"'{text}' is not a supported language; use one of {', '.join(LANGS)}", field=field)
    return lang


# -- the language of this invocation ------------------------------------------------------------------
_chosen: dict[str, str | None] = {"explicit": None, "configured": None}


def set_lang(lang: str | None) -> None:
    """The language asked for explicitly (--lang); None clears it (a new CLI invocation)."""
    _chosen["explicit"] = normalise_lang(lang)


def configure(lang: str | None) -> None:
    """The deployment's language (`[huifang] lang`), weaker than --lang and HUIFANG_LANG."""
    _chosen["configured"] = normalise_lang(lang)


def reset() -> None:
    _chosen["explicit"] = _chosen["configured"] = None


def current_lang() -> str:
    """--lang, else HUIFANG_LANG, else the config's `lang`, else zh_CN."""
    explicit = _chosen["explicit"]
    if explicit:
        return explicit
    try:
        env = normalise_lang(os.environ.get("HUIFANG_LANG"))
    except HuifangError:
        env = None
    return env or _chosen["configured"] or DEFAULT_LANG


def _lang(lang: str | None) -> str:
    return normalise_lang(lang) or current_lang() if lang else current_lang()


# -- catalogues ------------------------------------------------------------------------------------------
_CATALOGS: dict[tuple[str, str, str], _gettext.NullTranslations] = {}


def _compiled(po: Path) -> _gettext.NullTranslations:
    """A .po file compiled in memory (Babel): the .mo is missing or older than the .po."""
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


class Translator:
    """One gettext domain: English msgids in the code, a catalogue per language in
    `<localedir>/<lang>/LC_MESSAGES/<domain>.po` (and its compiled .mo).

    Calling it marks a msgid for `pybabel extract` and returns it unchanged (the English label);
    `gettext(msgid, lang)` translates."""

    def __init__(self, domain: str, localedir: str | Path):
        self.domain = domain
        self.localedir = Path(localedir)

    def __call__(self, msgid: str) -> str:
        return msgid

    def __repr__(self) -> str:
        return f"Translator({self.domain!r}, {str(self.localedir)!r})"

    def catalog(self, lang: str) -> _gettext.NullTranslations:
        key = (self.domain, str(self.localedir), lang)
        found = _CATALOGS.get(key)
        if found is None:
            folder = self.localedir / lang / "LC_MESSAGES"
            po, mo = folder / f"{self.domain}.po", folder / f"{self.domain}.mo"
            try:
                if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
                    with mo.open("rb") as f:
                        found = _gettext.GNUTranslations(f)
                elif po.exists():
                    found = _compiled(po)
                else:
                    found = _gettext.NullTranslations()
            except Exception:  # a broken catalogue shows the English msgids, never a crash
                found = _gettext.NullTranslations()
            _CATALOGS[key] = found
        return found

    def gettext(self, msgid: str, lang: str | None = None) -> str:
        lang = _lang(lang)
        if not msgid or lang == "en":
            return msgid
        return self.catalog(lang).gettext(msgid)

    def translated(self, msgid: str, lang: str) -> bool:
        """Whether the catalogue of `lang` holds a translation of msgid (not the msgid itself)."""
        return bool(msgid) and self.catalog(lang).gettext(msgid) != msgid


def domain(name: str, package_file: str | Path) -> Translator:
    """The Translator of a package's catalogue: `<package folder>/locale` (pass the package's __file__)."""
    return Translator(name, Path(package_file).resolve().parent / "locale")


class Labels:
    """The labels one owner (the engine or a plugin) declares: kind -> code -> English msgid, marked
    for extraction with the owner's Translator:

        _ = i18n.domain("huifang_medical", __file__)
        LABELS = i18n.Labels(_, visit_type={"discharge_first": _("Discharge follow-up")}, ...)

    Survey choices are looked up as `<question>.<choice>` first, then `<choice>`."""

    def __init__(self, translator: Translator, **kinds: Mapping[str, str]):
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ValueError(f"labels: unknown kind(s) {', '.join(unknown)}; kinds: {', '.join(KINDS)}")
        self.translator = translator
        self.kinds: dict[str, dict[str, str]] = {k: dict(v) for k, v in kinds.items()}

    def msgid(self, kind: str, code: str) -> str | None:
        return self.kinds.get(kind, {}).get(code)

    def get(self, kind: str, code: str, lang: str | None = None) -> str | None:
        msgid = self.msgid(kind, code)
        return None if msgid is None else self.translator.gettext(msgid, lang)

    def codes(self, kind: str) -> dict[str, str]:
        return dict(self.kinds.get(kind, {}))


# -- the owners' labels ------------------------------------------------------------------------------------
_PLUGINS: dict[str, Labels] = {}


def register(plugin: str, labels: Labels | None) -> None:
    """A plugin's labels (hook `huifang_labels`), registered by the plugin registry; None: it has none."""
    if labels is None:
        _PLUGINS.pop(plugin, None)
    elif isinstance(labels, Labels):
        _PLUGINS[plugin] = labels
    else:
        raise HuifangError(f"plugins: '{plugin}' huifang_labels must return plugin_api.i18n.Labels, "
                           f"not {type(labels).__name__}")


def plugin_labels(plugin: str) -> Labels | None:
    return _PLUGINS.get(plugin)


def _owners(plugin: str | None) -> list[Labels]:
    """Where a code is looked up: the named plugin, then the engine; without a plugin, the engine and
    then every plugin (a code one plugin labels is never read with another plugin's meaning)."""
    if plugin is not None:
        return [_PLUGINS[plugin], CORE] if plugin in _PLUGINS else [CORE]
    return [CORE, *_PLUGINS.values()]


_QUALIFIED = ("trigger_kind", "visit_type", "report", "section")


def _split(kind: str, code: str, plugin: str | None) -> tuple[str, str | None]:
    if plugin is None and kind in _QUALIFIED and "." in code:
        owner, bare = code.split(".", 1)
        if owner in _PLUGINS:
            return bare, owner
    return code, plugin


def _keys(kind: str, code: str) -> list[str]:
    if kind == "choice" and "." in code:  # question.choice, then the bare choice
        return [code, code.split(".", 1)[1]]
    return [code]


def find(kind: str, code: str, lang: str | None = None, plugin: str | None = None) -> str | None:
    """The label of a code, or None when no owner labels it."""
    bare, owner = _split(kind, code, plugin)
    for key in _keys(kind, bare):
        for labels in _owners(owner):
            found = labels.get(kind, key, lang)
            if found is not None:
                return found
    return None


def label(kind: str, code: Any, lang: str | None = None, plugin: str | None = None,
          default: str | None = None) -> str:
    """The display label of a code in `lang` (default: the invocation's language); a code nobody
    labels shows as `default`, else as itself; None as ""."""
    if code is None:
        return ""
    text = str(code)
    found = find(kind, text, lang, plugin)
    if found is not None:
        return found
    return default if default is not None else text


def labels_of(kind: str, code: str, plugin: str | None = None) -> list[str]:
    """Every label of a code (each language), for reading input back."""
    out: list[str] = []
    for lang in LANGS:
        found = find(kind, code, lang, plugin)
        if found and found not in out:
            out.append(found)
    return out


def text(msgid: str, lang: str | None = None, plugin: str | None = None) -> str:
    """A msgid of the engine's (or a plugin's) catalogue in `lang`: titles, chart axes, fixed words."""
    owner = _PLUGINS.get(plugin) if plugin else None
    if owner is not None:
        translated = owner.translator.gettext(msgid, lang)
        if translated != msgid or _lang(lang) == "en":
            return translated
    return CORE.translator.gettext(msgid, lang)


def _(msgid: str) -> str:
    """Marks an engine msgid for `pybabel extract`; translated where it is shown (`text`, `label`)."""
    return msgid


# -- reading a code back --------------------------------------------------------------------------------------
def _fold(s: str) -> str:
    return " ".join(str(s).split()).casefold().replace("_", " ").replace("-", " ")


def choices_text(options: Sequence[tuple[str, Sequence[str]]], lang: str | None = None) -> str:
    """'接通 (reached) | 无人接听 (no_answer) | …': the first label given per language, with the code."""
    parts = []
    for code, names in options:
        shown = names[0] if names else code
        parts.append(code if shown == code else f"{shown} ({code})")
    return " | ".join(parts)


def resolve_code(text: Any, options: Sequence[tuple[str, Sequence[str]]], field: str,
                 lang: str | None = None) -> str:
    """The code whose code or any label equals `text` (trimmed, case and `_`/`-`/space insensitive);
    else a one-line HuifangError on `field` listing the choices, labelled in the user's language
    (each option's labels are given in that language first, see `options_for`)."""
    given = "" if text is None else str(text).strip()
    folded = _fold(given)
    for code, _names in options:  # an exact code wins over a label that happens to spell another code
        if given == code:
            return code
    for code, names in options:
        if folded == _fold(code) or any(folded == _fold(n) for n in names):
            return code
    for code, names in options:  # one part of a label such as 空号/错号
        if any(folded == _fold(part) for n in names if "/" in n for part in n.split("/")):
            return code
    raise HuifangError(f"'{given}' is not one of {choices_text(options, lang)}", field=field)


def options_for(kind: str, codes: Iterable[str], plugin: str | None = None, lang: str | None = None,
                prefix: str = "") -> list[tuple[str, list[str]]]:
    """(code, labels) per code, the user's language first: the options of `resolve_code`.
    `prefix` looks choices up as `<question>.<choice>` first."""
    lang = _lang(lang)
    order = [lang, *(x for x in LANGS if x != lang)]
    out = []
    for code in codes:
        names: list[str] = []
        for x in order:
            found = find(kind, f"{prefix}{code}", x, plugin)
            if found and found not in names:
                names.append(found)
        out.append((code, names))
    return out


def resolve(kind: str, text: Any, codes: Iterable[str], field: str, plugin: str | None = None,
            prefix: str = "") -> str:
    """The code of `kind` among `codes` that `text` names by code, Chinese label or English label:
    resolve("outcome", "无人接听", OUTCOMES, "outcome") == "no_answer"."""
    return resolve_code(text, options_for(kind, codes, plugin, prefix=prefix), field)


# -- report cells ---------------------------------------------------------------------------------------------
# Columns whose values are codes of a kind (reports, queue rows): shown by their labels.
COLUMN_KINDS = {"plugin": "plugin", "visit_type": "visit_type", "department": "department",
                "category": "category", "cause": "category", "categories": "category", "reason": "lost_reason",
                "lost_reason": "lost_reason", "status": "status", "severity": "severity", "channel": "channel",
                "outcome": "outcome", "satisfaction": "satisfaction", "question": "question", "kind": "trigger_kind",
                "language": "language", "dissatisfaction_code": "dissatisfaction_reason", "ward": "department",
                "finding": "category", "group": "category",
                "trigger_kind": "trigger_kind", "role": "role", "result": "qa_result", "owner_role": "role",
                "purpose": "purpose"}


def cell(column: str, value: Any, lang: str | None = None, plugin: str | None = None) -> Any:
    """A report or list cell as a person reads it: codes as labels (dict keys too), yes/no in words;
    numbers and other values unchanged."""
    if isinstance(value, bool):
        return label("choice", "yes" if value else "no", lang)
    kind = COLUMN_KINDS.get(column)
    if kind is None or value is None:
        return value
    if isinstance(value, dict):
        return {label(kind, k, lang, plugin): v for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [label(kind, v, lang, plugin) for v in value]
    return label(kind, value, lang, plugin)


def column(name: str, lang: str | None = None, plugin: str | None = None) -> str:
    """A report column header."""
    return label("column", name, lang, plugin)


# -- the engine's catalogue (domain `huifang`, core/locale) -----------------------------------------------
CORE = Labels(
    Translator("huifang", Path(__file__).resolve().parent / "locale"),
    outcome={  # G5, G7, F5
        "reached": _("Reached"), "no_answer": _("No answer"), "busy": _("Busy"),
        "wrong_number": _("Wrong or empty number"), "suspended": _("Number suspended"),
        "powered_off": _("Phone switched off"), "refused": _("Refused the follow-up"),
        "call_later": _("Call back later"), "refused_channel": _("Refused this channel"), "sent": _("Sent"),
        "returned": _("Returned undelivered"),
    },
    channel={
        "phone": _("Phone"), "sms": _("SMS"), "wechat": _("WeChat"), "qq": _("QQ"), "email": _("Email"),
        "letter": _("Letter"), "home_visit": _("Home visit"), "web": _("Website"), "app": _("Mobile app"),
    },
    status={
        "planned": _("Planned"), "due": _("Due"), "overdue": _("Overdue"), "completed": _("Completed"),
        "lost": _("Lost"), "cancelled": _("Cancelled"), "exempt": _("Exempt"),
        # tickets (G12)
        "open": _("Open"), "resolved": _("Resolved"), "closed": _("Closed"),
        # campaigns (A7)
        "requested": _("Requested"), "reviewed": _("Reviewed"), "approved": _("Approved"), "rejected": _("Rejected"),
        # deliveries of messages (core/delivery.py)
        "sent": _("Message sent"), "failed": _("Send failed"), "bounced": _("Bounced"), "pending": _("Not sent yet"),
        # survey links (core/usecases/invites.py)
        "issued": _("Link sent"), "opened": _("Link opened"), "answered": _("Answered on the web"),
        "expired": _("Expired"),
    },
    purpose={  # why a message was delivered (core/delivery.py)
        "invite": _("Survey invitation"), "reminder": _("Deadline reminder"), "escalation": _("Escalation notice"),
        "greeting": _("Greeting"),
    },
    role={
        "agent": _("Agent"), "supervisor": _("Supervisor"), "manager": _("Manager"), "auditor": _("Auditor"),
        "admin": _("Administrator"), "sales": _("Sales"), "intake": _("Intake clerk"), "nurse": _("Nurse"),
        "doctor": _("Doctor"), "consultant": _("Consultant"), "campaign": _("Campaign"),
    },
    severity={"normal": _("Normal"), "major": _("Major")},
    satisfaction={
        "满意": _("Satisfied"), "较满意": _("Fairly satisfied"), "基本满意": _("Basically satisfied"),
        "不满意": _("Dissatisfied"),
        "satisfied": _("Satisfied"), "fairly_satisfied": _("Fairly satisfied"),
        "basically_satisfied": _("Basically satisfied"), "dissatisfied": _("Dissatisfied"),
    },
    lost_reason={  # G14
        "no_answer": _("No answer after repeated attempts"), "wrong_number": _("Wrong or empty number"),
        "suspended": _("Number suspended"), "powered_off": _("Phone switched off"),
        "refused": _("Refused the follow-up"), "deceased": _("Deceased"),
        "moved": _("Moved, contact details invalid"), "other": _("Other"), "(none)": _("(no reason given)"),
    },
    language={"mandarin": _("Mandarin"), "dialect": _("Local dialect")},  # F9
    dissatisfaction_reason={  # G16: why a subject is dissatisfied
        "attitude": _("Service attitude"), "quality": _("Quality of service or product"),
        "result": _("Result below expectations"), "waiting": _("Long waiting time"),
        "communication": _("Unclear explanation"), "process": _("Cumbersome procedures"), "fees": _("Fees"),
        "environment": _("Environment and facilities"), "other": _("Other"),
    },
    qa_result={"pass": _("Pass"), "fail": _("Fail")},
    choice={"yes": _("Yes"), "no": _("No")},
    question={
        "satisfaction": _("Satisfaction"), "suggestion": _("Suggestions"), "comment": _("Other comments"),
        "resolved": _("Problem resolved"), "note": _("Note"),
        # G16: the answer keys a 不满意 adds beside the survey's questions
        "dissatisfaction_code": _("Reason"), "dissatisfaction_reason": _("In their words"),
    },
    attribute={  # trigger attributes the call sheet shows as context; a plugin may label its own
        "department": _("Clinical department"), "dept": _("Department"), "diagnosis": _("Diagnosis"),
        "condition": _("Condition"), "attending_doctor": _("Attending doctor"),
        "responsible_nurse": _("Responsible nurse"), "doctor": _("Doctor"), "nurse": _("Nurse"),
        "assistant": _("Clinic assistant"), "consultant": _("Consultant"), "specialist": _("Specialist"),
        "member_specialist": _("Member specialist"), "item": _("Item"), "procedure": _("Procedure"),
        "surgery": _("Surgery"), "treatment_date": _("Treatment date"), "session": _("Session number"),
        "package_sessions": _("Sessions in the package"), "interval_days": _("Days between sessions"),
        "stitches": _("Stitches"), "stitch_removal_day": _("Stitch removal (day after surgery)"),
        "scab_days": _("Days to scab off"), "first_visit": _("First visit"), "exams": _("Re-examined findings"),
        "findings": _("Findings"), "recovery_score": _("Doctor's recovery score"), "phase": _("Phase"),
        "discharged_at": _("Discharged at"), "visit_date": _("Visit date"), "came": _("Came to the clinic"),
        "purchased": _("Purchased"), "grade": _("Grade"), "card": _("Membership card"),
        "activity": _("Activity"), "campaign": _("Campaign"), "product": _("Product"), "contract": _("Contract"),
        "policy": _("Policy"), "policies": _("Policies"), "amount": _("Amount"), "branch": _("Branch"),
        "agent": _("Sales agent"), "advisor": _("Account manager"), "sales_channel": _("Sales channel"),
        "receipt_date": _("Policy receipt date"), "cooling_off_days": _("Cooling-off days"),
        "term_years": _("Term (years)"), "change": _("Change"), "detail": _("Detail"),
        "no_followup_statement": _("Signed no-follow-up statement"), "category": _("Category"),
        "severity": _("Severity"), "reason": _("Reason"), "unit": _("Unit"), "owner": _("Owner or householder"),
        "manager": _("Manager"), "worker": _("Worker"), "project": _("Project"), "address": _("Address"),
        "room": _("Room"), "renovation": _("Renovation"), "against": _("Complaint about"),
        "designer": _("Designer"), "inspector": _("Inspector"), "crew": _("Crew"),
        "expected_end": _("Expected end"), "start": _("Start"), "end": _("End"), "service": _("Service"),
        "description": _("Description"), "problems": _("Problems"), "year": _("Year"),
        "contract_value": _("Contract value"), "engineer": _("Engineer"),
        "energise_on": _("Energised on"),
    },
    visit_type={"second_followup": _("Second follow-up")},  # G12
    category={"dissatisfied": _("Dissatisfied"), "complaint": _("Complaint"), "other": _("Other")},
    department={"call_centre": _("Call centre"), "customer_service": _("Customer service")},
    plugin={"medical": _("Medical"), "property": _("Property management"), "finance": _("Finance"),
            "aesthetics": _("Medical aesthetics")},
    report={
        "rates": _("Callback, success and on-time rates"), "satisfaction": _("Satisfaction (four-level scale)"),
        "lost": _("Lost follow-ups by reason"), "tickets": _("Tickets"), "pareto": _("Pareto of complaint causes"),
        "qa": _("Quality checks: pass rate per agent"), "opinions": _("Opinions and suggestions"),
        "unresolved": _("Unresolved tickets"), "monthly": _("Monthly follow-up report"),
        "quarterly": _("Quarterly follow-up report"),
    },
    section={  # the management report's sections (G19)
        "summary": _("Summary: subjects followed, callback and success rates (G15)"),
        "plugins": _("Rates per plugin (G15)"), "trend": _("Rate trend by month, last 12 months (G15)"),
        "agents": _("Rates and KPI deduction per agent (G15)"),
        "satisfaction": _("Satisfaction by department (G16/M8)"), "opinions": _("Opinions and suggestions (G19)"),
        "lost": _("Lost follow-ups by reason (G14)"), "tickets": _("Tickets by category (G12)"),
        "pareto": _("Pareto of complaint causes (G19)"), "unresolved": _("Unresolved tickets (G19)"),
        "qa": _("QA pass rate per agent (G17)"),
    },
    column={
        # dimensions
        "plugin": _("Industry"), "visit_type": _("Visit type"), "department": _("Department"), "agent": _("Agent"),
        "branch": _("Branch"), "month": _("Month"), "quarter": _("Quarter"), "category": _("Category"),
        # rates (G15)
        "due": _("Follow-ups due"), "completed": _("Completed"), "reached": _("Reached"), "refused": _("Refused"),
        "cancelled": _("Cancelled"), "cancelled_before_contact": _("Cancelled before contact"), "lost": _("Lost"),
        "open": _("Open"), "overdue": _("Overdue"), "exempt": _("Exempt"), "pending": _("Pending"),
        "on_time": _("On time"), "subjects_followed": _("Subjects followed"), "callback_rate": _("Callback rate"),
        "success_rate": _("Success rate"), "on_time_rate": _("On-time rate"), "backfilled": _("Backfilled"),
        "callback_target": _("Callback target"), "kpi_deduction": _("KPI deduction"),
        # satisfaction (G16)
        "responses": _("Responses"), "satisfied": _("Satisfied"), "fairly_satisfied": _("Fairly satisfied"),
        "basically_satisfied": _("Basically satisfied"), "dissatisfied": _("Dissatisfied"),
        "satisfied_share": _("Satisfied share"), "dissatisfied_share": _("Dissatisfied share"),
        "threshold": _("Threshold"), "flagged": _("Below threshold"),
        # lost (G14), tickets (G12), Pareto (G19)
        "reason": _("Reason"), "lost_share": _("Share of lost"), "tickets": _("Tickets"), "major": _("Major"),
        "resolved": _("Resolved"), "closed": _("Closed"), "unresolved": _("Unresolved"),
        "resolution_rate": _("Resolution rate"), "unresolved_share": _("Unresolved share"),
        "second_followup_done": _("Second follow-up done"), "reopened": _("Reopened"), "categories": _("Categories"),
        "cause": _("Cause"), "ticket_share": _("Share of tickets"), "cumulative_share": _("Cumulative share"),
        "vital_few": _("Vital few"),
        # QA (G17), opinions (G19), unresolved tickets
        "checked": _("Checked"), "passed": _("Passed"), "failed": _("Failed"), "pass_rate": _("Pass rate"),
        "followup": _("Follow-up"), "date": _("Date"), "satisfaction": _("Satisfaction"), "question": _("Question"),
        "text": _("Text"), "ticket": _("Ticket"), "severity": _("Severity"), "status": _("Status"),
        "opened": _("Opened"), "deadline": _("Deadline"), "days_open": _("Days open"),
        # lists (queue, tickets, staff)
        "subject": _("Subject"), "name": _("Name"), "phone": _("Phone"), "owner": _("Owner"), "channel": _("Channel"),
        "outcome": _("Outcome"), "window_open": _("Window opens"), "attempts": _("Attempts"),
        "next_attempt_at": _("Next attempt"), "role": _("Role"), "dept": _("Department"), "kind": _("Kind"),
        "rows": _("Rows"), "share": _("Share"), "rate": _("Rate"), "count": _("Count"), "total": _("Total"),
        "id": _("ID"), "title": _("Title"), "rules": _("Rules"), "result": _("Result"),
        "completed_at": _("Completed at"), "recording": _("Recording"),
    },
)
