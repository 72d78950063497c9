"""Story: a callback nurse works her day's queue of five discharges (M1) in `huifang work` with key
presses only — a no-answer attempt on one (G5), the survey on the others, one 不满意 with its reason
(G16, seed 003 §5), one ticket opened by hand (G12) — while her head nurse reassigns a follow-up
and the workspace follows. Driven headless by Textual's pilot; the events written are then read
back through the CLI (`history`, `audit reads`)."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from huifang.core.contract import OUTCOMES
from tests.conftest import Huifang
from tests.test_operator_helpers import NOW, PATIENTS, open_day


@pytest.fixture
def day(tmp_path: Path, sqlite_template: Path) -> Huifang:
    return open_day(tmp_path, sqlite_template)


def workspace(hf: Huifang, actor: str = "n1") -> Any:
    from huifang.cli.state import State, os_login
    from huifang.cli.work_session import Session
    from huifang.cli.workspace import Workspace
    from huifang.core import clock

    state = State(hf.db, clock.parse_instant(NOW), actor, None, False, now_given=True, login=os_login())
    return Workspace(Session(state), poll_seconds=0.1), state


def text(app: Any, selector: str) -> str:
    from textual.widgets import Static

    return str(app.query_one(selector, Static).content)


def queue_ids(app: Any) -> list[str]:
    return [r["id"] for r in app.rows]


def number(code: str, codes: tuple[str, ...] | list[str]) -> str:
    return str(list(codes).index(code) + 1)


async def type_in(pilot: Any, *values: str) -> None:
    """Type each value into the form's input (characters, Chinese too) and press Enter."""
    for v in values:
        await pilot.press(*list(v), "enter")


async def survey(pilot: Any, ws: Any, answers: dict[str, str]) -> list[str]:
    """Answer the survey as the nurse would, question by question, whatever the survey's questions:
    `answers` by question key, else the first choice of a required question and nothing for the
    rest. Stops at the review or at an answer refused. Returns the keys asked, in order."""
    from huifang.cli.workspace import FormPanel

    panel = ws.query_one(FormPanel)
    asked = []
    while panel.form is not None and not panel.reviewing:
        f = panel.form.active()[panel.index]
        asked.append(f.key)
        await type_in(pilot, answers.get(f.key, "1" if f.required else ""))
        if text(ws, "#form-error"):  # refused: the question stays on screen
            break
    return asked


@pytest.mark.slow  # some hundred key presses, each drawn: about 5 s
def test_G5_G16_M1_nurse_works_her_queue_of_five_discharges_with_key_presses_only(day: Huifang) -> None:
    ws, state = workspace(day)

    async def story() -> None:
        async with ws.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert queue_ids(ws) == ["D1-1", "D2-1", "D3-1", "D4-1", "D5-1"]
            assert [r["name"] for r in ws.rows] == list(PATIENTS.values())  # names on her list (a recorded read)
            assert ws.rows[0]["phone"] == "138****0001"

            # D1-1: nobody answers — attempt, outcome 无人接听 picked by its number
            await pilot.press("enter")
            assert "患者一" in text(ws, "#sheet") and "13800000001" in text(ws, "#sheet")  # her own: full number
            await pilot.press("a", *number("no_answer", OUTCOMES), "enter")
            assert "D1-1" in text(ws, "#status") and ws.rows[0]["attempts"] == 1
            assert queue_ids(ws)[0] == "D1-1"  # still to call (G5: retry at another time)

            # next call: D2-1 reached, the survey filled in the panel under the call sheet
            await pilot.press("n")
            assert ws.current.followup == "D2-1"
            await pilot.press("a", *number("reached", OUTCOMES), "enter")
            await pilot.press("c")
            asked = await survey(pilot, ws, {"recovery": "9", "satisfaction": "1"})
            assert asked[0] == "recovery" and "satisfaction" in asked and "dissatisfaction_code" not in asked
            assert "请核对" in text(ws, "#question") and "满意" in text(ws, "#choices")
            await pilot.press("y")
            assert "D2-1" not in queue_ids(ws) and "完成" in text(ws, "#status")

            # D3-1: 不满意 — the standard reply is shown, the reason asked before saving (G16, 003 §5)
            assert ws.highlighted() == "D3-1"
            await pilot.press("enter", "a", *number("reached", OUTCOMES), "enter", "c")
            asked = await survey(pilot, ws, {"recovery": "7", "satisfaction": "不满意", "dissatisfaction_code": "",
                                             "dissatisfaction_reason": "等了两个小时"})
            assert "dissatisfaction_code" in asked  # asked, left empty: refused as required, still open
            assert "必答" in text(ws, "#form-error") and "很抱歉" in text(ws, "#say")
            await type_in(pilot, "等候时间长")  # the reason by its label
            asked = await survey(pilot, ws, {"dissatisfaction_reason": "等了两个小时"})
            assert "等了两个小时" in text(ws, "#choices") and "等候时间长" in text(ws, "#choices")  # the review
            await pilot.press("enter")
            assert "D3-1" not in queue_ids(ws)

            # D4-1: reached; she opens a ticket herself (category, department by default, normal)
            await pilot.press("a", *number("reached", OUTCOMES), "enter")
            assert ws.current.followup == "D4-1"
            await pilot.press("t")
            await type_in(pilot, "medication", "", "", "药吃完了")
            await pilot.press("y")
            assert "TK-D4-1-1" in text(ws, "#status") and "TK-D4-1-1" in text(ws, "#sheet")

            # meanwhile the head nurse gives D5-1 to another nurse: the queue follows the log
            day.ok("reassign", "D5-1", "--to", "n2", actor="hn")
            await pilot.pause(0.4)
            assert "D5-1" not in queue_ids(ws)
            await pilot.press("q")

    run_story(ws, state, story)
    history = day.ok("history", "D1-1", "--reason", "test")["events"]
    attempts = [e for e in history if e["event"] == "AttemptRecorded"]
    assert [(e["actor"], e["data"]["outcome"]) for e in attempts] == [("n1", "no_answer")]
    done = {fid: [e for e in day.ok("history", fid, "--reason", "test")["events"] if e["event"] == "Completed"]
            for fid in ("D2-1", "D3-1")}
    assert all(len(v) == 1 and v[0]["actor"] == "n1" for v in done.values())
    d3 = day.ok("show", "D3-1", actor="n1")
    assert d3["status"] == "completed" and d3["tickets"]  # 不满意 opened its ticket (G16/G12)
    reads = day.ok("audit", "reads", "--subject", "P01", actor="hn")
    assert any(r["actor"] == "n1" for r in (reads if isinstance(reads, list) else reads.get("reads", [])))


def run_story(ws: Any, state: Any, story: Any) -> None:
    try:
        asyncio.run(story())
    finally:
        state.release()


def test_G5_G8_the_workspace_shows_her_list_records_an_attempt_and_follows_the_log(day: Huifang) -> None:
    ws, state = workspace(day)

    async def story() -> None:
        async with ws.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert queue_ids(ws) == ["D1-1", "D2-1", "D3-1", "D4-1", "D5-1"]
            assert ws.rows[0]["name"] == "患者一" and ws.rows[0]["phone"] == "138****0001"
            assert "李护士" in text(ws, "#title") and "5" in text(ws, "#title")
            await pilot.press("a", *number("no_answer", OUTCOMES), "enter")  # the call sheet opens first
            assert ws.current.followup == "D1-1" and "患者一" in text(ws, "#sheet")
            assert ws.rows[0]["attempts"] == 1 and "D1-1" in text(ws, "#status")
            day.ok("reassign", "D5-1", "--to", "n2", actor="hn")  # another operator changes her queue
            await pilot.pause(0.3)
            assert queue_ids(ws) == ["D1-1", "D2-1", "D3-1", "D4-1"]
            await pilot.press("c")  # nobody reached on D1-1: refused before any question
            assert "D1-1" in text(ws, "#status") and "reached" in text(ws, "#status")
            await pilot.press("q")

    run_story(ws, state, story)
    events = day.ok("history", "D1-1", "--reason", "test")["events"]
    assert [(e["actor"], e["data"]["outcome"]) for e in events if e["event"] == "AttemptRecorded"] == [
        ("n1", "no_answer")]
    reads = day.ok("audit", "reads", "--subject", "P01", actor="hn")
    rows = reads if isinstance(reads, list) else reads.get("reads", [])
    assert {r.get("what") for r in rows if r.get("actor") == "n1"} >= {"callsheet"}  # her reads recorded (G8)


def test_work_needs_a_terminal_and_other_commands_never_load_textual(day: Huifang) -> None:
    from tests.test_cli_plugins import modules_after

    r = day("work", actor="n1", json_out=False)
    assert r.code == 2 and "needs a terminal" in r.err
    assert not {m for m in modules_after("--version") if m.split(".")[0] == "textual"}
