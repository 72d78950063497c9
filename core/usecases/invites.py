"""Survey links (G2 web channel): `huifang invite FOLLOWUP --channel sms|email|wechat` sends the subject a
signed, single-use, expiring link to answer the follow-up's survey themself (G18: at most 5 questions).

The link is `<[serve] public_url>/s/<id>.<mac>`: `id` is derived from the follow-up code with a key of
the store's keyring (it looks random and says nothing about the subject, G8); `mac` is an HMAC of the id
with another key of the keyring, so a link cannot be forged or altered. Issuing is work on the
follow-up (access policy and G9 as `attempt`; refusals recorded); the follow-up waits on the link's
channel until it is answered or expires.

The subject's answers are recorded by the same use cases as the phone path: an attempt on channel
`web` with outcome reached, then the completion with every reaction of the plugin (next visit, G16
ticket), saved with the used link in one commit (never half of it). The actor is `subject:web`, allowed by the access policy for that one follow-up only while
the verified link is being answered (Access.on_behalf). A used, expired or tampered link writes
nothing. An unanswered link expires at `tick` and the follow-up falls back to the channel it had
before (the phone call back in the queue), or, if the subject opted out of it, the next channel of
the plugin's `optout_fallback` ladder (G7).
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import random
import re
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .. import clock
from ..contract import DISSATISFACTION_CODE, DISSATISFACTION_REASON, DISSATISFIED, SATISFACTION_ALIASES
from ..domain import FollowUp, Subject
from ..domain.invite import ANSWERED, EXPIRED, ISSUED, Invite
from ..errors import ConflictError, HuifangError, NotFound, Refused
from ..inputs import text_problem
from ..labels import resolve
from ..retry import ATTEMPTS
from ..surveys import validate_answers
from . import tickets
from .followups import check_actor, prepare_attempt, prepare_completion
from .subjects import fallback_channel

if TYPE_CHECKING:
    from ..services import App

SUBJECT_ACTOR = "subject:web"  # the subject answering through a verified link (Access.on_behalf)
INVITE_CHANNELS = ("sms", "email", "wechat")
DEFAULT_TTL = timedelta(hours=72)
MAX_TEXT = 1000  # characters of one free-text answer
MIN_TTL, MAX_TTL = timedelta(hours=1), timedelta(days=30)
ISSUED_TOPIC, CLOSED_TOPICS = Invite.Issued.TOPIC, [Invite.Answered.TOPIC, Invite.Expired.TOPIC]
_TOKEN = re.compile(r"([0-9a-f]{16})\.([A-Za-z0-9_-]{22})")
_TTL = re.compile(r"(\d+)\s*(m|min|分钟|h|小时|d|天)")
_jitter = random.Random()
_TTL_UNITS = {"m": 60, "min": 60, "分钟": 60, "h": 3600, "小时": 3600, "d": 86400, "天": 86400}


class LinkRefused(HuifangError):
    """A link that may not be used (nothing was written): `status` is the HTTP answer, `reason` one of
    tampered (400), unknown (404), used, expired, closed (410)."""

    def __init__(self, reason: str, status: int, message: str):
        super().__init__(message, field="link")
        self.reason, self.status = reason, status


# -- the link ---------------------------------------------------------------------------------------------
def _key(app: App, purpose: bytes) -> bytes:
    """A key of the store's keyring for one purpose (derived from the master key: nothing new to keep)."""
    master = app.keyring.master_key(create=True)
    assert master is not None
    return hmac.new(master, b"huifang:invite:" + purpose, hashlib.sha256).digest()


def invite_code(app: App, followup: str, n: int) -> str:
    """The n-th link of a follow-up: an id that looks random (keyed) but is found again from the code."""
    return hmac.new(_key(app, b"id"), f"{followup}#{n}".encode(), hashlib.sha256).hexdigest()[:16]


def signature(app: App, code: str) -> str:
    mac = hmac.new(_key(app, b"mac"), code.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def token(app: App, code: str) -> str:
    return f"{code}.{signature(app, code)}"


def link(app: App, code: str) -> str:
    return f"{app.config.serve.public_url}/s/{token(app, code)}"


def find(app: App, code: str) -> Invite | None:
    found: Invite | None = app.find_by_id(Invite.create_id(code))
    return found


def of_followup(app: App, followup: str) -> list[Invite]:
    """The follow-up's links, oldest first."""
    out: list[Invite] = []
    while (inv := find(app, invite_code(app, followup, len(out) + 1))) is not None:
        out.append(inv)
    return out


def parse_ttl(text: str | None) -> timedelta:
    """`72h`, `3d`, `90m` (or 3天, 48小时): how long the link may be used."""
    if text is None or not text.strip():
        return DEFAULT_TTL
    m = _TTL.fullmatch(text.strip().lower())
    if m is None:
        raise HuifangError(f"'{text}' is not a duration: e.g. 72h, 3d, 90m", field="ttl")
    ttl = timedelta(seconds=int(m.group(1)) * _TTL_UNITS[m.group(2)])
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise HuifangError(f"'{text}' is not between 1h and 30d", field="ttl")
    return ttl


def message_text(app: App, url: str, expires: datetime, tz: str) -> str:
    org = app.config.huifang.organisation.strip()
    until = expires.astimezone(clock.zone(tz)).strftime("%m月%d日 %H:%M")
    return (f"{org + '：' if org else ''}您好，邀请您填写回访问卷（约3分钟）：{url} "
            f"链接{until}前有效，只能提交一次。")


# -- issuing ----------------------------------------------------------------------------------------------
def issue(app: App, code: str, channel: str, ttl: timedelta, actor: str) -> dict[str, Any]:
    """Send the subject a link to the follow-up's survey; returns the invite and its delivery."""
    from ..audit.reads import record_read
    from ..delivery import contact, deliver

    channel = resolve("channel", channel, INVITE_CHANNELS, "channel")  # the code, 短信 or SMS
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise HuifangError("must be between 1h and 30d", field="ttl")
    for _ in range(5):
        fu = app.load(FollowUp, code, "follow-up")
        if fu.closed:
            raise Refused(f"follow-up {code} is already {fu.status}: no survey link can be sent")
        check_actor(app, fu, actor, "invite")  # as an attempt: owner or their ladder, G9, A4; refusals recorded
        subj = app.load(Subject, fu.subject, "subject")
        if channel in subj.optouts:
            raise Refused(f"G7: subject {subj.code} opted out of {channel}", field="channel")
        survey = app.survey(fu)
        if survey is None or not survey.questions:
            raise Refused(f"follow-up {code} ({fu.visit_type}) has no survey a subject could answer themself")
        now = clock.now()
        if now < fu.window_open:  # answered now, it would be a contact before the window (G5)
            raise Refused(f"follow-up {code}'s window opens {clock.iso(fu.window_open, subj.tz)}: send the link "
                          f"then")
        earlier = of_followup(app, fu.code)
        live = [i for i in earlier if not i.closed and i.expires > now]
        if live:
            raise Refused(f"follow-up {code} already has an unanswered link {live[0].code} (sent by "
                          f"{live[0].channel}, valid until {clock.iso(live[0].expires, subj.tz)})")
        # G8: the sender reads the subject's address for this channel (a recorded read, as theirs)
        record_read(app, actor, subj.code, "contact", f"follow-up {fu.code}", f"survey link by {channel}")
        to = contact(app, subj, channel)
        if not to:
            raise Refused(f"subject {subj.code} has no address for {channel}", field="channel")
        previous = next((i.previous_channel for i in reversed(earlier) if not i.closed), fu.channel)
        inv = Invite(code=invite_code(app, fu.code, len(earlier) + 1), followup=fu.code, subject=fu.subject,
                     channel=channel, expires=now + ttl, previous_channel=previous, actor=actor)
        changed: list[Any] = [inv]
        if fu.channel != channel:  # the queue shows the link is out; back at expiry (expire_due)
            fu.switch_channel(channel=channel, reason=f"survey link {inv.code} sent by {channel}", actor=actor)
            changed.append(fu)
        try:
            app.commit(*changed)
        except ConflictError:  # another link or change of this follow-up at the same time: re-read
            continue
        break
    else:
        raise ConflictError(f"follow-up {code} is busy: re-run the command")
    url = link(app, inv.code)
    d = deliver(app, channel=channel, subject_id=fu.subject, to=to, text=message_text(app, url, inv.expires, subj.tz),
                purpose="invite", ref=inv.code, actor=actor,
                subject_line="回访问卷" if channel == "email" else None)
    return {**public(app, inv), "delivery": {"status": d.status, "adapter": d.adapter, "detail": d.detail}}


def _tz(app: App, subject: str) -> str:
    found = app.find(Subject, subject)
    return found.tz if found is not None else app.config.huifang.timezone


def public(app: App, inv: Invite) -> dict[str, Any]:
    """An invite as lists show it (never the link: only the subject receives it)."""
    tz = _tz(app, inv.subject)
    return {"id": inv.code, "followup": inv.followup, "subject": inv.subject, "channel": inv.channel,
            "status": inv.status, "issued_at": clock.iso(inv.issued_at, tz), "issued_by": inv.issued_by,
            "expires": clock.iso(inv.expires, tz), "opened_at": clock.iso(inv.opened_at, tz),
            "answered_at": clock.iso(inv.answered_at, tz), "expired_at": clock.iso(inv.expired_at, tz),
            "next_channel": inv.next_channel}


def view(app: App, code: str, actor: str) -> dict[str, Any]:
    """One invite, its delivery and its events (`huifang invite view`)."""
    from ..delivery import find as find_delivery
    from ..domain.delivery import delivery_code

    inv = find(app, code.strip().lower())
    if inv is None:
        raise NotFound(f"invite '{code}' does not exist (huifang invite list)")
    app.access.registered(actor, "invite.view", f"invite {inv.code}")
    d = find_delivery(app, delivery_code("invite", inv.code, inv.channel))
    tz = _tz(app, inv.subject)
    stored: list[Any] = list(app.events.get(inv.id))
    events = [{"at": clock.iso(e.timestamp, tz), "event": type(e).__qualname__.split(".")[-1],
               "actor": getattr(e, "actor", None)} for e in stored]
    return {**public(app, inv),
            "delivery": None if d is None else {"id": d.code, "status": d.status, "adapter": d.adapter,
                                                 "detail": d.detail},
            "events": events}


def listing(app: App, actor: str, followup: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Invites (of one follow-up, or all), newest last (`huifang invite list`): codes and states only."""
    app.access.registered(actor, "invite.list", f"invites of {followup}" if followup else "invites")
    if followup is not None:
        app.load(FollowUp, followup, "follow-up", field="followup")
        found = of_followup(app, followup)
    else:
        found = [i for i in (app.find_by_id(uid) for uid in _issued_ids(app)) if i is not None]
    return [public(app, i) for i in found if status is None or i.status == status]


def _issued_ids(app: App, topics: list[str] | None = None) -> list[Any]:
    """Aggregate ids of every invite with an event of `topics` (default: issued), in log order."""
    out: list[Any] = []
    start = 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=1000, topics=topics or [ISSUED_TOPIC])
        if not notes:
            return out
        out += [n.originator_id for n in notes]
        start = notes[-1].id + 1


# -- the subject's side (service/survey.py) ----------------------------------------------------------------
def check_link(app: App, presented: str) -> tuple[Invite, FollowUp]:
    """The invite and follow-up a presented token names, if it may be answered now; else LinkRefused.
    Writes nothing."""
    m = _TOKEN.fullmatch(presented or "")
    if m is None or not hmac.compare_digest(m.group(2), signature(app, m.group(1))):
        raise LinkRefused("tampered", 400, "the link is not valid (altered or incomplete)")
    inv = find(app, m.group(1))
    if inv is None:
        raise LinkRefused("unknown", 404, "no such link")
    if inv.status == ANSWERED:
        raise LinkRefused("used", 410, "the survey was already answered with this link")
    if inv.status == EXPIRED or inv.expires <= clock.now():
        raise LinkRefused("expired", 410, "the link has expired")
    fu = app.load(FollowUp, inv.followup, "follow-up")
    if fu.closed:
        raise LinkRefused("closed", 410, f"the follow-up is already {fu.status}")
    return inv, fu


def open_link(app: App, presented: str) -> tuple[Invite, FollowUp]:
    """The subject opens the link: recorded once (opened), then the survey is shown."""
    inv, fu = check_link(app, presented)
    if inv.status == ISSUED:
        with app.access.on_behalf(SUBJECT_ACTOR, fu.code):
            inv.open(actor=SUBJECT_ACTOR)
            with contextlib.suppress(ConflictError):  # opened in another tab at the same moment: recorded once
                app.commit(inv)
    return inv, fu


def web_answers(app: App, fu: FollowUp, form: Mapping[str, str]) -> dict[str, Any]:
    """The survey's answers from the subject's form: blank answers left out; the G16 reason kept only
    with a 不满意 answer (a reason typed before changing one's mind is dropped)."""
    survey = app.survey(fu)
    keys = [q.key for q in survey.questions] if survey else []
    answers: dict[str, Any] = {k: v for k in keys if (v := _text(form, k, f"answers.{k}"))}
    sat = answers.get("satisfaction")
    if sat is not None and SATISFACTION_ALIASES.get(sat, sat) == DISSATISFIED:
        for field, key in (("reason_code", DISSATISFACTION_CODE), ("reason", DISSATISFACTION_REASON)):
            if value := _text(form, field, field):
                answers[key] = value
    return answers


def _text(form: Mapping[str, str], key: str, field: str) -> str:
    """One form value, stripped; a browser's CRLF line ends as LF; bounded and free of control characters
    like every other input (core/inputs.py)."""
    value = str(form.get(key) or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    problem = text_problem(value, multiline=True)
    if problem is not None or len(value) > MAX_TEXT:
        raise HuifangError(problem or f"at most {MAX_TEXT} characters", field=field)
    return value


def answer(app: App, presented: str, form: Mapping[str, str]) -> tuple[FollowUp, list[str]]:
    """Record the subject's answers exactly as a reached phone call: the attempt on `web`, the completion
    with its reactions and the link used, all in one commit: all recorded or none. The answers are
    checked before anything is built (a refused form writes nothing). A conflict (the same link submitted
    twice at once, or staff working the follow-up) writes nothing and is re-read and re-checked: the
    link is then used (LinkRefused 410) or, if the other change allows it, answered now."""
    for n in range(ATTEMPTS):
        inv, fu = check_link(app, presented)
        answers = web_answers(app, fu, form)
        survey = app.survey(fu)
        plain, reason = tickets.split_reason(answers)
        clean = validate_answers(survey, plain)
        tickets.dissatisfaction(clean.get("satisfaction"), reason, app.settings(fu.plugin).dissatisfaction_reasons)
        with app.access.on_behalf(SUBJECT_ACTOR, fu.code):
            attempted, _ = prepare_attempt(app, fu, "web", "reached", note=f"survey link {inv.code}",
                                           actor=SUBJECT_ACTOR)
            completed, messages = prepare_completion(app, fu, answers, actor=SUBJECT_ACTOR)
            inv.answer(actor=SUBJECT_ACTOR)
            try:
                app.commit(*_one_each([*attempted, *completed, inv]))
            except ConflictError:
                time.sleep(_jitter.uniform(0.005, 0.02) * (n + 1))  # let the other command finish
                continue
        return fu, messages
    raise ConflictError(f"follow-up {fu.code} is busy: nothing was written; submit the survey again")


def _one_each(aggregates: list[Any]) -> list[Any]:
    """Each aggregate once. The attempt's and the completion's reactions share the follow-up object; two
    copies of one other aggregate (both reactions loading it) could not be saved together: refused,
    nothing written, rather than half of it."""
    out: dict[Any, Any] = {}
    for a in aggregates:
        if out.setdefault(a.id, a) is not a:
            raise HuifangError(f"{getattr(a, 'code', a.id)} is changed by both the attempt's and the completion's "
                               f"reactions: record this answer by phone (attempt, then complete)")
    return list(out.values())


# -- tick: unanswered links fall back (G7, F5) ---------------------------------------------------------------
def expire_due(app: App, actor: str = "system") -> list[dict[str, Any]]:
    """Every link past its deadline and unanswered expires; its follow-up, if still waiting on that
    link's channel, goes back to the channel it had before, or (it had this one, or the subject opted out
    of that) to the next channel of the plugin's G7 ladder the subject accepts."""
    closed = set(_issued_ids(app, CLOSED_TOPICS))
    now = clock.now()
    out: list[dict[str, Any]] = []
    for uid in _issued_ids(app):
        if uid in closed:
            continue
        for _ in range(5):
            inv: Invite | None = app.find_by_id(uid)
            if inv is None or inv.closed or inv.expires > now:
                break
            fu = app.load(FollowUp, inv.followup, "follow-up")
            others = [i for i in of_followup(app, fu.code) if i.code != inv.code and not i.closed and i.expires > now]
            nxt: str | None = None
            changed: list[Any] = [inv]
            if not fu.closed and fu.channel == inv.channel and not others:
                subj = app.load(Subject, fu.subject, "subject")
                back = inv.previous_channel
                nxt = back if back != inv.channel and back not in subj.optouts else \
                    fallback_channel(subj.optouts, inv.channel, app.settings(fu.plugin).optout_fallback)
                if nxt != fu.channel:
                    fu.switch_channel(channel=nxt, reason=f"survey link {inv.code} expired unanswered", actor=actor)
                    changed.append(fu)
            inv.expire(next_channel=nxt, actor=actor)
            try:
                app.commit(*changed)
            except ConflictError:
                continue
            out.append({"invite": inv.code, "followup": fu.code, "next_channel": nxt})
            break
    return out
