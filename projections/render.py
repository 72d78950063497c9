"""Run any report (engine's or plugin's) and render its sections in every format: table, json, csv,
xlsx, png, html. Nothing here knows a particular report: rows are flat dicts; keys ending in
`_rate`/`_share` are fractions shown as percentages. Output is a pure function of the views, the
logical now and the language, so it is byte-identical after `huifang projections rebuild`.

People read table, xlsx, html and png: headers, titles and code values (visit types, departments,
categories, statuses …) are shown by their labels in the invocation's language (core/labels.py;
`codes=True`, `--codes`, keeps the codes). Machines read json and csv: always codes. CSV is UTF-8
with a byte-order mark by default, so Excel on a Chinese Windows opens it without mojibake (G19).
"""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from huifang.core import clock, labels
from huifang.core.errors import HuifangError
from huifang.core.inputs import formula_safe, is_formula_like

from .catalog import Entry, find
from .core_reports import flag_backfills
from .reports import ReportContext, Section

FORMATS = ("table", "json", "csv", "xlsx", "png", "html")
BINARY = ("xlsx", "png")


@dataclass
class Document:
    kind: str
    title: str
    entry: Entry
    ctx: ReportContext
    sections: list[Section]
    generated_at: str

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.sections[0].rows if self.sections else []

    def filters(self) -> dict[str, Any]:
        return {"plugin": self.ctx.plugin, "by": list(self.ctx.by),
                "from": self.ctx.date_from.isoformat() if self.ctx.date_from else None,
                "to": self.ctx.date_to.isoformat() if self.ctx.date_to else None}


def build(app: Any, conn: Any, kind: str, *, plugin: str | None = None, by: list[str] | None = None,
          date_from: date | None = None, date_to: date | None = None, fmt: str = "table",
          now: datetime | None = None, options: dict[str, Any] | None = None) -> Document:
    """Compute a report document from the (caught-up) views on `conn`."""
    entry = find(app, kind)
    report = entry.report
    if fmt not in FORMATS:
        raise HuifangError(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}")
    if date_from and date_to and date_from > date_to:
        raise HuifangError(f"--from {date_from} is after --to {date_to}")
    if by:
        bad = [d for d in by if d not in report.dimensions]
        if bad:
            allowed = ", ".join(report.dimensions) or "none"
            raise HuifangError(f"--by: report {kind} cannot be broken down by {', '.join(bad)}; choose from {allowed}")
        if len(set(by)) != len(by):
            raise HuifangError(f"--by: {','.join(by)} names a dimension twice")
        chosen = list(by)
    elif fmt in ("png", "html") and report.chart_by is not None:
        chosen = list(report.chart_by)
    else:
        chosen = list(report.default_by)
    now = now or clock.now()
    tz = app.config.huifang.timezone
    ctx = ReportContext(conn=conn, app=app, plugin=plugin, by=chosen, date_from=date_from, date_to=date_to,
                        now=now, tz=tz, kind=kind, options=dict(options or {}))
    report.prepare(ctx)
    sections = report.sections(ctx)
    flag_backfills(sections, ctx)
    return Document(kind=kind, title=report.title or report.name, entry=entry, ctx=ctx, sections=sections,
                    generated_at=clock.iso(now, tz))


# -- cells ---------------------------------------------------------------------------------------------
def is_rate(key: str) -> bool:
    return key.endswith(("_rate", "_share", "_target", "_threshold")) or key in ("threshold", "share")


def columns(rows: list[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def text_cell(key: str, v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and is_rate(key):
        return f"{100 * v:.1f}%"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict):
        return ", ".join(f"{k} {x}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


def plain_cell(v: Any) -> Any:
    """csv/xlsx: numbers stay numbers (rates as fractions, like json), structures become JSON text."""
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, ensure_ascii=False)
    return v


# -- formats ---------------------------------------------------------------------------------------------
def render(doc: Document, fmt: str, codes: bool = False, bom: bool = True) -> bytes:
    """`doc` in `fmt`; `codes`: headers and values as codes in the human formats too; `bom`: CSV starts
    with the UTF-8 byte-order mark (Excel)."""
    if fmt == "csv":
        return _csv(doc, bom)
    if fmt == "json":
        return _json(doc)
    view = Shown(doc, codes)
    return {"table": _table, "xlsx": _xlsx, "png": _png, "html": _html}[fmt](view)


class Shown:
    """A document as people read it: headers, titles and code values as labels (unless codes)."""

    def __init__(self, doc: Document, codes: bool = False):
        self.doc = doc
        self.codes = codes
        self.owner = doc.entry.owner if doc.entry.owner != "core" else None
        self.title = self.doc_title()

    def doc_title(self, lang: str | None = None) -> str:
        if self.codes:
            return self.doc.title
        return labels.label("report", self.doc.entry.report.name, lang, self.owner, default=self.doc.title)

    def section_owner(self, s: Section) -> str | None:
        """The plugin whose catalogue labels a section (`<plugin>.<report>` sections of the monthly report)."""
        if "." in s.name:
            return s.name.split(".", 1)[0]
        return self.owner

    def section_title(self, s: Section, lang: str | None = None) -> str:
        if self.codes:
            return s.title
        if len(self.doc.sections) == 1:
            return self.doc_title(lang)
        owner = self.section_owner(s)
        if "." in s.name and s.report is not None:
            return (f"{labels.label('report', s.report.name, lang, owner, default=s.report.title or s.name)}"
                    f" ({labels.label('plugin', owner, lang)})")
        return labels.label("section", s.name, lang, default=s.title)

    def header(self, s: Section, column: str, lang: str | None = None) -> str:
        return column if self.codes else labels.column(column, lang, plugin=self.section_owner(s))

    def value(self, s: Section, column: str, v: Any, lang: str | None = None) -> Any:
        """A cell's value with codes shown by their labels (numbers untouched)."""
        if self.codes:
            return v
        return labels.cell(column, v, lang, plugin=self.section_owner(s))

    def text(self, s: Section, column: str, v: Any) -> str:
        if self.codes or isinstance(v, float):
            return text_cell(column, v)
        return text_cell(column, self.value(s, column, v))


def _json(doc: Document) -> bytes:
    data: dict[str, Any] = {"report": doc.kind, "title": doc.title, "filters": doc.filters(), "rows": doc.rows}
    if len(doc.sections) > 1:
        data["sections"] = [{"name": s.name, "title": s.title, "filters": _section_filters(s), "rows": s.rows}
                            for s in doc.sections]
    data["generated_at"] = doc.generated_at
    return (json.dumps(data, ensure_ascii=False, default=str) + "\n").encode()


def _section_filters(s: Section) -> dict[str, Any]:
    c = s.ctx
    if c is None:
        return {}
    return {"by": list(c.by), "from": c.date_from.isoformat() if c.date_from else None,
            "to": c.date_to.isoformat() if c.date_to else None}


def _period(view: Shown) -> str:
    f = view.doc.filters()
    t = labels.text
    span = f"{f['from'] or '…'} .. {f['to'] or '…'}" if (f["from"] or f["to"]) else t(_("all time"))
    plugin = f["plugin"] if view.codes or not f["plugin"] else labels.label("plugin", f["plugin"])
    by = f["by"] if view.codes else [labels.column(d) for d in f["by"]]
    return t(_("period {span}")).format(span=span) + \
        (t(_(", plugin {plugin}")).format(plugin=plugin) if f["plugin"] else "") + \
        (t(_(", by {dimensions}")).format(dimensions=", ".join(by)) if by else "")


def _(msgid: str) -> str:
    """Marks the renderer's fixed words for `pybabel extract` (engine catalogue); translated on use."""
    return msgid


def _table(view: Shown) -> bytes:
    from huifang.core.plugin_api.cli import table

    doc, t = view.doc, labels.text
    generated = t(_("generated {at}")).format(at=doc.generated_at)
    note = t(_("note"))
    parts = [f"{view.title} — {_period(view)} ({generated})"]
    for s in doc.sections:
        if len(doc.sections) > 1:
            parts.append(f"\n## {view.section_title(s)}")
        cols = columns(s.rows)
        parts.append(table([view.header(s, c) for c in cols], [[view.text(s, c, r.get(c)) for c in cols]
                                                               for r in s.rows]) if s.rows
                     else t(_("(no rows)")))
        parts += [f"{note}: {n}" for n in s.notes]
    return ("\n".join(parts) + "\n").encode()


def _csv(doc: Document, bom: bool = True) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for i, s in enumerate(doc.sections):
        if len(doc.sections) > 1:
            if i:
                buf.write("\n")
            buf.write(f"# {s.name}: {s.title}\n")
        cols = columns(s.rows)
        w.writerow(cols)
        for r in s.rows:  # text a spreadsheet would run as a formula gets an apostrophe (OWASP)
            w.writerow(["" if r.get(c) is None else formula_safe(plain_cell(r.get(c))) for c in cols])
    return buf.getvalue().encode("utf-8-sig" if bom else "utf-8")


def _xlsx(view: Shown) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    doc = view.doc
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for s in doc.sections:
        name = _sheet_name(s.name, used)
        ws = wb.create_sheet(name)
        cols = columns(s.rows)
        ws.append([view.header(s, c) for c in cols])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in s.rows:
            ws.append([_xlsx_cell(plain_cell(view.value(s, c, r.get(c)))) for c in cols])
            for cell in ws[ws.max_row]:
                if is_formula_like(cell.value):  # text, never a formula (OWASP): typed and flagged as text
                    cell.data_type = "s"
                    cell.quotePrefix = True
        for j, c in enumerate(cols, start=1):
            if is_rate(c):
                for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                    row[0].number_format = "0.0%"
            width = max([len(view.header(s, c))] + [len(view.text(s, c, r.get(c))) for r in s.rows[:200]])
            ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(60, max(8, width + 2))
        ws.freeze_panes = "A2"
    when = datetime.fromisoformat(doc.generated_at).astimezone(UTC).replace(tzinfo=None)
    wb.properties.creator = "huifang"
    wb.properties.title = view.title
    wb.properties.created = when
    wb.properties.modified = when
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue(), when)


def _xlsx_cell(v: Any) -> Any:
    """Control characters cannot be stored in xlsx (openpyxl refuses them): shown as U+FFFD."""
    if isinstance(v, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", v)
    return v


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "sheet"
    out, n = base, 2
    while out in used:
        suffix = f"~{n}"
        out, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(out)
    return out


def _fixed_zip(data: bytes, when: datetime) -> bytes:
    """Re-pack the workbook with the report's logical time on every entry and as its 'modified' date
    (openpyxl stamps the wall clock there): same views, same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    stamp = (max(1980, when.year), when.month, when.day, when.hour, when.minute, when.second - when.second % 2)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            z = zipfile.ZipInfo(info.filename, date_time=stamp)
            z.compress_type = zipfile.ZIP_DEFLATED
            z.external_attr = info.external_attr
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + iso.encode() + rb"\g<2>", body)
            dst.writestr(z, body)
    return out.getvalue()


def section_figure(view: Shown, s: Section) -> Any:
    """The chart of a section (matplotlib Figure) titled and labelled as people read it, or None."""
    from dataclasses import replace

    from .charts import chart_lang, draw

    if s.report is None:
        return None
    chart = s.report.chart(s.rows, s.ctx)
    if chart is None:
        return None
    lang = chart_lang()  # English when no CJK font can draw Chinese
    if not view.codes:
        chart = replace(chart, title=view.section_title(s, lang))
    return draw(chart, s.rows, s.ctx, shown=None if view.codes else Labeller(view, s, lang))


class Labeller:
    """What a chart needs to show a section's codes as labels: column names and cell values."""

    def __init__(self, view: Shown, section: Section, lang: str | None = None):
        self.view, self.section, self.lang = view, section, lang

    def column(self, name: str) -> str:
        return self.view.header(self.section, name, self.lang)

    def value(self, column: str, v: Any) -> Any:
        return self.view.value(self.section, column, v, self.lang)


def section_pngs(view: Shown) -> list[bytes]:
    from .charts import to_png

    doc = view.doc
    single = len(doc.sections) == 1
    out = []
    for s in doc.sections:
        if s.chart is False or (s.chart is None and not single):
            continue
        fig = section_figure(view, s)
        if fig is not None:
            out.append(to_png(fig))
    return out


def _png(view: Shown) -> bytes:
    from .charts import stack_pngs

    images = section_pngs(view)
    if not images:
        raise HuifangError(f"--format png: report {view.doc.kind} has no chart")
    return stack_pngs(images)


CSS = """body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:2em;color:#222}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;font-size:13px;white-space:nowrap}td.t{white-space:normal;min-width:16em}
nav a{margin-right:1em;font-size:13px}
th{background:#f2f2f2}td.n{text-align:right}tr.flag td{background:#fdecea}.note{color:#555;font-size:13px}
img{max-width:100%;display:block;margin:.5em 0}h1{font-size:22px}h2{font-size:17px;margin-top:1.5em}"""


def _html(view: Shown) -> bytes:
    from .charts import to_png

    doc, esc, t = view.doc, html.escape, labels.text
    single = len(doc.sections) == 1
    lang = "en" if labels.current_lang() == "en" else "zh-CN"
    generated = t(_("generated {at}")).format(at=doc.generated_at)
    kind = t(_("report {kind}")).format(kind=doc.kind)
    no_rows = t(_("(no rows)"))
    parts = ["<!DOCTYPE html>", f'<html lang="{lang}"><head><meta charset="utf-8">',
             f"<title>{esc(view.title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{esc(view.title)}</h1>",
             f'<p class="note">{esc(_period(view))} · {esc(generated)} · {esc(kind)}</p>']
    if not single:
        parts.append("<nav>" + "".join(f'<a href="#{esc(s.name)}">{esc(_short(view, s))}</a>'
                                       for s in doc.sections) + "</nav>")
    for s in doc.sections:
        title = view.section_title(s)
        if not single:
            parts.append(f'<h2 id="{esc(s.name)}">{esc(title)}</h2>')
        if s.report is not None and (s.chart is True or (s.chart is None and single)):
            fig = section_figure(view, s)
            if fig is not None:
                data = base64.b64encode(to_png(fig)).decode()
                parts.append(f'<img alt="{esc(title)}" src="data:image/png;base64,{data}">')
        cols = columns(s.rows)
        if s.rows:
            parts.append('<div class="scroll"><table><thead><tr>'
                         + "".join(f"<th>{esc(view.header(s, c))}</th>" for c in cols) + "</tr></thead><tbody>")
            for r in s.rows:
                cls = ' class="flag"' if r.get("flagged") or r.get("kpi_deduction") else ""
                cells = []
                for c in cols:
                    v = r.get(c)
                    shown = view.text(s, c, v)
                    css = "n" if isinstance(v, (int, float)) and not isinstance(v, bool) else \
                        "t" if len(shown) > 40 else ""
                    cells.append(f'<td class="{css}">{esc(shown)}</td>' if css else f"<td>{esc(shown)}</td>")
                parts.append(f"<tr{cls}>{''.join(cells)}</tr>")
            parts.append("</tbody></table></div>")
        else:
            parts.append(f'<p class="note">{esc(no_rows)}</p>')
        parts += [f'<p class="note">{esc(n)}</p>' for n in s.notes]
    parts.append("</body></html>")
    return ("\n".join(parts) + "\n").encode()


def _short(view: Shown, s: Section) -> str:
    """A section's name in the html navigation: its title up to the first separator."""
    title = view.section_title(s)
    if view.codes:
        return title.split(" ")[0]
    for sep in (":", "：", " (", "（"):
        title = title.split(sep)[0]
    return title
