"""Every report in every format (table, json, csv, xlsx, png, html) on the crafted scenario: xlsx and
csv hold the same numbers as json, charts are real pictures with Chinese labels, html embeds them,
and all outputs are byte-identical after `huifang projections rebuild` (G15, G16, G19)."""
from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import pytest

from tests.test_report_scenario import scenario_fixture  # noqa: F401  (the module-scoped fixture `scn`)


def _json(scn, *args):
    return scn.ok("report", *args)


def _file(scn, tmp_path: Path, name: str, *args: str) -> bytes:
    out = tmp_path / name
    scn.ok("report", *args, "--out", str(out), "--force")  # the helper reuses file names
    return out.read_bytes()


def _cell(v):
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return v


def test_g15_xlsx_holds_the_json_numbers(scn, tmp_path):
    from openpyxl import load_workbook

    for args in (("rates", "--month", "2026-10", "--by", "agent"), ("satisfaction", "--month", "2026-10"),
                 ("tickets", "--month", "2026-10"), ("pareto",)):
        rows = _json(scn, *args)["rows"]
        data = _file(scn, tmp_path, "r.xlsx", *args, "--format", "xlsx", "--codes")  # labels: tests/test_labels.py
        wb = load_workbook(io.BytesIO(data))
        (ws,) = wb.worksheets
        values = [list(r) for r in ws.iter_rows(values_only=True)]
        header = values[0]
        assert header == list(rows[0])
        assert [dict(zip(header, v, strict=True)) for v in values[1:]] == [{k: _cell(v) for k, v in r.items()} for r in rows]
        # rates are stored as fractions and shown as percentages
        for j, key in enumerate(header, start=1):
            if key.endswith("_rate"):
                assert ws.cell(row=2, column=j).number_format == "0.0%"


def test_g19_monthly_xlsx_has_one_sheet_per_section(scn, tmp_path):
    from openpyxl import load_workbook

    doc = _json(scn, "monthly", "--month", "2026-10")
    wb = load_workbook(io.BytesIO(_file(scn, tmp_path, "m.xlsx", "monthly", "--month", "2026-10", "--format", "xlsx",
                                        "--codes")))
    assert wb.sheetnames == [s["name"] for s in doc["sections"]]
    for s in doc["sections"]:
        values = [list(r) for r in wb[s["name"]].iter_rows(values_only=True)]
        if not s["rows"]:
            assert values in ([], [[None]])
            continue
        header = values[0]
        assert [dict(zip(header, v, strict=True)) for v in values[1:]] == [{k: _cell(v) for k, v in r.items()} for r in s["rows"]]


def test_csv_holds_the_json_rows(scn):
    rows = _json(scn, "rates", "--by", "month,agent")["rows"]
    out = scn("report", "rates", "--by", "month,agent", "--format", "csv", json_out=False)
    assert out.code == 0 and out.out.startswith("\ufeff")  # G19: a BOM, so Excel reads the UTF-8
    parsed = list(csv.DictReader(io.StringIO(out.out.removeprefix("\ufeff"))))
    assert len(parsed) == len(rows)
    for p, r in zip(parsed, rows, strict=True):
        assert p == {k: "" if v is None else str(v) for k, v in r.items()}


def test_table_output_shows_percentages_and_notes(scn):
    out = scn("report", "satisfaction", "--month", "2026-10", json_out=False)
    assert out.code == 0
    assert "33.3%" in out.out and "100.0%" in out.out
    assert "below threshold" in out.out and "ortho" in out.out
    out = scn("report", "rates", "--month", "2026-10", "--by", "agent", json_out=False).out
    assert "G15 KPI deductions: agA −10, agB −8" in out


def _png_ok(data: bytes, min_w: int = 600, min_h: int = 250) -> None:
    from PIL import Image

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    im = Image.open(io.BytesIO(data)).convert("RGB")
    assert im.width >= min_w and im.height >= min_h
    colours = im.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20  # a drawn chart, not a blank canvas


@pytest.mark.slow  # five charts drawn (~3 s); the fast tier draws them in the html report below
def test_g19_png_charts_are_drawn_from_the_data(scn, tmp_path):
    _png_ok(_file(scn, tmp_path, "pareto.png", "pareto", "--format", "png"))
    _png_ok(_file(scn, tmp_path, "sat.png", "satisfaction", "--format", "png"))
    _png_ok(_file(scn, tmp_path, "trend.png", "rates", "--format", "png"))  # png default: by month
    _png_ok(_file(scn, tmp_path, "generic.png", "tickets", "--by", "department", "--format", "png"))
    monthly = _file(scn, tmp_path, "m.png", "monthly", "--format", "png")
    _png_ok(monthly, min_h=1000)  # trend + satisfaction + Pareto, one below the other


def test_g19_chinese_labels_render_with_a_cjk_font():
    """Axis labels are bilingual; a CJK font must be installed (Debian: fonts-wqy-microhei or
    fonts-noto-cjk) so that no glyph is missing."""
    from huifang.projections import charts

    font = charts.cjk_font()
    assert font, "no CJK font found: apt-get install fonts-wqy-microhei (or fonts-noto-cjk)"
    plt = charts.setup()
    fig, ax = plt.subplots()
    ax.set_title("满意度 帕累托图 回访率趋势 Satisfaction")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    assert not [w for w in caught if "missing from" in str(w.message)]


def test_charts_fall_back_without_a_cjk_font(monkeypatch):
    from huifang.projections import charts

    charts.setup()
    monkeypatch.setitem(charts._state, "cjk", None)
    assert charts.label("满意度 Satisfaction by department (G16)") == "Satisfaction by department (G16)"
    assert charts.label("cardio") == "cardio"


def test_g19_html_embeds_charts_and_tables(scn, tmp_path):
    page = _file(scn, tmp_path, "m.html", "monthly", "--month", "2026-10", "--format", "html").decode()
    assert page.startswith("<!DOCTYPE html>") and "月度回访报告" in page
    assert page.count('src="data:image/png;base64,') == 3  # trend, satisfaction, Pareto
    assert page.count("<table>") >= 10 and "waiting_time" in page and "希望增加停车位" in page
    single = scn("report", "pareto", "--format", "html", json_out=False)
    assert single.code == 0 and single.out.count("data:image/png;base64,") == 1


@pytest.mark.slow  # every format of ten reports, twice, around two rebuilds (~6 s); fast cell below
def test_outputs_are_byte_identical_after_rebuild(scn, tmp_path):
    every = ("table", "json", "csv", "xlsx", "png", "html")
    cases = [(("rates", "--by", "month,agent"), every), (("satisfaction",), ("json", "png")),
             (("pareto",), ("json", "png")), (("tickets", "--by", "category"), ("csv", "table")),
             (("lost",), ("json",)), (("qa",), ("json",)), (("opinions",), ("json",)), (("unresolved",), ("json",)),
             (("monthly", "--month", "2026-10"), ("json", "xlsx", "html")), (("quarterly",), ("json",))]

    def snapshot(tag: str) -> dict:
        return {(case, f): _file(scn, tmp_path, f"{tag}.{f}", *case, "--format", f)
                for case, formats in cases for f in formats}

    before = snapshot("a")
    assert scn.ok("projections", "rebuild")["rebuilt"] == ["core", "qa"]
    after = snapshot("b")
    assert after.keys() == before.keys()
    for k in before:
        assert after[k] == before[k], k
    scn.ok("projections", "rebuild", "core")
    assert _file(scn, tmp_path, "c.json", "rates", "--by", "month,agent", "--format", "json") == \
        before[(("rates", "--by", "month,agent"), "json")]
    assert _file(scn, tmp_path, "c.xlsx", "monthly", "--month", "2026-10", "--format", "xlsx") == \
        before[(("monthly", "--month", "2026-10"), "xlsx")]


def test_json_and_csv_are_byte_identical_after_rebuild(scn, tmp_path):
    """The fast cell of the test above: the text formats of two reports across a full rebuild."""
    cases = [(("rates", "--by", "month,agent"), "json"), (("rates", "--by", "month,agent"), "csv"),
             (("tickets", "--by", "category"), "csv"), (("satisfaction",), "json")]
    before = [_file(scn, tmp_path, f"a.{f}", *case, "--format", f) for case, f in cases]
    assert scn.ok("projections", "rebuild")["rebuilt"] == ["core", "qa"]
    assert [_file(scn, tmp_path, f"b.{f}", *case, "--format", f) for case, f in cases] == before


@pytest.mark.parametrize("args,needle", [
    (("nosuch",), "is not a report"),
    (("rates", "--by", "colour"), "--by: report rates cannot be broken down by colour"),
    (("rates", "--by", "agent,agent"), "names a dimension twice"),
    (("lost", "--by", "category"), "cannot be broken down by category"),
    (("rates", "--format", "pdf"), "--format: 'pdf' is not one of"),
    (("rates", "--format", "xlsx"), "--out: --format xlsx writes a binary file"),
    (("rates", "--from", "2026-10-31", "--to", "2026-10-01"), "is after --to"),
    (("rates", "--from", "31/10/2026"), "--from: '31/10/2026' is not a date"),
    (("rates", "--month", "2026-13"), "--month: '2026-13' is not a month"),
    (("rates", "--quarter", "2026-Q5"), "--quarter: '2026-Q5' is not a quarter"),
    (("rates", "--month", "2026-10", "--from", "2026-10-01"), "give the period one way only"),
    (("monthly", "--from", "2026-10-01"), "give both --from and --to"),
])
def test_bad_report_input_is_one_line_exit_2(scn, args, needle):
    r = scn("report", *args, json_out=False)
    assert r.code == 2 and r.out == ""
    assert needle in r.err and r.err.count("\n") == 1 and "Traceback" not in r.err


def test_json_flag_with_a_text_format_needs_out(scn):
    r = scn("report", "rates", "--format", "csv")  # the fixture adds --json
    assert r.code == 2 and "--json" in r.err


def test_report_without_kind_lists_every_report(scn):
    kinds = {r["kind"] for r in scn.ok("report")}
    assert {"rates", "satisfaction", "lost", "tickets", "pareto", "qa", "opinions", "unresolved", "monthly",
            "quarterly"} <= kinds
