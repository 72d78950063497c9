"""The ASGI app: each endpoint authenticates the API token, then calls the application's use cases as
the token's staff member, exactly as the CLI command of the same name does (one set of rules: the
access policy, G5-G9, every refusal recorded).

One worker holds one application (`open_app`) for its lifetime; every call into it runs on one
dedicated thread, one at a time (the event loop stays free to accept, parse and refuse requests). On
PostgreSQL the calls queued while that thread is busy run next as one commit group (service/group.py).
On PostgreSQL, `--workers N` runs N such workers, each with its own application (service/workers.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from huifang.core import clock
from huifang.core.access import AccessDenied
from huifang.core.errors import ConflictError, HuifangError, NotFound, Refused, StoreUnavailable
from huifang.core.usecases import tokens

from .group import GroupCommit
from .group import enabled as group_commit_enabled
from .schemas import (
    AttemptIn,
    CompleteIn,
    ErrorOut,
    FollowUpOut,
    QueueRow,
    ResolveIn,
    SubjectChanged,
    SubjectIn,
    SubjectOut,
    SubjectPatch,
    TicketOut,
    TriggerIn,
    TriggerOut,
)

T = TypeVar("T")
MAX_BODY = 1024 * 1024  # bytes: a trigger or a survey is a few KB; more is a mistake or an attack
API = "/api/v1"
# core error fields whose API field is spelt otherwise (the rest are the body's own names)
FIELD_OF = {"trigger_id": "id"}
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut}
                                            for code in (401, 403, 404, 409, 413, 422, 429, 503)}
RATE_LIMIT = 600  # requests per token per minute (`huifang serve --rate-limit`)
# a trigger post that lost a race with a concurrent writer (another worker, a CLI) is re-run: its one
# commit wrote nothing, and re-run it sees the winner's records (an id posted twice at once: 201 once,
# then 200 or 409 naming the fields)
CONFLICT_RETRIES = 3
# what `GET /reports/{kind}` answers in: the CLI's machine formats (a report's rows, not a picture)
REPORT_MEDIA = {"json": "application/json",
                "csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ApiError(Exception):
    """An error answered as {"field", "message"} with `status`."""

    def __init__(self, status: int, message: str, field: str | None = None, fields: list[str] | None = None,
                 retry_after: int | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.fields = status, message, field, fields
        self.retry_after = retry_after


def status_of(e: HuifangError) -> int:
    if isinstance(e, tokens.TokenRefused):
        return 401
    if isinstance(e, AccessDenied) or (isinstance(e, Refused) and e.field == "authorization"):
        return 403
    if isinstance(e, NotFound):
        return 404
    if isinstance(e, Refused | ConflictError):
        return 409
    if isinstance(e, StoreUnavailable):
        return 503
    return 422


def error_body(message: str, field: str | None = None, fields: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"field": field, "message": message}
    if fields is not None:
        body["fields"] = fields
    return body


class BodyLimit:
    """Refuse a request body over `limit` bytes (413): by its Content-Length before reading any, else
    (chunked) as it streams in. A body within the limit is read whole, then handed to the app."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = bool(message.get("more_body"))
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(error_body(f"the request body is over {self.limit} bytes", "body"), status_code=413,
                                headers={"Connection": "close"})
        await response(scope, receive, send)


class RateLimit:
    """At most `limit` requests per token in any 60 s (a sliding window, in this worker's memory: with N
    workers a token may make up to N x `limit` in all). Counted before the token is checked, so a flood
    of bad tokens is limited too."""

    WINDOW = 60.0

    def __init__(self, limit: int):
        self.limit = limit
        self.hits: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> int | None:
        """Count a request with `key`; None if allowed, else the seconds until one is."""
        now = time.monotonic()
        if len(self.hits) > 10_000:  # forget idle keys (a stream of forged tokens grows the map)
            self.hits = {k: q for k, q in self.hits.items() if q and now - q[-1] < self.WINDOW}
        q = self.hits.setdefault(key, deque())
        while q and now - q[0] >= self.WINDOW:
            q.popleft()
        if len(q) >= self.limit:
            return max(1, int(self.WINDOW - (now - q[0])) + 1)
        q.append(now)
        return None


class Service:
    """The application of one worker and the thread every call into it runs on."""

    def __init__(self, app: Any, now: datetime | None, rate_limit: int = RATE_LIMIT, workers: int = 1):
        """`workers`: how many processes serve the store (`serve --workers N`), for group commit's default."""
        self.app = app
        self.now = now  # `huifang --now T serve` (logical-clock stores: tests, demos); else the wall clock
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="huifang-app")
        self.rate = RateLimit(rate_limit)
        self.groups = GroupCommit(app.recorder, self.pool) if group_commit_enabled(app, workers) else None

    @contextlib.contextmanager
    def instant(self) -> Iterator[None]:
        with clock.at(self.now, clock.NOW_OPTION) if self.now else clock.at(clock.wall_clock(), clock.SYSTEM_CLOCK):
            yield

    async def call(self, fn: Callable[[], T], retry_conflicts: bool = False) -> T:
        """fn() on the application's thread; `retry_conflicts`: fn commits once, so a conflict wrote
        nothing and fn may run again."""
        def job() -> T:
            for retry in range(CONFLICT_RETRIES if retry_conflicts else 0, -1, -1):
                # what a command may cache for its own short life (staff roles, A4 locks, the aggregates
                # it read: reads_once) is read afresh
                self.app.access = self.app.access.renewed()
                try:
                    with self.instant(), self.app.reads_once():
                        return fn()
                except ConflictError:  # another worker's command won the race
                    if not retry:
                        raise
            raise AssertionError("unreachable")
        if self.groups is not None:
            return await asyncio.wrap_future(self.groups.submit(job))
        return await asyncio.get_running_loop().run_in_executor(self.pool, job)

    async def as_token(self, credentials: HTTPAuthorizationCredentials | None, scope: str, target: str,
                       fn: Callable[[str], T], retry_conflicts: bool = False) -> T:
        """fn(staff) as the token's staff member, if the token is valid and has `scope`."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "send the API token as 'Authorization: Bearer hf_...' (huifang token issue)",
                           "authorization")
        wait = self.rate.retry_after(credentials.credentials)
        if wait is not None:
            raise ApiError(429, f"over {self.rate.limit} requests a minute for this token; retry in {wait} s",
                           "authorization", retry_after=wait)

        def job() -> T:
            token = tokens.authenticate(self.app, credentials.credentials)
            tokens.require_scope(self.app, token, scope, target)
            return fn(token["staff"])
        return await self.call(job, retry_conflicts)


def create_app(app: Any, now: datetime | None = None, rate_limit: int = RATE_LIMIT, workers: int = 1) -> FastAPI:
    """The ASGI app over an open application (`huifang serve` opens it, as every command does), in one of
    `workers` serving processes."""
    from huifang.core.domain import FollowUp, Trigger
    from huifang.core.queries import followup_json
    from huifang.core.usecases.plans import differing_fields

    service = Service(app, now, rate_limit, workers)
    api = FastAPI(title="huifang", version="1", summary="回访: follow-up engine — integration API",
                  responses=ERRORS)
    api.add_middleware(BodyLimit)
    bearer = HTTPBearer(auto_error=False, description="An API token from `huifang token issue` (hf_...)")
    auth = Depends(bearer)

    @api.exception_handler(ApiError)
    async def _api_error(_request: Request, e: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
        if e.retry_after is not None:
            headers = {"Retry-After": str(e.retry_after)}
        return JSONResponse(error_body(e.message, e.field, e.fields), status_code=e.status, headers=headers)

    @api.exception_handler(HuifangError)
    async def _domain_error(_request: Request, e: HuifangError) -> JSONResponse:
        status = status_of(e)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {"Retry-After": "1"} if status == 503 else None
        field = FIELD_OF.get(e.field or "", e.field)
        return JSONResponse(error_body(e.message, field), status_code=status, headers=headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(x) for x in first.get("loc", ()) if x not in ("body", "query", "path", "header")]
        return JSONResponse(error_body(str(first.get("msg", "invalid")), ".".join(loc) or None), status_code=422)

    @api.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, e: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(e.detail)), status_code=e.status_code, headers=e.headers)

    @api.exception_handler(Exception)
    async def _internal(request: Request, e: Exception) -> JSONResponse:  # never a stack trace
        unavailable = StoreUnavailable.behind(e)  # a read met the database restarting: 503, worth a retry
        if unavailable is not None:
            return await _domain_error(request, unavailable)
        return JSONResponse(error_body(f"internal error: {type(e).__name__}; nothing was written"), status_code=500)

    # -- endpoints: each the CLI command named in its summary ----------------------------------------
    @api.post(f"{API}/triggers", response_model=TriggerOut, status_code=201, summary="huifang trigger",
              responses={200: {"model": TriggerOut, "description": "The id was received before with the same data: "
                                                                   "nothing changed"}})
    async def post_trigger(body: TriggerIn,
                           credentials: HTTPAuthorizationCredentials | None = auth) -> JSONResponse:
        def resent_fields(existing: Any, at: datetime | None) -> list[str]:
            """The core's refusal of a re-sent id names the fields that differ: the same ones, as a list."""
            k = app.registry.resolve_kind(body.kind)
            moved = [f for f, same in (("kind", existing.kind == k.qualified), ("subject", existing.subject == body.subject))
                     if not same]
            return moved or differing_fields(app, existing, app.validate_attributes(k, dict(body.attributes)), at)

        def go(staff: str) -> tuple[dict[str, Any], bool]:
            at = body.at
            if at is not None and at.tzinfo is None:
                at = clock.parse_instant(at.isoformat(), "at", app.config.huifang.timezone)
            if at is not None and at > clock.now():
                raise HuifangError(f"{at.isoformat()} is after now; a service event cannot be in the future",
                                   field="at")
            try:
                t, fus, created = app.receive_trigger(body.kind, body.subject, dict(body.attributes), body.id, at,
                                                      actor=staff)
            except Refused as e:
                existing = app.find(Trigger, body.id) if e.field == "trigger_id" else None
                if existing is None:
                    raise
                raise ApiError(409, e.message, "id", resent_fields(existing, at)) from None
            followups = [followup_json(app, f) for f in fus]
            warnings = [f"{f['id']}: {w}" for f in followups for w in f["warnings"]] if created else []
            return {"trigger": t.code, "kind": t.kind, "created": created, "followups": followups,
                    "skipped": t.skipped, "warnings": warnings}, created
        data, created = await service.as_token(credentials, "write", f"trigger {body.id}", go, retry_conflicts=True)
        out = TriggerOut.model_validate(data).model_dump(mode="json")
        return JSONResponse(out, status_code=201 if created else 200)

    @api.post(f"{API}/subjects", response_model=SubjectOut, status_code=201, summary="huifang subject add")
    async def post_subject(body: SubjectIn, credentials: HTTPAuthorizationCredentials | None = auth) -> SubjectOut:
        def go(staff: str) -> SubjectOut:
            app.add_subject(body.id, body.name, list(body.phones), body.email, body.tz, dict(body.attributes),
                            actor=staff)
            return SubjectOut(id=body.id, created=True)
        return await service.as_token(credentials, "write", f"subject {body.id}", go)

    @api.get(f"{API}/followups", response_model=list[QueueRow], summary="huifang queue --json")
    async def get_followups(owner: str | None = None, all: bool = False, on: str | None = None,
                            overdue: bool = False, limit: int = 50,
                            credentials: HTTPAuthorizationCredentials | None = auth) -> list[dict[str, Any]]:
        """The due queue (codes, no personal data): the token's staff member's own follow-ups by default,
        `owner=STAFF_ID` someone's, `all=true` everyone's; `on` a day, `overdue`, `limit` (0 = all)."""
        from huifang.core import queries
        from huifang.core.domain import Staff

        if limit < 0:
            raise ApiError(422, "must be 0 (all) or more", "limit")

        def go(staff: str) -> list[dict[str, Any]]:
            day = clock.parse_day(on, "on") if on else None
            if owner is not None and app.find(Staff, owner) is None:
                raise HuifangError(f"'{owner}' is not registered staff", field="owner")
            owners = None if all else owner if owner is not None else staff
            rows: list[dict[str, Any]] = queries.queue(app, owners, day, overdue, limit=limit)
            return rows
        return await service.as_token(credentials, "read", "followups", go)

    @api.get(f"{API}/followups/{{followup_id}}", response_model=FollowUpOut, summary="huifang show --json")
    async def get_followup(followup_id: str, reason: str | None = None,
                           credentials: HTTPAuthorizationCredentials | None = auth) -> dict[str, Any]:
        """The follow-up and its call sheet; reading the subject's personal data is a recorded read (G8)."""
        from huifang.projections.callsheet import build_call_sheet

        def go(staff: str) -> dict[str, Any]:
            sheet = build_call_sheet(app, followup_id, actor=staff, reason=reason)
            data: dict[str, Any] = {**followup_json(app, app.load(FollowUp, followup_id, "follow-up")),
                                    "sheet": sheet.model_dump(mode="json")}
            return data
        return await service.as_token(credentials, "read", f"follow-up {followup_id}", go)

    @api.post(f"{API}/followups/{{followup_id}}/attempts", response_model=FollowUpOut, summary="huifang attempt")
    async def post_attempt(followup_id: str, body: AttemptIn,
                           credentials: HTTPAuthorizationCredentials | None = auth) -> dict[str, Any]:
        def go(staff: str) -> dict[str, Any]:
            fu, messages = app.record_attempt(followup_id, body.channel, body.outcome, body.note, None, actor=staff,
                                              recording_failed_line=body.recording_failed_line,
                                              language=body.language)
            return {**followup_json(app, fu), "messages": messages}
        return await service.as_token(credentials, "write", f"follow-up {followup_id}", go)

    @api.post(f"{API}/followups/{{followup_id}}/complete", response_model=FollowUpOut, summary="huifang complete")
    async def post_complete(followup_id: str, body: CompleteIn,
                            credentials: HTTPAuthorizationCredentials | None = auth) -> dict[str, Any]:
        from huifang.core.contract import DISSATISFACTION_CODE, DISSATISFACTION_REASON

        def go(staff: str) -> dict[str, Any]:
            given = {k: v for k, v in ((DISSATISFACTION_CODE, body.reason_code), (DISSATISFACTION_REASON, body.reason))
                     if v}
            fu, messages = app.complete(followup_id, {**body.answers, **given}, actor=staff)
            return {**followup_json(app, fu), "messages": messages}
        return await service.as_token(credentials, "write", f"follow-up {followup_id}", go)

    @api.patch(f"{API}/subjects/{{subject_id}}", response_model=SubjectChanged, summary="huifang subject edit")
    async def patch_subject(subject_id: str, body: SubjectPatch,
                            credentials: HTTPAuthorizationCredentials | None = auth) -> SubjectChanged:
        """Correct the numbers or the address (F5): one event; the old values stay in the history, encrypted."""
        from huifang.core.domain import Subject
        from huifang.core.phones import mask_phone
        from huifang.core.usecases.subjects import edit_subject

        def go(staff: str) -> SubjectChanged:
            subject = edit_subject(app, subject_id, body.phone, list(body.add_phone), body.address, actor=staff)
            phones = [str(p) for p in app.keyring.reveal_all(list(app.load(Subject, subject.code, "subject").phones))]
            return SubjectChanged(id=subject_id, phones=[mask_phone(p) for p in phones],
                                  address_recorded=body.address is not None)
        return await service.as_token(credentials, "write", f"subject {subject_id}", go)

    @api.post(f"{API}/tickets/{{ticket_id}}/resolve", response_model=TicketOut, summary="huifang ticket resolve")
    async def post_resolve(ticket_id: str, body: ResolveIn,
                           credentials: HTTPAuthorizationCredentials | None = auth) -> dict[str, Any]:
        """Record the department's handling; plans the second follow-up (二次回访, G12)."""
        def go(staff: str) -> dict[str, Any]:
            t, second = app.resolve_ticket(ticket_id, body.note, actor=staff)
            data = {"id": t.code, "followup": t.followup, "subject": t.subject, "category": t.category,
                    "department": t.department, "severity": t.severity, "status": t.status, "owner": t.owner,
                    "deadline": clock.iso(t.deadline), "resolution": t.resolution,
                    "second_followup": t.second_followup, "escalations": t.escalations, "agent": t.agent,
                    "reason_code": t.reason_code, "reason": t.reason}
            shown: dict[str, Any] = app.keyring.reveal_all(data)  # the resolution is encrypted (G8)
            return {**shown, "second_followup_due": clock.iso(second.due)}
        return await service.as_token(credentials, "write", f"ticket {ticket_id}", go)

    @api.get(f"{API}/reports/{{kind}}", summary="huifang report KIND",
             responses={200: {"content": {m: {} for m in REPORT_MEDIA.values()},
                              "description": "The report as `huifang report KIND --format F` writes it"}})
    async def get_report(kind: str, date_from: str | None = Query(None, alias="from"),
                         date_to: str | None = Query(None, alias="to"), by: str | None = None,
                         plugin: str | None = None, fmt_given: str = Query("json", alias="format"),
                         reason: str | None = None,
                         credentials: HTTPAuthorizationCredentials | None = auth) -> Response:
        """A report over the views (caught up first) for the period `from`..`to` (local days), broken down
        `by` (DIM[,DIM]); json, csv (UTF-8 with the byte-order mark, as the CLI writes it) or xlsx."""
        from huifang.projections.render import build, render

        fmt = fmt_given.strip().lower()
        if fmt not in REPORT_MEDIA:
            raise ApiError(422, f"'{fmt_given}' is not one of {', '.join(REPORT_MEDIA)}", "format")

        def go(staff: str) -> bytes:
            first = clock.parse_day(date_from, "from") if date_from else None
            last = clock.parse_day(date_to, "to") if date_to else None
            dims = [d.strip() for d in (by or "").split(",") if d.strip()]
            app.projector.catch_up()
            with app.projector.engine.connect() as conn:
                if plugin is not None:  # as the CLI: an enabled plugin or one with follow-ups
                    from sqlalchemy import select

                    from huifang.projections.core_views import followups

                    seen = {r.plugin for r in conn.execute(select(followups.c.plugin).distinct())}
                    known = sorted(set(app.registry.plugins) | seen)
                    if plugin not in known:
                        raise HuifangError(f"'{plugin}' is not enabled and has no follow-ups; plugins: "
                                           f"{', '.join(known) or 'none'}", field="plugin")
                doc = build(app, conn, kind, plugin=plugin, by=dims, date_from=first, date_to=last, fmt=fmt,
                            now=clock.now(), options={"actor": staff, "reason": reason})  # G8: opinions
                data: bytes = render(doc, fmt)
                return data
        data = await service.as_token(credentials, "read", f"report {kind}", go)
        name = "".join(c for c in kind if c.isascii() and (c.isalnum() or c in "-_")) or "report"
        headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'} if fmt == "xlsx" else None
        return Response(data, media_type=REPORT_MEDIA[fmt], headers=headers)

    from fastapi.staticfiles import StaticFiles

    from . import dashboard

    api.include_router(dashboard.router)  # the supervisor dashboard (/dashboard)
    from . import survey

    api.include_router(survey.router)  # the subjects' survey links (/s/<token>, huifang invite)
    api.mount("/static", StaticFiles(directory=Path(__file__).resolve().parent / "static"), name="static")
    api.state.service = service
    return api


def serve(app: Any, host: str, port: int, now: datetime | None = None, rate_limit: int = RATE_LIMIT) -> None:
    """Run the service on one uvicorn worker until interrupted (SIGINT/SIGTERM)."""
    import uvicorn

    from .background import Background

    api = create_app(app, now, rate_limit)
    background = Background(app, now).start()  # the outboxes (webhooks out) every couple of seconds
    try:
        uvicorn.run(api, host=host, port=port, workers=1, log_level="warning", access_log=False,
                    server_header=False, date_header=True)
    finally:
        background.stop()
        api.state.service.pool.shutdown(wait=True)
