"""Survey links in a real browser: `huifang serve` on 127.0.0.1, `huifang invite` through the CLI with the
file outbox, the link read from the outbox and opened in headless Chromium (Debian's, driven by Playwright)
on a 360-px phone screen with JavaScript off. The subject answers in Chinese and submits; the follow-up is
completed and the next call of the M4 diabetes curve planned; a screenshot is kept (build/test-artefacts/).
The used link, a tampered one and an expired one (a second server, two hours later) are refused."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import PHONE, artefacts, chromium  # noqa: F401  (the module's browser fixture)
from tests.conftest import Huifang
from tests.service_support import server

pytestmark = pytest.mark.slow  # a server process and a browser

DISCHARGED = "2026-08-03T09:00:00+08:00"
NOW = "2026-08-10T10:30:00+08:00"  # D-1's window is open (7 days after discharge, M1)
TWO_HOURS_LATER = "2026-08-10T12:30:00+08:00"


def setup_ward(hf: Huifang) -> None:
    at = "2026-08-01T09:00:00+08:00"
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin", now=at)  # access control on
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", actor="adm", now=at)
    hf.ok("staff", "add", "his", "--name", "HIS接口", "--role", "intake", actor="adm", now=at)
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13812345678", actor="his", now=at)
    for tid in ("D", "E"):
        hf.ok("trigger", "discharge", "--subject", "P1", "--id", tid, "--attr", "department=cardiology",
              "--attr", "diagnosis=diabetes_t2", "--attr", "condition=diabetes", "--attr", "responsible_nurse=n1",
              "--attr", "attending_doctor=dr1", actor="his", now=DISCHARGED)


def invite(hf: Huifang, base: str, followup: str, *ttl: str) -> str:
    """`huifang invite` with [serve] public_url = the server; the link as the subject receives it."""
    config = Path(hf.db).parent / "serve.toml" if "://" not in hf.db else Path("/tmp") / "huifang-serve-test.toml"
    config.write_text(f'[serve]\npublic_url = "{base}"\n', encoding="utf-8")
    sent = hf.ok("invite", followup, "--channel", "sms", *ttl, actor="n1", now=NOW, config=str(config))
    assert sent["delivery"]["status"] == "sent"
    outbox = Path(sent["delivery"]["detail"].removeprefix("written to "))
    messages = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    text = next(m["text"] for m in messages if m["key"] == f"invite:{sent['id']}:sms")
    found = re.search(r"(https?://\S+/s/[0-9a-f]{16}\.[A-Za-z0-9_-]{22})", text)
    assert found and found.group(1).startswith(base + "/s/") and "张三" not in found.group(1)
    return found.group(1)


def followup(hf: Huifang, code: str) -> Any:
    from huifang.core.config import Config
    from huifang.core.domain import FollowUp, Trigger
    from huifang.projections import open_app

    app = open_app(hf.db, Config())
    try:
        fu = app.load(FollowUp, code, "follow-up")
        return fu, app.load(Trigger, fu.trigger, "trigger").followups
    finally:
        app.close()


def test_G2_subject_answers_an_sms_link_on_a_phone_in_chromium(hf: Huifang, chromium: Any) -> None:  # noqa: F811
    setup_ward(hf)
    with server(hf, now=NOW) as base:
        url = invite(hf, base, "D-1")
        late = invite(hf, base, "E-1", "--ttl", "1h")
        context = chromium.new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
        page = context.new_page()
        try:
            assert page.goto(url).status == 200
            assert page.locator("h1").inner_text() == "出院回访"
            page.locator("#q-recovery").get_by_text("8", exact=True).click()
            page.locator("#q-adherence").get_by_text("良好", exact=True).click()
            page.locator("#q-lifestyle").get_by_text("一般", exact=True).click()
            page.locator("#q-symptoms").get_by_text("无不适", exact=True).click()
            page.locator("#q-satisfaction").get_by_text("较满意", exact=True).click()
            button = page.get_by_role("button", name="提交")
            box = button.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # fits 360 px
            page.screenshot(path=str(artefacts() / "survey_phone_form.png"), full_page=True)
            button.click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text() == "提交成功，感谢您的反馈！"
            page.screenshot(path=str(artefacts() / "survey_phone_done.png"), full_page=True)

            fu, planned = followup(hf, "D-1")
            assert fu.status == "completed" and fu.answers["satisfaction"] == "较满意"
            assert fu.answers["recovery"] == 8 and fu.answers["lifestyle"] == "fair"
            assert [(a["channel"], a["outcome"]) for a in fu.attempts] == [("web", "reached")]
            assert planned == ["D-1", "D-c2"]  # M4: the curve's next call is planned

            used = page.goto(url)
            assert used.status == 410 and page.locator("h1").inner_text() == "问卷已提交"
            tampered = page.goto(url[:-2] + ("AA" if not url.endswith("AA") else "BB"))
            assert tampered.status == 400 and page.locator("h1").inner_text() == "链接无效"
            page.screenshot(path=str(artefacts() / "survey_phone_tampered.png"))
        finally:
            context.close()
    with server(hf, now=TWO_HOURS_LATER) as later_base:
        context = chromium.new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
        page = context.new_page()
        try:
            expired = page.goto(later_base + late[late.index("/s/"):])
            assert expired.status == 410 and page.locator("h1").inner_text() == "链接已过期"
        finally:
            context.close()
    fu, _ = followup(hf, "E-1")
    assert fu.attempts == [] and fu.status != "completed"  # the expired link wrote nothing
