"""The supervisor dashboard in-process (FastAPI's TestClient over `create_app`, the app `huifang serve`
runs): sign-in with the password set by `huifang staff password` (argon2id), failed sign-ins refused
and recorded, CSRF on every POST, signed session cookies (tampered: signed out; a new password ends the
old sessions), the role check, the trusted proxy header (off by default), headline figures equal to
`huifang report rates --json` for the same period, drill-downs listing exactly the follow-ups counted,
masked personal data and the recorded unmask (G8, G15, G16)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import STORE, Huifang, copy_store
from tests.dashboard_kit import NOW, PASSWORD, PERIOD, set_password, ward

FROM, TO = PERIOD


@pytest.fixture(scope="module", autouse=True)
def quick_hashes() -> Iterator[None]:
    """argon2id with the smallest parameters in these in-process tests (the hash names its own parameters,
    so verifying stays the same code); `huifang serve` in the browser test hashes with the real ones."""
    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("huifang.core.usecases.staff._hasher",
                   lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="module")
def store(quick_hashes: None, tmp_path_factory: Any, sqlite_template: Path) -> Huifang:
    """The ward on SQLite, passwords set for the supervisor, the manager and (to be refused) an agent."""
    hf = Huifang(copy_store(sqlite_template, tmp_path_factory.mktemp("dashboard") / STORE))
    ward(hf)
    for staff in ("hn", "mgr", "n1"):
        set_password(hf, staff)
    return hf


def make_api(db: str, config: str | None = None) -> Any:
    from huifang.core import clock
    from huifang.core.config import load_config
    from huifang.projections import open_app
    from huifang.service.app import create_app

    app = open_app(db, load_config(config, "--config" if config else None, db))
    return create_app(app, clock.parse_instant(NOW))


@pytest.fixture(scope="module")
def api(store: Huifang) -> Iterator[Any]:
    api = make_api(store.db)
    yield api
    api.state.service.pool.shutdown(wait=True)
    api.state.service.app.close()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)


def signed_in(api: Any, staff: str = "hn", password: str = PASSWORD) -> TestClient:
    c = TestClient(api)
    r = c.post("/dashboard/signin", data={"staff": staff, "password": password,
                                          "csrf": csrf_of(c.get("/dashboard").text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard", r.text[:300]
    return c


def headline(html: str) -> dict[str, str]:
    return dict(re.findall(r'class="card" data-key="([^"]+)" data-value="([^"]*)"', html))


def drilled(c: TestClient, path: str = "/dashboard/followups", **params: str) -> list[str]:
    r = c.get(path, params={"from": FROM, "to": TO, **params})
    assert r.status_code == 200, r.text[:300]
    ids = re.findall(r'data-(?:followup|ticket)="([^"]+)"', r.text)
    assert f'id="drill-count">{len(ids)}<' in r.text  # one page holds them all
    return ids


def refusals(store: Huifang, who: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = store.ok("audit", "reads", "--actor", who, actor="adm", now=NOW)["refusals"]
    return out


def test_G8_dashboard_sign_in_with_the_staff_password(api: Any) -> None:
    c = TestClient(api)
    first = c.get("/dashboard")
    assert first.status_code == 200 and 'action="/dashboard/signin"' in first.text and "登录" in first.text
    assert "HttpOnly" in first.headers["set-cookie"] and "SameSite=lax" in first.headers["set-cookie"]
    c = signed_in(api)
    page = c.get("/dashboard")
    assert page.status_code == 200 and "护士长（hn" in page.text and "回访率" in page.text
    assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in page.headers[
        "content-security-policy"]
    out = c.post("/dashboard/signout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert 'action="/dashboard/signin"' in c.get("/dashboard").text  # signed out


def test_G8_dashboard_wrong_password_is_refused_and_recorded(api: Any, store: Huifang) -> None:
    before = len(refusals(store, "hn"))
    c = TestClient(api)
    r = c.post("/dashboard/signin", data={"staff": "hn", "password": "not-the-password",
                                          "csrf": csrf_of(c.get("/dashboard").text)})
    assert r.status_code == 401 and "工号或密码错误" in r.text and "回访率" not in r.text
    after = refusals(store, "hn")
    assert len(after) == before + 1 and after[-1]["action"] == "dashboard.signin"
    assert PASSWORD not in str(after) and "not-the-password" not in str(after)
    r = c.post("/dashboard/signin", data={"staff": "nobody", "password": "x" * 12, "csrf": csrf_of(r.text)})
    assert r.status_code == 401  # the same answer for an unknown id; recorded under `anonymous`
    assert refusals(store, "anonymous")[-1]["target"] == "dashboard sign-in as nobody"


def test_G8_dashboard_repeated_failed_sign_ins_wait_a_minute_and_are_recorded(api: Any, store: Huifang) -> None:
    c = TestClient(api)
    csrf = csrf_of(c.get("/dashboard").text)
    codes = [c.post("/dashboard/signin", data={"staff": "ghost", "password": f"guess-{i:06d}", "csrf": csrf}
                    ).status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert refusals(store, "anonymous")[-1]["reason"] == "too many failed sign-ins in a minute"


def test_G8_dashboard_post_without_csrf_token_is_403(api: Any) -> None:
    c = TestClient(api)
    c.get("/dashboard")
    r = c.post("/dashboard/signin", data={"staff": "hn", "password": PASSWORD})
    assert r.status_code == 403 and "CSRF" in r.text
    c = signed_in(api)
    r = c.post("/dashboard/unmask", data={"followup": "D1-1", "reason": "核对", "figure": "completed",
                                          "from": FROM, "to": TO})
    assert r.status_code == 403 and "张三丰" not in r.text
    r = c.post("/dashboard/signout", data={"csrf": "forged"})
    assert r.status_code == 403
    assert "回访率" in c.get("/dashboard").text  # still signed in: the forged sign-out did nothing


def test_G8_dashboard_tampered_session_cookie_is_signed_out(api: Any) -> None:
    from huifang.service.auth import COOKIE

    c = signed_in(api)
    cookie = c.cookies.get(COOKIE)
    assert cookie
    forged = TestClient(api)
    payload, _, rest = cookie.partition(".")
    import base64
    import json

    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["s"] = "mgr"  # claim to be the manager, keep the signature
    evil = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=") + "." + rest
    forged.cookies.set(COOKIE, evil, path="/dashboard")
    r = forged.get("/dashboard")
    assert 'action="/dashboard/signin"' in r.text and "回访率" not in r.text
    forged.cookies.set(COOKIE, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"), path="/dashboard")
    assert 'action="/dashboard/signin"' in forged.get("/dashboard").text


def test_G8_dashboard_only_supervisors_managers_and_admins(api: Any, store: Huifang) -> None:
    c = TestClient(api)
    r = c.post("/dashboard/signin", data={"staff": "n1", "password": PASSWORD,
                                          "csrf": csrf_of(c.get("/dashboard").text)})
    assert r.status_code == 403 and "回访率" not in r.text and "supervisor" in r.text
    assert refusals(store, "n1")[-1]["action"] == "dashboard.signin"
    assert "刘经理" in signed_in(api, "mgr").get("/dashboard").text


def test_G8_dashboard_new_password_ends_the_old_sessions(tmp_path: Path, sqlite_template: Path) -> None:
    hf = Huifang(copy_store(sqlite_template, tmp_path / STORE))
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")
    hf.ok("staff", "add", "sv", "--name", "主管", "--role", "supervisor", actor="adm")
    set_password(hf, "sv")
    api = make_api(hf.db)
    try:
        c = signed_in(api, "sv")
        assert "回访率" in c.get("/dashboard").text
        set_password(hf, "sv", "another-pass-99")
        assert 'action="/dashboard/signin"' in c.get("/dashboard").text
        signed_in(api, "sv", "another-pass-99")
    finally:
        api.state.service.pool.shutdown(wait=True)
        api.state.service.app.close()


def test_G8_dashboard_trusted_header_is_off_by_default_and_works_when_configured(
        api: Any, store: Huifang, tmp_path: Path) -> None:
    c = TestClient(api)
    r = c.get("/dashboard", headers={"X-Remote-User": "hn"})
    assert 'action="/dashboard/signin"' in r.text and "回访率" not in r.text  # off: the header means nothing
    config = tmp_path / "huifang.toml"
    config.write_text('[serve]\ntrusted_header = "X-Remote-User"\n', encoding="utf-8")
    proxied = make_api(store.db, str(config))
    try:
        c = TestClient(proxied)
        assert "回访率" in c.get("/dashboard", headers={"X-Remote-User": "hn"}).text
        r = c.get("/dashboard", headers={"X-Remote-User": "n1"})
        assert r.status_code == 403 and "回访率" not in r.text
        assert refusals(store, "n1")[-1]["action"] == "dashboard.use"
        assert 'action="/dashboard/signin"' in c.get("/dashboard").text  # no header: sign in as usual
    finally:
        proxied.state.service.pool.shutdown(wait=True)
        proxied.state.service.app.close()


def test_G15_dashboard_headline_figures_equal_report_rates_json(api: Any, store: Huifang) -> None:
    c = signed_in(api)
    for params, args in (({}, ["--from", FROM, "--to", TO]),  # default: this month by the app's clock
                         ({"from": "2026-09-01", "to": "2026-10-15"}, ["--from", "2026-09-01", "--to", "2026-10-15"])):
        page = c.get("/dashboard", params=params).text
        [rates] = store.ok("report", "rates", *args, now=NOW)["rows"]
        shown = headline(page)
        for key in ("callback_rate", "success_rate", "on_time_rate", "overdue"):
            assert shown[key] == str(rates[key]), key
        for key in ("completed", "due", "reached", "on_time", "open"):
            assert f'data-figure="{key}" data-value="{rates[key]}"' in page, key
    [sat] = store.ok("report", "satisfaction", "--from", FROM, "--to", TO, "--by", "plugin", now=NOW)["rows"]
    [tickets] = store.ok("report", "tickets", "--from", FROM, "--to", TO, now=NOW)["rows"]
    page = c.get("/dashboard").text
    shown = headline(page)
    assert shown["satisfied_share"] == str(sat["satisfied_share"])  # one plugin: its row is the total
    assert (shown["tickets_open"], shown["tickets_overdue"]) == (str(tickets["open"]), str(tickets["overdue"]))
    assert (shown["callback_rate"], shown["success_rate"]) == ("0.5", "0.8")  # the ward by hand: 3/6, 4/5
    assert "50.0%" in page and "80.0%" in page


def test_G15_dashboard_drill_down_lists_exactly_the_followups_counted(api: Any, store: Huifang) -> None:
    c = signed_in(api)
    [rates] = store.ok("report", "rates", "--from", FROM, "--to", TO, now=NOW)["rows"]
    for figure in ("due", "completed", "reached", "refused", "overdue", "open", "on_time"):
        assert len(drilled(c, figure=figure)) == rates[figure], figure
    assert drilled(c, figure="completed") == ["D1-1", "D2-1", "D6-1"]
    assert drilled(c, figure="overdue") == ["D3-1", "D4-1", "D5-1"]
    assert drilled(c, figure="refused") == ["D5-1"]
    by_dept = {r["department"]: r for r in
               store.ok("report", "rates", "--from", FROM, "--to", TO, "--by", "department", now=NOW)["rows"]}
    assert drilled(c, figure="due", dim="department", value="surgery") == ["D5-1", "D6-1"]
    assert len(drilled(c, figure="completed", dim="department", value="cardiology")) == \
        by_dept["cardiology"]["completed"]
    assert drilled(c, figure="dissatisfied") == ["D2-1"]
    tickets = drilled(c, "/dashboard/tickets", figure="open")
    assert len(tickets) == 1 and tickets == drilled(c, "/dashboard/tickets", figure="tickets", dim="category",
                                                     value="dissatisfied")
    page = c.get("/dashboard/followups", params={"from": FROM, "to": TO, "figure": "completed"}).text
    assert "张**" in page and "138****1234" in page and "张三丰" not in page and "13812341234" not in page
    assert c.get("/dashboard/followups", params={"figure": "nonsense"}).status_code == 400


def test_G15_dashboard_drill_down_pages_hold_every_followup_once(api: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("huifang.service.dashboard.PAGE", 4)
    c = signed_in(api)
    first = c.get("/dashboard/followups", params={"from": FROM, "to": TO, "figure": "due"}).text
    assert 'id="drill-count">6<' in first and "本页第 1–4 条" in first and 'rel="next"' in first
    second = c.get("/dashboard/followups", params={"from": FROM, "to": TO, "figure": "due", "page": "2"}).text
    ids = re.findall(r'data-followup="([^"]+)"', first) + re.findall(r'data-followup="([^"]+)"', second)
    assert ids == ["D1-1", "D2-1", "D3-1", "D4-1", "D5-1", "D6-1"]


def test_G16_dashboard_flags_low_satisfaction(api: Any) -> None:
    page = signed_in(api).get("/dashboard").text
    flagged = re.findall(r'<tr class="flagged"><td>([^<]+)</td>', page)
    assert flagged and all("低于阈值" in page for _ in flagged)
    assert "问题原因帕累托分析" in page and 'data-chart="pareto"' in page and "/static/vendor/echarts.min.js" in page


def test_G8_dashboard_unmask_needs_a_reason_and_is_a_recorded_read(api: Any, store: Huifang) -> None:
    c = signed_in(api)
    page = c.get("/dashboard/followups", params={"from": FROM, "to": TO, "figure": "completed"}).text
    form = {"csrf": csrf_of(page), "followup": "D1-1", "figure": "completed", "from": FROM, "to": TO}
    r = c.post("/dashboard/unmask", data={**form, "reason": "  "})
    assert r.status_code == 400 and "张三丰" not in r.text
    r = c.post("/dashboard/unmask", data={**form, "reason": "核对投诉回访"})
    assert r.status_code == 200 and "张三丰" in r.text and "13812341234" in r.text and "李*" in r.text
    assert r.headers["cache-control"] == "no-store"
    reads = store.ok("audit", "reads", "--subject", "P1", actor="adm", now=NOW)["reads"]
    assert any(x["actor"] == "hn" and x["what"] == "dashboard" and x["target"] == "dashboard:D1-1" for x in reads)
    r = c.post("/dashboard/unmask", data={**form, "followup": "D4-1", "reason": "核对"})
    assert r.status_code == 400 and "赵六" not in r.text  # not in this list (D4-1 is not completed)


def test_G8_staff_password_is_stored_as_an_argon2id_hash(store: Huifang) -> None:
    events = store.ok("history", "hn", actor="adm", now=NOW)["events"]
    [setting] = [e for e in events if e["event"] == "PasswordSet"]
    assert setting["data"]["password_hash"] == "(hidden)" and PASSWORD not in str(events)  # history hides the hash
    from huifang.core.config import load_config
    from huifang.core.domain import Staff
    from huifang.projections import open_app

    app = open_app(store.db, load_config(store.config, db=store.db))
    try:
        stored = app.find(Staff, "hn").password_hash
    finally:
        app.close()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    from click.testing import CliRunner

    from huifang.cli.main import main

    def password(staff: str, pw: str, actor: str) -> tuple[int, str]:
        runner = CliRunner()
        with runner.isolation(input=pw + "\n") as (_out, err, *_):
            try:
                main(["--db", store.db, "--now", NOW, "--as", actor, "staff", "password", staff, "--password-stdin"])
                code = 0
            except SystemExit as e:
                code = int(e.code or 0)
            return code, err.getvalue().decode()
    code, err = password("hn", "short", "adm")
    assert code == 2 and err.startswith("huifang: error: --password: at least 10") and err.count("\n") == 1
    code, err = password("hn", "agents-may-not-99", "n1")  # an agent sets no one else's password
    assert code == 2 and refusals(store, "n1")[-1]["action"] == "staff.add"


def test_G8_dashboard_session_cookie_expires_and_is_bound_to_its_key() -> None:
    from huifang.service.auth import Sessions

    s = Sessions(b"k" * 32)
    cookie = s.dump(Sessions.signed_in("hn", "$argon2id$..."))
    assert s.read(cookie) is not None and s.read(cookie).staff == "hn"  # type: ignore[union-attr]
    assert Sessions(b"k" * 32, max_age=-1).read(cookie) is None  # past its age: no session
    assert Sessions(b"x" * 32).read(cookie) is None  # another key (another store): no session
