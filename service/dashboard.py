"""The supervisor dashboard (`/dashboard`, server-rendered, Chinese): headline figures of a period, the
trend by month, figures per department / agent / visit type, low-satisfaction flags (G16/M8), the
Pareto of complaint causes (G19), and a drill-down from every number to the follow-ups (tickets,
staff) behind it.

Every figure is a row of the engine's own reports (`huifang report rates|satisfaction|tickets|pareto`,
projections/render.build), computed on the service's one application thread like the API's calls; a
drill-down selects the period's follow-ups one by one with the reports' own per-row code
(`rate_figures` of that single row), so it lists exactly what the figure counts. Personal data is
shown masked (张*, 138****1234); unmasking one row is a recorded read (G8) with a stated reason.

Pages work without JavaScript (tables); the charts are drawn by the vendored ECharts from the JSON
embedded in the page (service/static/vendor, no CDN).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huifang.core import clock
from huifang.core.errors import HuifangError

from .auth import (
    COOKIE,
    DASHBOARD_ROLES,
    Session,
    Sessions,
    Throttle,
    csrf_ok,
    dashboard_refusal,
    fingerprint,
    record_signin_refusal,
    session_key,
)

HERE = Path(__file__).resolve().parent
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                               trim_blocks=True, lstrip_blocks=True)
LANG = "zh_CN"
router = APIRouter(prefix="/dashboard", include_in_schema=False)

# the figures a follow-up drill-down can list: the count keys of plugin_api.reports.rate_figures
FOLLOWUP_FIGURES = ("due", "completed", "reached", "refused", "cancelled", "cancelled_before_contact", "lost",
                    "open", "overdue", "exempt", "pending", "on_time")
SATISFACTION_FIGURES = ("responses", "dissatisfied")
TICKET_FIGURES = ("tickets", "open", "overdue", "unresolved")
PAGE = 200  # drill-down rows per page
DRILL_DIMENSIONS = ("department", "agent", "visit_type", "plugin", "branch")
FIGURE_NAMES = {"due": "应访", "completed": "已完成回访", "reached": "已接通", "refused": "拒访",
                "cancelled": "已取消", "cancelled_before_contact": "联系前取消", "lost": "失访", "open": "未完成",
                "overdue": "已超期", "exempt": "免访", "pending": "未到期", "on_time": "按时完成",
                "responses": "满意度答卷", "dissatisfied": "不满意", "tickets": "问题件", "unresolved": "未结问题件"}
DIMENSION_NAMES = {"department": "科室/部门", "agent": "回访员", "visit_type": "回访类型", "plugin": "行业",
                   "branch": "分支机构", "month": "月份"}
CSRF_REFUSED = "表单已失效或来源不明（CSRF 校验失败），请刷新页面后重试。"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # pages name subjects (masked or not): never kept by a shared cache
}


# -- rendering helpers ------------------------------------------------------------------------------
def pct(v: Any) -> str:
    """A rate as the reports' human formats show it (render.text_cell): 66.7%; None as -."""
    return "-" if v is None else f"{100 * float(v):.1f}%"


def shown(column: str, v: Any) -> str:
    from huifang.core import labels

    if v is None or v == "":
        return "-"
    return str(labels.cell(column, v, LANG))


TEMPLATES.filters["pct"] = pct
TEMPLATES.globals["shown"] = shown
TEMPLATES.globals["FIGURE_NAMES"] = FIGURE_NAMES
TEMPLATES.globals["DIMENSION_NAMES"] = DIMENSION_NAMES


def page(template: str, status: int = 200, **data: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(**data)
    return HTMLResponse(html, status_code=status, headers=dict(SECURITY_HEADERS))


# -- who is asking ------------------------------------------------------------------------------------
@dataclasses.dataclass
class Board:
    """The dashboard's state in one worker: cookie signing and the sign-in throttle."""

    sessions: Sessions
    throttle: Throttle
    trusted_header: str | None


def board(request: Request) -> Board:
    state = request.app.state
    found = getattr(state, "dashboard", None)
    if found is None:
        app = state.service.app
        header = getattr(getattr(app.config, "serve", None), "trusted_header", None)
        found = state.dashboard = Board(Sessions(session_key(app)), Throttle(), header)
    assert isinstance(found, Board)
    return found


T = TypeVar("T")


class Service(Protocol):
    """What the dashboard needs of app.Service: the worker's application and its one thread."""

    app: Any

    async def call(self, fn: Callable[[], T]) -> T: ...


def service(request: Request) -> Service:
    found: Service = request.app.state.service
    return found


@dataclasses.dataclass
class Visitor:
    session: Session
    staff: Any = None  # the signed-in (or proxy-named) staff member allowed to use the dashboard
    refusal: str | None = None  # why a proxy-named user may not


def current_session(request: Request) -> Session:
    found = board(request).sessions.read(request.cookies.get(COOKIE))
    return found if found is not None else Sessions.anonymous()


async def visitor(request: Request) -> Visitor:
    """The session and the staff member behind it: by the trusted header when it is configured and
    sent, else by the signed cookie. A session whose staff member is gone, changed role or changed
    password is signed out."""
    b = board(request)
    session = current_session(request)
    proxied = request.headers.get(b.trusted_header) if b.trusted_header else None
    code = (proxied or "").strip() if proxied is not None else session.staff
    if not code:
        return Visitor(session)
    svc = service(request)

    def check() -> tuple[Any, str | None]:
        from huifang.core.domain import Staff

        staff = svc.app.find(Staff, code)
        why = dashboard_refusal(staff, code)
        if proxied is not None:
            if why is not None:  # the proxy vouched for them, the policy refuses: recorded (G8)
                svc.app.access.record_refusal(code if staff is not None else "anonymous", "dashboard.use",
                                              "dashboard", why)
            return (None, why) if why else (staff, None)
        if why is not None or session.password != fingerprint(getattr(staff, "password_hash", None)):
            return None, None  # signed out: no longer allowed, or the password changed since
        return staff, None
    staff, refusal = await svc.call(check)
    if staff is None and proxied is None:
        session = Sessions.anonymous()  # the stale session is replaced
    return Visitor(session, staff, refusal)


def with_cookie(response: Response, request: Request, session: Session) -> Response:
    if session.fresh:
        response.set_cookie(COOKIE, board(request).sessions.dump(session), max_age=board(request).sessions.max_age,
                            path="/dashboard", httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response


def signin_page(request: Request, session: Session, status: int = 200, error: str | None = None,
                staff_id: str = "") -> Response:
    return with_cookie(page("dashboard_signin.html", status, csrf=session.csrf, error=error, staff_id=staff_id,
                            roles=sorted(DASHBOARD_ROLES)), request, session)


def refused_page(request: Request, session: Session, status: int, message: str) -> Response:
    return with_cookie(page("dashboard_error.html", status, message=message, csrf=session.csrf, staff=None),
                       request, session)


async def form_of(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def posted(request: Request) -> tuple[dict[str, str], Response | None]:
    """A POST's form, or the refusal to answer with when its CSRF token is missing or not the session's
    (403, before anything runs; the session, if any, stays as it was)."""
    form = await form_of(request)
    session = board(request).sessions.read(request.cookies.get(COOKIE))
    if not csrf_ok(session, form.get("csrf")):
        return form, refused_page(request, session or Sessions.anonymous(), 403, CSRF_REFUSED)
    return form, None


# -- the period ------------------------------------------------------------------------------------------
def period(app: Any, date_from: str | None, date_to: str | None) -> tuple[date, date]:
    """[from, to] local days; default: this month by the application's clock."""
    from huifang.projections.core_reports import add_months, month_start

    today = clock.now().astimezone(clock.zone(app.config.huifang.timezone)).date()
    first = clock.parse_day(date_from, "from") if date_from else month_start(today)
    last = clock.parse_day(date_to, "to") if date_to else add_months(month_start(first), 1) - timedelta(days=1)
    if first > last:
        raise HuifangError(f"{first} is after {last}", field="from")
    return first, last


def link(path: str, **params: Any) -> str:
    return f"/dashboard{path}?" + urlencode({k: ("" if v is None else v) for k, v in params.items()
                                             if v is not None})


# -- the figures ----------------------------------------------------------------------------------------
def report_rows(app: Any, conn: Any, kind: str, by: list[str], first: date, last: date, now: datetime,
                staff: str) -> list[dict[str, Any]]:
    """The rows of `huifang report KIND --by BY --from FIRST --to LAST --json`: the same build; with no
    BY for a report whose default groups (satisfaction: per department), its rows over all of them."""
    from huifang.projections.catalog import find
    from huifang.projections.render import build
    from huifang.projections.reports import ReportContext

    report = find(app, kind).report
    if by or not report.default_by:
        rows: list[dict[str, Any]] = build(app, conn, kind, by=by, date_from=first, date_to=last, fmt="json",
                                           now=now, options={"actor": staff}).rows
        return rows
    ctx = ReportContext(conn=conn, app=app, by=[], date_from=first, date_to=last, now=now,
                        tz=app.config.huifang.timezone, kind=kind, options={"actor": staff})
    report.prepare(ctx)
    rows = report.rows(ctx)
    return rows


def overview(app: Any, staff: str, first: date, last: date) -> dict[str, Any]:
    """Everything the overview page shows for [first, last] at the application's now."""
    from huifang.projections.core_reports import add_months, month_start
    from huifang.projections.people import staff_rows

    now = clock.now()
    app.projector.catch_up()
    with app.projector.engine.connect() as conn:
        def rows(kind: str, by: list[str], start: date = first) -> list[dict[str, Any]]:
            return report_rows(app, conn, kind, by, start, last, now, staff)

        rates = rows("rates", [])[0]
        satisfaction = (rows("satisfaction", []) or [{}])[0]
        tickets = (rows("tickets", []) or [{}])[0]
        trend_from = min(first, add_months(month_start(last), -11))  # 12 months to the period's end, at least
        trend = rows("rates", ["month"], trend_from)
        breakdowns = {dim: rows("rates", [dim]) for dim in ("department", "agent", "visit_type")}
        low = {dim: rows("satisfaction", [dim]) for dim in ("department", "agent")}
        pareto = rows("pareto", [])
    everyone = staff_rows(app)
    locked = [r for r in everyone if r["locked"]]
    names = {r["id"]: f"{r['name']}（{r['id']}）" for r in everyone}  # agents by name (staff are not subjects)
    for r in trend:  # a month's drill-down is that month's part of the period
        m0 = date.fromisoformat(r["month"] + "-01") if r.get("month") else None
        if m0 is not None:
            r["_from"] = max(m0, trend_from).isoformat()
            r["_to"] = min(add_months(m0, 1) - timedelta(days=1), last).isoformat()
    return {"rates": rates, "satisfaction": satisfaction, "tickets": tickets, "locks": len(locked),
            "locked": locked, "trend": trend, "trend_from": trend_from, "breakdowns": breakdowns, "low": low,
            "pareto": pareto, "names": names, "now": clock.iso(now, app.config.huifang.timezone)}


def charts(data: dict[str, Any]) -> dict[str, Any]:
    """The charts' data (embedded as JSON; static/dashboard.js draws them with ECharts)."""
    def rate(v: Any) -> float | None:
        return None if v is None else round(100 * float(v), 1)

    out: dict[str, Any] = {
        "trend": {"x": [r["month"] for r in data["trend"]],
                  "series": [{"name": name, "data": [rate(r.get(key)) for r in data["trend"]]}
                             for key, name in (("callback_rate", "回访率"), ("success_rate", "成功率"),
                                               ("on_time_rate", "及时率"))]},
        "pareto": {"x": [shown("cause", r["cause"]) for r in data["pareto"]],
                   "count": [r["tickets"] for r in data["pareto"]],
                   "cumulative": [rate(r["cumulative_share"]) for r in data["pareto"]]},
    }
    for dim, rows in data["breakdowns"].items():
        names = data["names"] if dim == "agent" else {}
        out[f"by_{dim}"] = {"x": [names.get(r.get(dim)) or shown(dim, r.get(dim)) for r in rows],
                            "series": [{"name": "回访率", "data": [rate(r.get("callback_rate")) for r in rows]},
                                       {"name": "成功率", "data": [rate(r.get("success_rate")) for r in rows]}]}
    rows = data["low"]["department"]
    out["satisfaction"] = {"x": [shown("department", r.get("department")) for r in rows],
                           "share": [rate(r.get("satisfied_share")) for r in rows],
                           "threshold": [rate(r.get("threshold")) for r in rows]}
    return out


# -- drill-down ------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Drill:
    figure: str
    first: date
    last: date
    dim: str | None = None
    value: str | None = None  # "" names the group without a value (-)
    page: int = 1  # of PAGE rows: a month of a large hospital is thousands of follow-ups

    def params(self, page: int | None = None) -> dict[str, Any]:
        n = page or self.page
        return {"figure": self.figure, "from": self.first.isoformat(), "to": self.last.isoformat(),
                "dim": self.dim, "value": self.value, "page": n if n > 1 else None}

    def window(self, rows: list[Any]) -> list[Any]:
        return rows[(self.page - 1) * PAGE:self.page * PAGE]


def page_number(text: str | None) -> int:
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise HuifangError(f"'{text}' is not a page number", field="page")
    return int(text)


def parse_drill(figure: str | None, first: date, last: date, dim: str | None, value: str | None,
                figures: tuple[str, ...], dimensions: tuple[str, ...] = DRILL_DIMENSIONS,
                page: str | None = None) -> Drill:
    if figure not in figures:
        raise HuifangError(f"'{figure}' is not one of {', '.join(figures)}", field="figure")
    if dim and dim not in dimensions:
        raise HuifangError(f"'{dim}' is not one of {', '.join(dimensions)}", field="dim")
    return Drill(figure, first, last, dim or None, value if dim else None, page_number(page))


def report_context(app: Any, conn: Any, d: Drill, now: datetime) -> Any:
    from huifang.projections.reports import ReportContext

    return ReportContext(conn=conn, app=app, by=[], date_from=d.first, date_to=d.last, now=now,
                         tz=app.config.huifang.timezone, kind="rates")


def in_group(d: Drill, dims: dict[str, Any]) -> bool:
    return d.dim is None or (dims.get(d.dim) or "") == (d.value or "")


def drilled_followups(app: Any, d: Drill) -> list[Any]:
    """The view rows of the follow-ups a figure counts: each of the period's follow-ups (as `report rates`
    selects them) that `rate_figures` of that one row counts under the figure; for satisfaction, the
    completed follow-ups with an answer (`report satisfaction`), dissatisfied: those answering 不满意."""
    from huifang.projections.core_views import followups
    from huifang.projections.reports import LEVEL_KEYS, followup_records, rate_figures

    now = clock.now()
    app.projector.catch_up()
    with app.projector.engine.connect() as conn:
        ctx = report_context(app, conn, d, now)
        if d.figure in SATISFACTION_FIGURES:
            recs = followup_records(ctx, extra=[followups.c.status == "completed",
                                                followups.c.satisfaction.is_not(None)])
            return [r.row for r in recs if in_group(d, r.dims)
                    and (d.figure == "responses" or LEVEL_KEYS.get(r.row.satisfaction) == "dissatisfied")]
        now_ts = ctx.now_ts()
        return [r.row for r in followup_records(ctx) if in_group(d, r.dims)
                and rate_figures([r.row], now_ts)[d.figure] == 1]


def drilled_tickets(app: Any, d: Drill) -> list[Any]:
    """The tickets a figure of `report tickets` (or a cause of `report pareto`) counts."""
    from huifang.projections.core_reports import ticket_overdue, ticket_records

    now = clock.now()
    app.projector.catch_up()
    with app.projector.engine.connect() as conn:
        ctx = report_context(app, conn, d, now)
        now_ts = ctx.now_ts()
        keep = {"tickets": lambda t: True, "open": lambda t: t.status == "open",
                "overdue": lambda t: ticket_overdue(t, now_ts),
                "unresolved": lambda t: t.status in ("open", "resolved")}[d.figure]
        return [r.row for r in ticket_records(ctx) if keep(r.row)
                and (d.dim != "category" or r.row.category == d.value)]


def people(app: Any, subjects: list[str]) -> dict[str, dict[str, Any]]:
    """Each subject's name and phones as held (decrypted, not shown: the page masks them)."""
    from huifang.core.domain import Subject

    out: dict[str, dict[str, Any]] = {}
    for code in dict.fromkeys(subjects):
        s = app.find(Subject, code)
        # an erased subject (G10) reads as "[erased]", shown as it is (masked); a store that cannot be
        # read, or a master key of another store, is an error, not a blank name
        name = str(app.keyring.reveal(s.name)) if s is not None else ""
        phones = [str(p) for p in app.keyring.reveal_all(list(s.phones))] if s is not None else []
        out[code] = {"name": name, "phones": phones}
    return out


def masked(person: dict[str, Any]) -> dict[str, Any]:
    from huifang.core.phones import mask_name, mask_phone

    return {"name": mask_name(person["name"]) or "-", "phone": ", ".join(mask_phone(p) for p in person["phones"]) or "-"}


def followup_list(app: Any, rows: list[Any], unmasked: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    from huifang.core.plugin_api.reports import credited_agent

    tz = app.config.huifang.timezone
    who = people(app, [r.subject for r in rows])
    out = []
    for r in rows:
        person = who.get(r.subject, {"name": "", "phones": []})
        shown_person = ({"name": person["name"] or "-", "phone": ", ".join(person["phones"]) or "-"}
                        if r.code in unmasked else masked(person))
        out.append({"code": r.code, "subject": r.subject, **shown_person, "unmasked": r.code in unmasked,
                    "visit_type": r.visit_type, "plugin": r.plugin, "department": r.department,
                    "agent": credited_agent(r), "status": r.status,
                    "due": clock.iso(datetime.fromisoformat(r.due), tz)[:16].replace("T", " ") if r.due else "-",
                    "completed": (clock.iso(datetime.fromisoformat(r.completed_at), tz)[:16].replace("T", " ")
                                  if r.completed_at else "-"),
                    "satisfaction": r.satisfaction})
    return out


def ticket_list(app: Any, rows: list[Any]) -> list[dict[str, Any]]:
    tz = app.config.huifang.timezone
    who = people(app, [r.subject for r in rows if r.subject])

    def local(ts: str | None) -> str:
        return clock.iso(datetime.fromisoformat(ts), tz)[:16].replace("T", " ") if ts else "-"
    return [{"code": r.code, "followup": r.followup, **masked(who.get(r.subject, {"name": "", "phones": []})),
             "category": r.category, "department": r.department, "severity": r.severity, "status": r.status,
             "opened": local(r.opened_at), "deadline": local(r.deadline), "plugin": r.plugin} for r in rows]


# -- pages ------------------------------------------------------------------------------------------------
def error_status(e: HuifangError) -> int:
    """As the API answers the same error (app.status_of), a bad input 400 rather than 422 on a page."""
    from huifang.core.access import AccessDenied
    from huifang.core.errors import ConflictError, NotFound, Refused

    if isinstance(e, AccessDenied):
        return 403
    if isinstance(e, NotFound):
        return 404
    if isinstance(e, Refused | ConflictError):
        return 409
    return 400


async def gate(request: Request) -> tuple[Visitor, Response | None]:
    """The visitor, or the page to answer instead: sign-in, or a refusal of a proxy-named user."""
    v = await visitor(request)
    if v.staff is None:
        if v.refusal is not None:
            return v, refused_page(request, v.session, 403, f"无权使用看板：{v.refusal}")
        return v, signin_page(request, v.session)
    return v, None


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request) -> Response:
    v, answer = await gate(request)
    if answer is not None:
        return answer
    svc = service(request)
    q = request.query_params

    def go() -> dict[str, Any]:
        first, last = period(svc.app, q.get("from") or None, q.get("to") or None)
        return {"first": first, "last": last, **overview(svc.app, v.staff.code, first, last)}
    try:
        data = await svc.call(go)
    except HuifangError as e:
        return error_page(request, v, e)
    return with_cookie(page("dashboard.html", staff=v.staff, csrf=v.session.csrf, link=link,
                            charts=charts(data), proxied=v.session.staff is None, **data), request, v.session)


def error_page(request: Request, v: Visitor, e: HuifangError) -> Response:
    message = f"{e.field}: {e.message}" if e.field else e.message
    return with_cookie(page("dashboard_error.html", error_status(e), message=message, csrf=v.session.csrf,
                            staff=v.staff), request, v.session)


@router.post("/signin")
async def signin(request: Request) -> Response:
    form, refusal = await posted(request)
    if refusal is not None:
        return refusal
    session = board(request).sessions.read(request.cookies.get(COOKIE))
    assert session is not None  # posted() checked its CSRF token
    code = (form.get("staff") or "").strip()
    password = form.get("password") or ""
    b, svc = board(request), service(request)
    if b.throttle.blocked(code):  # not even checked: refused, and recorded like any failed sign-in
        await svc.call(lambda: record_signin_refusal(svc.app, code, "too many failed sign-ins in a minute"))
        return signin_page(request, session, 429, "登录失败次数过多，请一分钟后再试。", code)

    def go() -> tuple[Any, str | None]:
        from huifang.core.usecases.staff import check_password

        staff = check_password(svc.app, code, password)
        why = ("wrong staff id or password" if staff is None else dashboard_refusal(staff, code))
        if why is not None:
            record_signin_refusal(svc.app, code, why)  # G8: every failed sign-in is a recorded refusal
            return None, why
        return staff, None
    staff, why = await svc.call(go)
    if staff is None:
        b.throttle.failed(code)
        message = "工号或密码错误。" if why == "wrong staff id or password" else f"无权使用看板：{why}"
        return signin_page(request, session, 401 if why == "wrong staff id or password" else 403, message, code)
    fresh = Sessions.signed_in(staff.code, staff.password_hash)
    return with_cookie(RedirectResponse("/dashboard", status_code=303), request, fresh)


@router.post("/signout")
async def signout(request: Request) -> Response:
    _form, refusal = await posted(request)
    if refusal is not None:
        return refusal
    response = RedirectResponse("/dashboard", status_code=303)
    response.delete_cookie(COOKIE, path="/dashboard")
    return response


def drill_page(request: Request, v: Visitor, kind: str, d: Drill, items: list[dict[str, Any]], total: int,
               status: int = 200, notice: str | None = None) -> Response:
    path = f"/{kind}"
    pages = {"prev": link(path, **d.params(d.page - 1)) if d.page > 1 else None,
             "next": link(path, **d.params(d.page + 1)) if d.page * PAGE < total else None,
             "first_row": (d.page - 1) * PAGE + 1, "last_row": (d.page - 1) * PAGE + len(items)}
    return with_cookie(page("dashboard_drill.html", status, staff=v.staff, csrf=v.session.csrf, kind=kind, d=d,
                            items=items, total=total, pages=pages, link=link, notice=notice,
                            back=link("", **{"from": d.first.isoformat(), "to": d.last.isoformat()})),
                       request, v.session)


@router.get("/followups", response_class=HTMLResponse)
async def followups_page(request: Request) -> Response:
    return await _followups(request, {}, None)


async def _followups(request: Request, params: dict[str, str], unmask: tuple[str, str] | None) -> Response:
    v, answer = await gate(request)
    if answer is not None:
        return answer
    svc = service(request)
    q = {**request.query_params, **params}

    def go() -> tuple[Drill, list[dict[str, Any]], int]:
        first, last = period(svc.app, q.get("from") or None, q.get("to") or None)
        d = parse_drill(q.get("figure"), first, last, q.get("dim"), q.get("value"),
                        FOLLOWUP_FIGURES + SATISFACTION_FIGURES, page=q.get("page"))
        rows = drilled_followups(svc.app, d)
        unmasked: dict[str, dict[str, Any]] = {}
        if unmask is not None:
            code, reason = unmask
            row = next((r for r in rows if r.code == code), None)
            if row is None:
                raise HuifangError(f"{code} is not in this list", field="followup")
            if not reason.strip():
                raise HuifangError("说明查看原因 (G8)", field="reason")
            from huifang.core.audit.reads import record_read

            record_read(svc.app, v.staff.code, row.subject, "dashboard", f"dashboard:{code}", reason)  # G8
            unmasked[code] = {}
        return d, followup_list(svc.app, d.window(rows), unmasked), len(rows)
    try:
        d, items, total = await svc.call(go)
    except HuifangError as e:
        return error_page(request, v, e)
    notice = f"已记录查看 {unmask[0]} 的个人信息（原因：{unmask[1].strip()}）" if unmask else None
    return drill_page(request, v, "followups", d, items, total, notice=notice)


@router.post("/unmask", response_class=HTMLResponse)
async def unmask(request: Request) -> Response:
    """Show one row's name and numbers unmasked: a recorded read (G8) with its reason; the answer is
    this page (never a URL holding the data), not cached."""
    form, refusal = await posted(request)
    if refusal is not None:
        return refusal
    params = {k: form.get(k, "") for k in ("figure", "from", "to", "dim", "value", "page")}
    return await _followups(request, params, (form.get("followup", ""), form.get("reason", "")))


@router.get("/tickets", response_class=HTMLResponse)
async def tickets_page(request: Request) -> Response:
    v, answer = await gate(request)
    if answer is not None:
        return answer
    svc = service(request)
    q = request.query_params

    def go() -> tuple[Drill, list[dict[str, Any]], int]:
        first, last = period(svc.app, q.get("from") or None, q.get("to") or None)
        d = parse_drill(q.get("figure"), first, last, q.get("dim"), q.get("value"), TICKET_FIGURES, ("category",),
                        q.get("page"))
        rows = drilled_tickets(svc.app, d)
        return d, ticket_list(svc.app, d.window(rows)), len(rows)
    try:
        d, items, total = await svc.call(go)
    except HuifangError as e:
        return error_page(request, v, e)
    return drill_page(request, v, "tickets", d, items, total)


@router.get("/locks", response_class=HTMLResponse)
async def locks_page(request: Request) -> Response:
    v, answer = await gate(request)
    if answer is not None:
        return answer
    svc = service(request)
    q = request.query_params

    def go() -> tuple[Drill, list[dict[str, Any]]]:
        from huifang.core.domain import Staff
        from huifang.projections.people import staff_rows

        first, last = period(svc.app, q.get("from") or None, q.get("to") or None)
        out = []
        for r in staff_rows(svc.app):
            if r["locked"]:
                lock = svc.app.find(Staff, r["id"]).lock or {}
                out.append({**r, "level": lock.get("level"), "days_overdue": lock.get("days_overdue"),
                            "followups": list(lock.get("followups", []))})
        return Drill("locks", first, last), out
    try:
        d, items = await svc.call(go)
    except HuifangError as e:
        return error_page(request, v, e)
    return drill_page(request, v, "locks", d, items, len(items))
