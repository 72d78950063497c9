"""Display labels, Chinese first (core/labels.py, plugin_api.i18n): every code an operator or supervisor sees
has a zh_CN and an en label from the catalogue of its owner; inputs take the code or either label; reports
show labels in table/xlsx/html/png and codes in json/csv (G19: CSV with a BOM for Excel, charts with a CJK
font and no missing glyph)."""
from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from huifang.core import labels
from huifang.core.errors import HuifangError
from tests.conftest import STORE, Huifang, copy_store

CJK = re.compile(r"[\u4e00-\u9fff]")
NOW = "2026-11-12T10:00+08:00"
BRANDS = {("channel", "qq")}  # a name Chinese users write in Latin letters too  # Thursday, inside the hospital's calling window


@pytest.fixture(autouse=True)
def _fresh_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("HUIFANG_LANG", raising=False)
    labels.reset()
    yield
    labels.reset()


def _registry() -> Any:
    from huifang.core.registry import Registry

    return Registry()  # every installed plugin, their labels registered


def _both(kind: str, code: str, plugin: str | None = None) -> tuple[str | None, str | None]:
    return labels.find(kind, code, "zh_CN", plugin), labels.find(kind, code, "en", plugin)


def _codes(registry: Any) -> list[tuple[str, str, str | None]]:
    """(kind, code, plugin) of every code the plugin API exposes to operators and supervisors."""
    from huifang.core import contract
    from huifang.core.status import Status

    out: list[tuple[str, str, str | None]] = []
    out += [("outcome", c, None) for c in contract.OUTCOMES]
    out += [("channel", c, None) for c in contract.CHANNELS]
    out += [("status", str(c), None) for c in Status] + [("status", c, None) for c in ("open", "resolved", "closed")]
    out += [("role", c, None) for c in contract.ROLES]
    out += [("satisfaction", c, None) for c in [*contract.SATISFACTION, *contract.SATISFACTION_ALIASES]]
    out += [("severity", c, None) for c in ("normal", "major")]
    out += [("choice", c, None) for c in ("yes", "no")]
    for kind, name in (("lost_reason", "LOST_REASONS"), ("language", "LANGUAGES"),
                       ("dissatisfaction_reason", "DISSATISFACTION_REASONS")):
        out += [(kind, c, None) for c in getattr(contract, name, {})]
    from huifang.core.surveys import SECOND_FOLLOWUP_SURVEY

    out.append(("visit_type", "second_followup", None))  # G12, the engine's own
    for q in SECOND_FOLLOWUP_SURVEY.questions:
        out.append(("question", q.key, None))
        out += [("choice", f"{q.key}.{c}", None) for c in q.choices or [] if q.key != "satisfaction"]
    for plugin in registry.plugins:
        out.append(("plugin", plugin, plugin))
        out += [("trigger_kind", k.spec.name, plugin) for k in registry.kinds.values() if k.plugin == plugin]
        for (owner, name), vt in registry.visit_types.items():
            if owner != plugin:
                continue
            out.append(("visit_type", name, plugin))
            for q in [*vt.survey.questions, *vt.survey.record_fields] if vt.survey else []:
                out.append(("question", q.key, plugin))
                choices = ["yes", "no"] if q.kind == "bool" else q.choices or []
                kind = "satisfaction" if q.key == "satisfaction" else "choice"
                out += [(kind, c if kind == "satisfaction" else f"{q.key}.{c}", plugin) for c in choices]
        for report in registry.call(plugin, "huifang_reports") or []:
            out.append(("report", report.name, plugin))
    return out


def test_every_code_of_every_plugin_has_a_chinese_and_an_english_label() -> None:
    registry = _registry()
    assert {"medical", "property", "finance", "aesthetics"} <= set(registry.plugins)
    missing = []
    for kind, code, plugin in _codes(registry):
        zh, en = _both(kind, code, plugin)
        if not zh or not (CJK.search(zh) or (kind, code) in BRANDS):
            missing.append(f"{plugin or 'core'} {kind} {code}: zh_CN {zh!r}")
        if not en or CJK.search(en):
            missing.append(f"{plugin or 'core'} {kind} {code}: en {en!r}")
    assert not missing, "\n".join(sorted(set(missing)))


def test_every_catalogue_is_fully_translated() -> None:
    """Each .po has every msgid of its domain translated (scripts/i18n check), so zh_CN never shows English."""
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[1]
    found = [*root.glob("core/locale/*/LC_MESSAGES/*.po"), *root.glob("plugins/*/locale/*/LC_MESSAGES/*.po"),
             *root.glob("examples/*/*/locale/*/LC_MESSAGES/*.po")]
    assert len(found) >= 6
    for po in found:
        with po.open("rb") as f:
            catalog = read_po(f)
        untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
        assert not untranslated, f"{po}: {untranslated[:5]}"


def test_language_comes_from_lang_then_env_then_config(monkeypatch: pytest.MonkeyPatch) -> None:
    _registry()
    assert labels.current_lang() == "zh_CN"
    assert labels.label("outcome", "no_answer") == "无人接听"
    labels.configure("en")
    assert labels.label("outcome", "no_answer") == "No answer"
    monkeypatch.setenv("HUIFANG_LANG", "zh-CN")
    assert labels.current_lang() == "zh_CN"  # HUIFANG_LANG beats the config
    labels.set_lang("en_GB")
    assert labels.current_lang() == "en"  # --lang beats both
    assert labels.label("visit_type", "discharge_first", plugin="medical") == "Discharge follow-up"
    assert labels.label("visit_type", "medical.discharge_first", "zh_CN") == "出院回访"
    assert labels.label("department", "no_such_department") == "no_such_department"  # unlabelled: the code
    with pytest.raises(HuifangError, match="not a supported language"):
        labels.set_lang("fr")


def test_a_catalogue_without_its_mo_is_compiled_from_the_po(tmp_path: Path) -> None:
    """An editable checkout never built by scripts/setup still shows Chinese: the .po is compiled in memory
    (and a .mo older than its .po is not trusted)."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import write_po

    folder = tmp_path / "locale" / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    old = Catalog(locale="zh_CN")
    old.add("Lift", "旧电梯")
    with (folder / "t_demo.mo").open("wb") as f:
        write_mo(f, old)
    new = Catalog(locale="zh_CN")
    new.add("Lift", "电梯")
    with (folder / "t_demo.po").open("wb") as f:
        write_po(f, new)
    import os

    os.utime(folder / "t_demo.mo", (1, 1))  # older than the .po
    t = labels.Translator("t_demo", tmp_path / "locale")
    assert t.gettext("Lift", "zh_CN") == "电梯" and t.gettext("Lift", "en") == "Lift"
    (folder / "t_demo.mo").unlink()
    assert labels.Translator("t_demo", tmp_path / "locale").gettext("Lift", "zh_CN") == "电梯"


def test_a_third_party_plugin_ships_its_own_catalogue_or_shows_its_codes() -> None:
    from huifang.core.registry import Registry
    from tests.testkit import Kit

    registry = Registry(enabled=[], extra_plugins={"kit": Kit()})  # no huifang_labels: codes as they are
    assert "kit" in registry.plugins
    assert labels.label("visit_type", "check", plugin="kit") == "check"
    pytest.importorskip("huifang_aftersales")
    Registry(enabled=["aftersales"])
    assert labels.label("visit_type", "pre_energising", "zh_CN", plugin="aftersales") == "通电前回访"
    assert labels.label("question", "running", "zh_CN", plugin="aftersales") == "设备运行情况"
    assert labels.label("choice", "running.no", "zh_CN", plugin="aftersales") == "否"  # the engine's yes/no


def test_inputs_take_the_code_the_chinese_or_the_english_label() -> None:
    from huifang.core.contract import CHANNELS, OUTCOMES
    from huifang.core.surveys import validate_answers

    registry = _registry()
    assert labels.resolve("outcome", "无人接听", OUTCOMES, "outcome") == "no_answer"
    assert labels.resolve("outcome", "no answer", OUTCOMES, "outcome") == "no_answer"
    assert labels.resolve("outcome", "错号", OUTCOMES, "outcome") == "wrong_number"  # one part of 空号/错号
    assert labels.resolve("channel", "电话", CHANNELS, "channel") == "phone"
    assert labels.resolve("channel", "WeChat", CHANNELS, "channel") == "wechat"
    with pytest.raises(HuifangError) as e:
        labels.resolve("channel", "信鸽", CHANNELS, "channel")
    assert e.value.field == "channel" and "'信鸽' is not one of 电话 (phone) | 短信 (sms)" in e.value.message
    labels.set_lang("en")
    with pytest.raises(HuifangError, match=r"is not one of Phone \(phone\) \| SMS \(sms\)"):
        labels.resolve("channel", "pigeon", CHANNELS, "channel")
    survey = registry.visit_type("property", "repair_callback").survey
    assert validate_answers(survey, {"timeliness": "及时", "passed": "是", "satisfaction": "Fairly satisfied"}) == \
        {"timeliness": "on_time", "passed": "yes", "satisfaction": "较满意"}
    assert validate_answers(survey, {"timeliness": "Late", "passed": "no", "satisfaction": "满意"})["timeliness"] == "late"


def test_a_trigger_kind_may_be_typed_by_its_label() -> None:
    registry = _registry()
    assert registry.resolve_kind("出院").qualified == "medical.discharge"
    assert registry.resolve_kind("Repair completed").qualified == "property.repair_completed"


def test_g19_charts_fall_back_to_english_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    from huifang.projections import charts

    _registry()
    charts.setup()
    assert charts.t("Rate trend by month (G15)") == ("回访率月度趋势 (G15)" if charts.cjk_font() else
                                                    "Rate trend by month (G15)")
    monkeypatch.setitem(charts._state, "cjk", None)
    assert charts.chart_lang() == "en" and charts.t("Rate trend by month (G15)") == "Rate trend by month (G15)"


# -- the CLI ---------------------------------------------------------------------------------------------------
def _clinic(h: Huifang) -> str:
    """A ward nurse, a discharged patient in 心内科 and its follow-up; returns the follow-up id."""
    h.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "心内科")
    h.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "心内科", "--reports-to", "hn")
    h.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    d = h.ok("trigger", "medical.discharge", "--subject", "P1", "--id", "D1", "--attr", "department=心内科",
             "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1", "--attr", "attending_doctor=dr1",
             now="2026-11-02T09:00+08:00")
    return str(d["followups"][0]["id"])


def test_g2_g5_attempt_and_complete_accept_chinese_and_english_labels(hf: Huifang) -> None:
    fu = _clinic(hf)
    d = hf.ok("attempt", fu, "--channel", "电话", "--outcome", "无人接听", now=NOW, actor="n1")
    assert d["attempts"][-1]["channel"] == "phone" and d["attempts"][-1]["outcome"] == "no_answer"
    r = hf("attempt", fu, "--channel", "信鸽", "--outcome", "接通", now=NOW, actor="n1")
    assert r.code == 2 and "--channel: '信鸽' is not one of 电话 (phone)" in r.err and r.err.count("\n") == 1
    d = hf.ok("attempt", fu, "--channel", "Phone", "--outcome", "Reached", now="2026-11-12T15:30+08:00", actor="n1")
    assert d["attempts"][-1]["outcome"] == "reached"
    d = hf.ok("complete", fu, "--answer", "recovery=8", "--answer", "adherence=良好", "--answer", "symptoms=无不适",
              "--answer", "satisfaction=Satisfied", now="2026-11-12T15:40+08:00", actor="n1")
    assert d["answers"]["adherence"] == "good" and d["answers"]["symptoms"] == "none"
    assert d["answers"]["satisfaction"] == "满意"


@pytest.fixture(scope="module")
def ward(tmp_path_factory: Any, sqlite_template: Path) -> Huifang:
    """One completed discharge follow-up in 心内科 and one still open (SQLite; rendering is backend-blind)."""
    h = Huifang(copy_store(sqlite_template, tmp_path_factory.mktemp("labels") / STORE), now=NOW)
    fu = _clinic(h)
    h.ok("subject", "add", "P2", "--name", "李四", "--phone", "13800000002")
    h.ok("trigger", "medical.discharge", "--subject", "P2", "--id", "D2", "--attr", "department=心内科",
         "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1", "--attr", "attending_doctor=dr1",
         now="2026-11-02T09:00+08:00")
    h.ok("attempt", fu, "--channel", "phone", "--outcome", "reached", actor="n1")
    h.ok("complete", fu, "--answer", "recovery=8", "--answer", "adherence=good", "--answer", "symptoms=none",
         "--answer", "satisfaction=满意", "--answer", "suggestion=希望增加停车位", actor="n1")
    return h


def _text(h: Huifang, *args: str) -> str:
    r = h(*args, json_out=False)
    assert r.code == 0, r.err
    return r.out


def test_g19_tables_show_labels_in_chinese_by_default_and_in_english_with_lang(ward: Huifang,
                                                                               monkeypatch: pytest.MonkeyPatch,
                                                                               tmp_path: Path) -> None:
    zh = _text(ward, "report", "rates", "--by", "visit_type")
    assert "回访率、成功率与及时率" in zh and "回访类型" in zh and "出院回访" in zh and "回访率" in zh
    assert "discharge_first" not in zh and "callback_rate" not in zh
    en = _text(ward, "--lang", "en", "report", "satisfaction", "--by", "visit_type")
    assert "Visit type" in en and "Discharge follow-up" in en and "Satisfied share" in en
    monkeypatch.setenv("HUIFANG_LANG", "en")
    assert "Discharge follow-up" in _text(ward, "report", "satisfaction", "--by", "visit_type")
    monkeypatch.delenv("HUIFANG_LANG")
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[huifang]\nlang = "en"\n', encoding="utf-8")
    assert "Discharge follow-up" in _text(ward, "--config", str(cfg), "report", "satisfaction", "--by", "visit_type")
    codes = _text(ward, "report", "rates", "--by", "visit_type", "--codes")
    assert "discharge_first" in codes and "callback_rate" in codes
    r = ward("--lang", "fr", "report", "rates", json_out=False)
    assert r.code == 2 and "--lang: 'fr' is not a supported language" in r.err


def test_g19_json_and_csv_keep_codes_and_csv_opens_in_excel(ward: Huifang, tmp_path: Path) -> None:
    data = ward.ok("report", "rates", "--by", "department,visit_type")
    assert data["rows"][0]["visit_type"] == "discharge_first" and "callback_rate" in data["rows"][0]
    out = tmp_path / "rates.csv"
    ward.ok("report", "rates", "--by", "department,visit_type", "--format", "csv", "--out", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel on a Chinese Windows reads UTF-8
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:3] == ["department", "visit_type", "due"]
    assert rows[0]["department"] == "心内科" and rows[0]["visit_type"] == "discharge_first"
    ward.ok("report", "rates", "--format", "csv", "--no-bom", "--out", str(out), "--force")
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_g19_xlsx_shows_labels_and_codes_on_request(ward: Huifang, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "r.xlsx"
    ward.ok("report", "rates", "--by", "visit_type", "--format", "xlsx", "--out", str(out))
    (ws,) = load_workbook(out).worksheets
    header, first = [c.value for c in ws[1]], [c.value for c in ws[2]]
    assert header[:3] == ["回访类型", "应访数", "已完成"] and first[0] == "出院回访"
    ward.ok("report", "rates", "--by", "visit_type", "--format", "xlsx", "--codes", "--out", str(out), "--force")
    assert [c.value for c in load_workbook(out).worksheets[0][1]][:2] == ["visit_type", "due"]


@pytest.mark.slow  # renders about forty charts
def test_g19_every_report_kind_renders_as_png_with_a_cjk_font_and_no_missing_glyph(ward: Huifang,
                                                                                  tmp_path: Path) -> None:
    from huifang.projections import charts

    assert charts.cjk_font(), "no CJK font: run scripts/setup (fonts-wqy-microhei or cvttf-NotoSansCJK-Regular)"
    before = len(charts.missing_glyphs())
    kinds = [r["kind"] for r in ward.ok("report")]
    assert {"rates", "monthly", "nurses", "repeats", "branches"} <= set(kinds)
    drawn = 0
    for lang in ("zh_CN", "en"):
        for kind in kinds:
            out = tmp_path / f"{kind}-{lang}.png"
            r = ward("--lang", lang, "report", kind, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "png",
                     "--out", str(out))
            if r.code == 2 and "has no chart" in r.err:
                continue
            assert r.code == 0, (kind, r.err)
            assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            drawn += 1
    assert drawn >= 2 * (len(kinds) - 2)
    assert charts.missing_glyphs()[before:] == []
    page = _text(ward, "--lang", "en", "report", "satisfaction", "--format", "html")
    assert '<html lang="en">' in page and "<th>Department</th>" in page and "Satisfied share" in page
    page = _text(ward, "report", "satisfaction", "--format", "html")
    assert '<html lang="zh-CN">' in page and "<th>部门</th>" in page and "满意率" in page


@pytest.mark.slow  # a demo store and every report on it
def test_g19_every_report_column_and_code_value_of_the_demo_has_labels(sqlite_db: str) -> None:
    """The columns every report (the engine's and the plugins') produces on realistic data, and the code
    values shown in them (departments, categories, visit types, reasons …), have zh_CN and en labels."""
    h = Huifang(sqlite_db, now="2026-11-23T16:00:00+08:00")
    h.ok("demo", "--subjects", "40", "--days", "60")
    missing = set()
    for entry in h.ok("report"):
        data = h.ok("report", entry["kind"], "--from", "2026-01-01", "--to", "2026-12-31")
        owner = entry["owner"] if entry["owner"] != "core" else None
        for section in data.get("sections") or [{"name": data["report"], "rows": data["rows"]}]:
            plugin = section["name"].split(".")[0] if "." in section["name"] else owner
            for row in section["rows"]:
                for column, value in row.items():
                    zh, en = _both("column", column, plugin)
                    if not zh or not CJK.search(zh) or not en or CJK.search(en):
                        missing.add(f"{entry['kind']}: column {column}")
                    kind = labels.COLUMN_KINDS.get(column)
                    values = list(value) if isinstance(value, dict) else [value]
                    for v in values if kind and kind not in ("satisfaction", "plugin") else []:
                        if isinstance(v, str) and v not in ("-", "(all)") and not _both(kind, v, plugin)[0]:
                            missing.add(f"{entry['kind']}: {column} value {v}")
    assert not missing, "\n".join(sorted(missing))
