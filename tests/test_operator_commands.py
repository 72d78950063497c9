"""Story: the same Monday as tests/test_operator_workspace.py, worked with plain commands on a
terminal — `queue`, `show`, `attempt --outcome 无人接听` (G5), `attempt` picking the outcome from a
numbered list, and `complete` asking the survey question by question, a 不满意 answer followed by
its reason before anything is saved (G16, seed 003 §5). Scripts (answers given, or input not a
terminal) see `complete` and `attempt` exactly as before."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import Huifang
from tests.test_operator_helpers import HUIFANG, NOW, Terminal, answer_survey, open_day


@pytest.fixture
def day(tmp_path: Path, sqlite_template: Path) -> Huifang:
    return open_day(tmp_path, sqlite_template)


def command(hf: Huifang, *args: str) -> list[str]:
    return [HUIFANG, "--db", hf.db, "--now", NOW, "--as", "n1", *args]


def typed(hf: Huifang, monkeypatch: Any, lines: list[str], *args: str) -> tuple[int, str, str]:
    """A command run in-process as if on a terminal, `lines` typed one after another."""
    from huifang.cli import prompts
    from huifang.cli.main import main

    monkeypatch.setattr(prompts, "on_terminal", lambda: True)
    runner = CliRunner()
    with runner.isolation(input="".join(f"{x}\n" for x in lines)) as (out, err, *_):
        try:
            main(["--db", hf.db, "--now", NOW, "--as", "n1", *args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.mark.slow  # a real process on a pseudo-terminal: about 2 s
def test_G16_complete_on_a_terminal_asks_the_survey_and_why_the_patient_is_dissatisfied(day: Huifang) -> None:
    day.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "接通", actor="n1")
    term = Terminal(command(day, "complete", "D1-1"))
    asked = answer_survey(term, dissatisfied=True)
    assert term.wait() == 0, term.text[-1500:]
    screen = term.text
    assert "1) 满意" in screen and "4) 不满意" in screen  # choices numbered, in Chinese
    assert "很抱歉我们有些环节的服务令您不满意" in screen  # the script's reply, said before asking why
    assert asked.index(next(q for q in asked if "原因" in q)) == asked.index(next(
        q for q in asked if "满意" in q and "原因" not in q)) + 1  # the reason right after the answer
    assert "请核对" in screen and "等了两个小时" in screen  # read back before saving
    shown = day.ok("show", "D1-1", actor="n1")
    answers = shown["answers"]
    if isinstance(answers, list):  # the call sheet's [{key, label, value}]
        answers = {a["key"]: a["value"] for a in answers}
    assert answers["dissatisfaction_reason"] == "等了两个小时" and answers["dissatisfaction_code"] in ("waiting", "等候时间长")
    assert shown["tickets"]  # the 不满意 opened its ticket (G12)


def test_G16_a_required_answer_is_asked_again_and_the_review_can_send_the_operator_back(
        day: Huifang, monkeypatch: Any) -> None:
    day.ok("attempt", "D2-1", "--channel", "phone", "--outcome", "reached", actor="n1")
    from huifang.core import clock
    from huifang.core.domain import FollowUp
    from huifang.projections import open_app

    app = open_app(day.db)
    try:
        with clock.at(clock.parse_instant(NOW)):
            questions = app.survey(app.load(FollowUp, "D2-1", "follow-up")).questions
    finally:
        app.close()

    def answers(score: list[str]) -> list[str]:
        lines: list[str] = []
        for q in questions:
            if q.key == "recovery":
                lines += score
            elif q.key == "satisfaction":
                lines += ["2"]
            else:
                lines += ["1" if q.required else ""]
        return lines

    # an empty required answer, then one outside 0..10, both asked again; at the review, back to edit
    lines = [*answers(["", "11", "6"]), "e", *answers(["9"]), "y"]
    code, out, err = typed(day, monkeypatch, lines, "complete", "D2-1")
    assert code == 0, err
    assert "此题必答" in out and "11 不在 0..10 之内" in out
    assert out.count("请核对") == 2
    assert day.ok("show", "D2-1", actor="n1")["status"] == "completed"
    history = day.ok("history", "D2-1", "--reason", "test")["events"]
    completed = [e for e in history if e["event"] == "Completed"]
    assert len(completed) == 1 and completed[0]["data"]["answers"]["recovery"] == 9  # the edited answer


def test_G16_giving_up_at_the_review_writes_nothing(day: Huifang, monkeypatch: Any) -> None:
    day.ok("attempt", "D3-1", "--channel", "phone", "--outcome", "reached", actor="n1")
    before = day.ok("history", "D3-1", "--reason", "test")["events"]
    code, _out, err = typed(day, monkeypatch, ["8", *[""] * 8, "q"], "complete", "D3-1")
    assert code == 1 and "aborted" in err
    assert day.ok("history", "D3-1", "--reason", "test")["events"][-len(before):] == before
    assert day.ok("show", "D3-1", actor="n1")["status"] != "completed"


def test_G5_attempt_on_a_terminal_picks_the_outcome_from_a_numbered_list(day: Huifang, monkeypatch: Any) -> None:
    code, out, err = typed(day, monkeypatch, ["无人接听"], "attempt", "D4-1", "--channel", "phone")
    assert code == 0, err
    assert "1) " in out and "2) " in out
    attempts = day.ok("show", "D4-1", actor="n1")["attempts"]
    assert [a["outcome"] for a in attempts] == ["no_answer"]


def test_G5_G16_scripts_see_complete_and_attempt_as_before(day: Huifang) -> None:
    """Not a terminal (CliRunner, CI, pipes): nothing is asked."""
    r = day("attempt", "D5-1", "--channel", "phone", actor="n1")
    assert r.code == 2 and r.err == "huifang: error: Missing option '--outcome'.\n"
    day.ok("attempt", "D5-1", "--channel", "phone", "--outcome", "reached", actor="n1")
    r = day("complete", "D5-1", actor="n1")
    assert r.code == 2 and "--answer" in r.err and r.out == ""
    assert day.ok("show", "D5-1", actor="n1")["status"] != "completed"


@pytest.mark.slow
def test_G5_M1_the_same_day_with_plain_commands_through_a_terminal(day: Huifang) -> None:
    """queue → show → attempt --outcome 无人接听 → next patient: attempt (outcome picked) → complete
    (asked), each a real `huifang` process on a pseudo-terminal."""
    term = Terminal(command(day, "queue"))
    assert term.wait() == 0
    listed = term.text
    assert all(name in listed for name in ("患者一", "患者五")) and "138****0001" in listed  # names, masked numbers

    term = Terminal(command(day, "show", "D1-1"))
    assert term.wait() == 0
    assert "患者一" in term.text and "13800000001" in term.text  # her own patient: the full number to dial

    term = Terminal(command(day, "attempt", "D1-1", "--channel", "phone", "--outcome", "无人接听"))
    assert term.wait() == 0, term.text

    term = Terminal(command(day, "attempt", "D2-1", "--channel", "phone"))
    shown = term.prompt()
    number = next(line.split(")")[0].strip() for line in shown.splitlines()
                  if line.strip()[:1].isdigit() and ("接通" in line or "Reached" in line or "reached" in line))
    term.type(number)
    assert term.wait() == 0, term.text

    term = Terminal(command(day, "complete", "D2-1"))
    answer_survey(term)
    assert term.wait() == 0, term.text

    assert [a["outcome"] for a in day.ok("show", "D1-1", actor="n1")["attempts"]] == ["no_answer"]
    assert day.ok("show", "D2-1", actor="n1")["status"] == "completed"
    assert [r["id"] for r in day.ok("queue", "--agent", "n1", actor="n1")] == ["D1-1", "D3-1", "D4-1", "D5-1"]
