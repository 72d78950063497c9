"""Pure pieces of the operator's screens, without a store: deadlines in words, phone numbers (G1),
an organisation's survey wording (G18), the script's placeholders, and what the printed call sheet shows
(score template and health education M6/G4, uncounted attempts G5, closed G14, reasons G16, G6 notes)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from huifang.core import humantime
from huifang.core.contract import Question, Script, SurveyEdit, SurveyTemplate, satisfaction_question
from huifang.core.errors import ConfigError, HuifangError
from huifang.core.phones import check_phone, mask_phone, matches
from huifang.core.surveys import edit_survey
from huifang.projections.callsheet import (
    DEFAULT_EDUCATION,
    DEFAULT_SCRIPT,
    CallSheet,
    answers_of,
    attempt,
    context_value,
    fill,
    guides_of,
    question,
    render_call_sheet,
    script_of,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=TZ)


@pytest.mark.parametrize("due,zh,en", [
    (datetime(2026, 11, 2, 15, 0, tzinfo=TZ), "今天 15:00", "today 15:00"),
    (datetime(2026, 11, 3, 23, 59, 59, tzinfo=TZ), "明天 23:59", "tomorrow 23:59"),
    (datetime(2026, 11, 5, 23, 59, 59, tzinfo=TZ), "11-05 23:59", "11-05 23:59"),
    (datetime(2026, 10, 31, 23, 59, 59, tzinfo=TZ), "逾期2天", "overdue 2d"),
    (datetime(2026, 11, 2, 9, 0, tzinfo=TZ), "逾期 09:00", "overdue 09:00"),
    (datetime(2027, 1, 4, 10, 0, tzinfo=TZ), "2027-01-04 10:00", "2027-01-04 10:00"),
])
def test_deadlines_read_as_words_in_the_local_day(due: datetime, zh: str, en: str) -> None:
    assert humantime.due_text(due, NOW, TZ) == zh and humantime.due_text(due, NOW, TZ, "en") == en
    assert ":" in humantime.short(due, TZ, NOW) and "T" not in humantime.short(due, TZ, NOW)


def test_g1_phone_numbers_are_validated_with_china_as_default_region() -> None:
    for ok in ("13800000001", "010-66778899", "+1 415 555 0100", " 13900000002 "):
        assert check_phone(ok) == ok.strip()
    for bad in ("1", "12345", "138000000011", "021-5555", "call me"):
        with pytest.raises(HuifangError) as e:
            check_phone(bad, field="add_phone")
        assert e.value.field == "add_phone"
    assert mask_phone("13800000001") == "138****0001"


def test_g1_a_number_is_found_by_any_of_its_forms() -> None:
    assert matches("13800000001", "+86 138 0000 0001") and matches("13800000001", "0001")
    assert matches("13800000001", "138****0001") and not matches("13800000001", "139****0001")
    assert matches("010-66778899", "01066778899") and not matches("13800000001", "001")


def template() -> SurveyTemplate:
    return SurveyTemplate(key="t", title="T", script=Script(closing="谢谢{name}"), questions=[
        Question(key="recovery", text="Recovery", kind="score", min=0, max=10, required=True),
        Question(key="symptoms", text="Symptoms", choices=["none", "worrying"]),
        satisfaction_question(),
    ])


def test_g18_an_organisation_rewords_questions_and_scripts_within_five_questions() -> None:
    edit = SurveyEdit.model_validate({"title": "出院回访", "script": {"opening": "您好{name}"},
                                      "questions": {"recovery": {"text": "恢复得怎么样？"},
                                                    "symptoms": {"required": True},
                                                    "diet": {"text": "饮食清淡吗？", "kind": "bool"}}})
    t = edit_survey(template(), edit, "plugins.x.surveys.v")
    assert t.title == "出院回访" and [q.key for q in t.questions] == ["recovery", "symptoms", "satisfaction", "diet"]
    assert t.questions[0].text == "恢复得怎么样？" and t.questions[0].kind == "score" and t.questions[1].required
    assert t.script.opening == "您好{name}" and t.script.closing == "谢谢{name}"  # the plugin's own part kept
    too_many = SurveyEdit.model_validate({"questions": {f"q{i}": {"text": "?"} for i in range(3)}})
    with pytest.raises(ConfigError, match="G18: a survey has at most 5 questions"):
        edit_survey(template(), too_many, "plugins.x.surveys.v")
    for bad, why in (({"satisfaction": {"omit": True}}, "cannot be omitted"),
                     ({"symptoms": {"choices": ["a"]}}, "keeps its kind"),
                     ({"nothing": {"omit": True}}, "no such question")):
        with pytest.raises(ConfigError, match=why):
            edit_survey(template(), SurveyEdit.model_validate({"questions": bad}), "w")


def test_the_script_falls_back_to_the_default_wording_and_never_fails_on_a_placeholder() -> None:
    s = script_of(template(), "x", {"name": "张三", "staff": "王芳", "organisation": "", "visit": "出院回访"})
    assert s.closing == "谢谢张三" and s.opening == DEFAULT_SCRIPT.opening.replace("{name}", "张三")
    assert [q.required for q in s.questions] == [True, False, True] and s.questions[1].choices == ["none", "worrying"]
    assert fill("{unknown} {name} {0} {", {"name": "李四"}) in ("… 李四 {0} {", "{unknown} {name} {0} {")


# -- what the printed sheet shows beside the script (G4, G5, G6, G14, G16, M6) ----------------------------
@pytest.fixture()
def zh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from huifang.core import labels

    monkeypatch.delenv("HUIFANG_LANG", raising=False)
    labels.reset()
    yield
    labels.reset()


def sheet(**changes: Any) -> CallSheet:
    """A call sheet as build_call_sheet makes it, without a store."""
    t = template().model_copy(update={"record_fields": [
        Question(key="health_guidance", text="健康宣教内容", kind="text"), Question(key="suggestion", text="意见", kind="text")]})
    base: dict[str, Any] = dict(
        followup="D1-1", plugin="medical", visit_type="discharge_first", visit_label="出院回访", survey_title="出院回访",
        status="due", status_label="待回访", owner="n1", channel="phone", channel_label="电话", subject="P1",
        name="张三", phones=[], phones_masked=False, personal=True, trigger="D1", trigger_kind="medical.discharge",
        trigger_at="11-01 10:00", context=[], earlier=[], script=script_of(t, "medical", {"name": "张三"}),
        window_open="11-02 10:00", due="11-04 23:59", due_human="11-04 23:59", due_iso="", provisional=False,
        provisional_note=None, attempts=[], next_attempt_at=None, answers=[], closed_reason=None, tickets=[],
        config_source="default", record_fields=[question(q, "medical") for q in t.record_fields],
        guides=guides_of([{"title": "康复评分模板：冠心病 (0-10 分)", "lines": ["静息时无胸痛"]},
                          {"title": "补打提醒", "lines": ["提醒客户两周后补打"]}],
                         script_of(t, "medical", {}).questions))
    return CallSheet(**{**base, **changes})


def test_M6_G4_call_sheet_shows_the_recovery_template_and_the_health_education_step(zh: None) -> None:
    lines = render_call_sheet(sheet()).splitlines()

    def at(text: str) -> int:
        return next(i for i, line in enumerate(lines) if text in line)

    # seed 002: 问候 → 自我介绍 → 康复 (its score template beside it) → 健康宣教 → 满意度 → 感谢 → 登记
    order = [at("礼貌问候"), at("自我介绍"), at("(recovery)"), at("康复评分模板：冠心病"), at("(symptoms)"),
             at("健康宣教 / 告知: " + DEFAULT_EDUCATION), at("--answer health_guidance=…"), at("(satisfaction)"),
             at("客户不满意时"), at("结束语"), at("登记回访信息")]
    assert order == sorted(order), lines
    assert lines[at("康复评分模板") + 1].strip() == "- 静息时无胸痛"
    assert at("补打提醒") < at("健康宣教")  # a merged step's script: after the questions, not beside one
    # G18: the record fields are listed as such, never numbered among the (at most 5) questions
    numbered = [line for line in lines if line.lstrip(" *")[:2] in {f"{n}." for n in range(1, 9)}
                and "(" in line and line.rstrip().endswith(")") and "--answer" not in line]
    assert [n.rsplit("(", 1)[1].rstrip(")") for n in numbered] == ["recovery", "symptoms", "satisfaction"]
    assert "健康宣教内容  --answer health_guidance=…" in "\n".join(lines) and "意见  --answer suggestion=…" in "\n".join(lines)
    # without a record of the guidance given (not a medical call), no default education step
    assert script_of(template(), "x", {}).education == "" and script_of(template(), "x", {}).education_field is None


def test_G5_call_sheet_marks_attempts_that_do_not_count(zh: None) -> None:
    def tried(channel: str, outside: bool, before: bool) -> dict[str, Any]:
        return {"n": 1, "at": NOW, "channel": channel, "outcome": "no_answer", "outside_window": outside,
                "before_window": before}

    early, late, sms, ok = (attempt(tried("phone", True, True), 0, TZ, NOW, None),
                            attempt(tried("phone", True, False), 1, TZ, NOW, None),
                            attempt(tried("sms", True, False), 2, TZ, NOW, None),
                            attempt(tried("phone", False, False), 3, TZ, NOW, "稍后再打"))
    assert (early.counted, early.not_counted) == (False, "before_window")
    assert (late.counted, late.not_counted) == (False, "outside_window")
    assert sms.counted and ok.counted and ok.channel_label == "电话" and ok.outcome_label == "无人接听"
    text = render_call_sheet(sheet(attempts=[early, late, sms, ok]))
    rows = [line for line in text.splitlines() if "无人接听" in line]
    assert len(rows) == 4 and "回访窗口开启前" in rows[0] and "不在呼叫时段内" in rows[1]
    assert "不计入" not in rows[2] and "不计入" not in rows[3] and rows[3].endswith("— 稍后再打")
    assert "not counted toward lost: before the window opened" in render_call_sheet(sheet(attempts=[early]), "en")


def test_G14_a_closed_call_sheet_shows_its_status_reason_and_note_and_no_script(zh: None) -> None:
    text = render_call_sheet(sheet(status="lost", status_label="失访", closed_reason="no_answer",
                                   closed_reason_label="多次无人接听", closed_note="家属说已转院", closed_at="11-05 16:00"))
    assert "关闭: 失访 (11-05 16:00)   原因: 多次无人接听 (no_answer)   备注: 家属说已转院" in text
    assert "礼貌问候" not in text and "逾期" not in text.splitlines()[0]


def test_G16_earlier_answers_show_the_reason_of_a_dissatisfied_answer_labelled(zh: None) -> None:
    said = answers_of(template(), {"satisfaction": "不满意", "dissatisfaction_code": "waiting",
                                   "dissatisfaction_reason": "等了两个小时"}, "medical")
    assert [(a.label, a.value) for a in said][1:] == [("原因", "等候时间长"), ("原话", "等了两个小时")]
    own = answers_of(template(), {"dissatisfaction_code": "parking"}, "medical", {"parking": "停车难"})
    assert own[0].value == "停车难"  # a plugin's own reason code, labelled by its settings


def test_G6_call_sheet_context_labels_and_what_a_provisional_deadline_assumes(zh: None) -> None:
    from huifang.core.labels import label

    assert [label("attribute", k) for k in ("assistant", "session", "diagnosis", "department")] == \
        ["医助", "第几次疗程", "诊断", "科室"]
    assert context_value("department", "call_centre", None) == "回访中心"  # codes of a labelled kind, labelled
    assert context_value("surgery", True, None) == "是" and context_value("exams", ["a", "b"], None) == "a, b"
    assumption = {"years": [2027], "fixed_holidays": ["元旦 2027-01-01"], "unknown_holidays": ["春节"],
                  "text": "2027: no official holiday schedule yet"}
    s = sheet(provisional=True, calendar_assumption=assumption, provisional_note=assumption["text"],
              clinical_exception="伤口护理按临床日进行", warnings=["未给出拆线日：按术后第 7 天计"])
    text = render_call_sheet(s)
    assert "! 临时日程 (G6)：2027 年" in text and "元旦 2027-01-01" in text and "春节放假安排尚未公布" in text
    assert "临床日 (G6 例外): 伤口护理按临床日进行" in text and "! 未给出拆线日：按术后第 7 天计" in text
    assert "2027: no official holiday schedule yet" in render_call_sheet(s, "en")
