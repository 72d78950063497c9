"""The subject's survey page (`/s/<token>`, from `huifang invite`): Chinese, for a phone (360 px wide), no
JavaScript. GET shows the follow-up's survey (G18: at most 5 questions); POST records the answers through
the same use cases as a phone call (core/usecases/invites.answer: an attempt on `web`, the completion and
its reactions, G16's reason with 不满意). A form with an error is shown again with the error in Chinese
(nothing written); a used, expired or tampered link gets a friendly page (410/404/400), nothing written.

Every call runs on the service's application thread (Service.call), at the service's clock.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from huifang.core.contract import DISSATISFACTION_CODE
from huifang.core.errors import HuifangError
from huifang.core.usecases import invites

if TYPE_CHECKING:
    from huifang.core.domain import FollowUp

HERE = Path(__file__).resolve().parent
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                               trim_blocks=True, lstrip_blocks=True)
LANG = "zh_CN"
router = APIRouter(include_in_schema=False)
HEADERS = {
    # no script at all; the one style sheet is inline (a single request on a slow phone connection)
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link is the subject's key: never passed on to another site
    "Cache-Control": "no-store", "X-Robots-Tag": "noindex",
}
REFUSED = {  # LinkRefused.reason -> (title, text)
    "tampered": ("链接无效", "这个链接不完整或已被修改。请直接点击短信、邮件或微信中收到的原始链接。"),
    "unknown": ("找不到这份问卷", "这个链接对应的问卷不存在。请直接点击收到的原始链接。"),
    "used": ("问卷已提交", "您已经通过这个链接提交过问卷，每个链接只能提交一次。感谢您的反馈！"),
    "expired": ("链接已过期", "这份问卷的链接已超过有效期，无法再提交。我们的工作人员会通过电话等方式与您联系。"),
    "closed": ("回访已完成", "这次回访已经完成，无需再填写。感谢您的配合！"),
}
_ENGLISH_TAIL = re.compile(r"^(.*?[\u3000-\u9fff\uff00-\uffef][^A-Za-z]*?)\s+[A-Za-z].*$", re.S)


def zh(text: str) -> str:
    """The Chinese part of a bilingual survey text ('是否按医嘱服药？ Taking medication…' -> '是否按医嘱服药？')."""
    m = _ENGLISH_TAIL.match(text.strip())
    return m.group(1).strip() if m else text.strip()


@cache
def css() -> str:
    return (HERE / "static" / "survey.css").read_text(encoding="utf-8")


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(css=css(), **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def refused(e: invites.LinkRefused) -> HTMLResponse:
    title, text = REFUSED.get(e.reason, ("无法打开", "这个链接现在无法使用。"))
    return page("survey_error.html", e.status, title=title, text=text)


def questions(app: Any, fu: FollowUp, given: Mapping[str, str]) -> list[dict[str, Any]]:
    """The survey's questions as the form shows them: Chinese text, options with their Chinese labels."""
    from huifang.core.labels import label

    survey = app.survey(fu)
    out: list[dict[str, Any]] = []
    for q in survey.questions if survey else []:
        options: list[tuple[str, str]] = []
        kind = q.kind
        if q.key == "satisfaction" and q.choices:
            options = [(c, c) for c in q.choices]  # the G16 scale's codes are its Chinese words
        elif q.kind == "bool":
            options = [("yes", "是"), ("no", "否")]
        elif q.kind == "score" and q.min is not None and q.max is not None and q.max - q.min <= 10:
            options = [(str(n), str(n)) for n in range(q.min, q.max + 1)]
        elif q.kind == "choice" and q.choices:
            options = [(c, label("choice", f"{q.key}.{c}", LANG, plugin=fu.plugin)) for c in q.choices]
        else:
            kind = "number" if q.kind == "score" else "text"
        out.append({"key": q.key, "text": zh(q.text), "kind": kind, "required": q.required, "options": options,
                    "min": q.min, "max": q.max, "value": str(given.get(q.key) or "").strip()})
    return out


def form_context(app: Any, fu: FollowUp, given: Mapping[str, str], error: HuifangError | None) -> dict[str, Any]:
    survey = app.survey(fu)
    qs = questions(app, fu, given)
    reasons = app.settings(fu.plugin).dissatisfaction_reasons
    return {"title": zh(survey.title) if survey else "回访问卷", "questions": qs,
            "organisation": app.config.huifang.organisation.strip(),
            "asks_satisfaction": any(q["key"] == "satisfaction" for q in qs),
            "reasons": list(reasons.items()), "reason_code": str(given.get("reason_code") or ""),
            "reason": str(given.get("reason") or ""),
            **(chinese_error(qs, given, error) if error else {"error": None, "error_field": None})}


def chinese_error(qs: list[dict[str, Any]], given: Mapping[str, str], e: HuifangError) -> dict[str, Any]:
    """What the subject reads for a refused form (the core's messages are for staff)."""
    field = e.field or ""
    by_key = {q["key"]: q for q in qs}
    if field == "reason_code":
        return {"error": "您选择了“不满意”，请选择不满意的原因。", "error_field": "reason_code"}
    if field == "reason" and str(given.get("reason") or "").strip():
        return {"error": "请检查您写下的原因（不超过 1000 字）。", "error_field": "reason"}
    if field == "reason":
        return {"error": "您选择了“不满意”，请写下具体原因，方便我们改进。", "error_field": "reason"}
    if field.startswith("answers."):
        q = by_key.get(field.partition(".")[2])
        if q is not None:
            return {"error": f"请检查这个问题的回答：{q['text']}", "error_field": q["key"]}
    missing = [q for q in qs if q["required"] and not str(given.get(q["key"]) or "").strip()]
    if missing:
        return {"error": "请回答带 * 的问题：" + "；".join(q["text"] for q in missing),
                "error_field": missing[0]["key"]}
    return {"error": "请至少回答一个问题后再提交。", "error_field": None}


def _service(request: Request) -> Any:
    """The worker's Service (service/app.py; not imported here: the app includes this router)."""
    return request.app.state.service


@router.get("/s/{token}", response_class=HTMLResponse)
async def survey_page(token: str, request: Request) -> HTMLResponse:
    service = _service(request)

    def go() -> dict[str, Any]:
        _inv, fu = invites.open_link(service.app, token)
        return form_context(service.app, fu, {}, None)
    try:
        context = await service.call(go)
    except invites.LinkRefused as e:
        return refused(e)
    except HuifangError:
        return page("survey_error.html", 409, title="暂时无法打开", text="问卷暂时无法打开，请稍后再试。")
    return page("survey.html", **context)


@router.post("/s/{token}", response_class=HTMLResponse)
async def survey_submit(token: str, request: Request) -> HTMLResponse:
    service = _service(request)
    form = await request.form()
    given = {k: v for k, v in form.items() if isinstance(v, str)}

    def go() -> tuple[str, dict[str, Any]]:
        app = service.app
        try:
            fu, _messages = invites.answer(app, token, given)
        except invites.LinkRefused:
            raise
        except HuifangError as e:
            field = e.field or ""
            if not (field == "answers" or field.startswith("answers.") or field in ("reason_code", "reason")):
                raise
            _inv, fu = invites.check_link(app, token)  # the answers were refused before anything was written
            return "form", form_context(app, fu, given, e)
        dissatisfied = bool((fu.answers or {}).get(DISSATISFACTION_CODE))
        return "done", {"dissatisfied": dissatisfied, "organisation": app.config.huifang.organisation.strip()}
    try:
        outcome, context = await service.call(go)
    except invites.LinkRefused as e:
        return refused(e)
    except HuifangError:
        return page("survey_error.html", 409, title="提交未成功",
                    text="您的回答暂时无法提交，请稍后再试；我们的工作人员也会与您联系。")
    if outcome == "form":
        return page("survey.html", 422, **context)
    return page("survey_done.html", **context)
