"""Run any report (engine's or plugin's) and render its sections in every format: table, json, csv,
xlsx, png, html. Nothing here knows a particular report: rows are flat dicts; keys ending in
`_rate`/`_share` are fractions shown as percentages. Output is a pure function of the views and the
logical now, so it is byte-identical after `huifang projections rebuild`.
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

from huifang.core import clock
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
def render(doc: Document, fmt: str) -> bytes:
    return {"table": _table, "json": _json, "csv": _csv, "xlsx": _xlsx, "png": _png, "html": _html}[fmt](doc)


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


def _period(doc: Document) -> str:
    f = doc.filters()
    span = f"{f['from'] or '…'} .. {f['to'] or '…'}" if (f["from"] or f["to"]) else "all time"
    return f"period {span}" + (f", plugin {f['plugin']}" if f["plugin"] else "") + \
        (f", by {', '.join(f['by'])}" if f["by"] else "")


def _table(doc: Document) -> bytes:
    from huifang.core.plugin_api.cli import table

    parts = [f"{doc.title} — {_period(doc)} (generated {doc.generated_at})"]
    for s in doc.sections:
        if len(doc.sections) > 1:
            parts.append(f"\n## {s.title}")
        cols = columns(s.rows)
        parts.append(table(cols, [[text_cell(c, r.get(c)) for c in cols] for r in s.rows]) if s.rows
                     else "(no rows)")
        parts += [f"note: {n}" for n in s.notes]
    return ("\n".join(parts) + "\n").encode()


def _csv(doc: Document) -> bytes:
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
    return buf.getvalue().encode()


def _xlsx(doc: Document) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for s in doc.sections:
        name = _sheet_name(s.name, used)
        ws = wb.create_sheet(name)
        cols = columns(s.rows)
        ws.append(cols)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in s.rows:
            ws.append([_xlsx_cell(plain_cell(r.get(c))) for c in cols])
            for cell in ws[ws.max_row]:
                if is_formula_like(cell.value):  # text, never a formula (OWASP): typed and flagged as text
                    cell.data_type = "s"
                    cell.quotePrefix = True
        for j, c in enumerate(cols, start=1):
            if is_rate(c):
                for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                    row[0].number_format = "0.0%"
            width = max([len(str(c))] + [len(text_cell(c, r.get(c))) for r in s.rows[:200]])
            ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(60, max(8, width + 2))
        ws.freeze_panes = "A2"
    when = datetime.fromisoformat(doc.generated_at).astimezone(UTC).replace(tzinfo=None)
    wb.properties.creator = "huifang"
    wb.properties.title = doc.title
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


def section_pngs(doc: Document) -> list[bytes]:
    from .charts import draw, to_png

    single = len(doc.sections) == 1
    out = []
    for s in doc.sections:
        if s.chart is False or (s.chart is None and not single):
            continue
        fig = draw(s.report.chart(s.rows, s.ctx), s.rows, s.ctx) if s.report is not None else None
        if fig is not None:
            out.append(to_png(fig))
    return out


def _png(doc: Document) -> bytes:
    from .charts import stack_pngs

    images = section_pngs(doc)
    if not images:
        raise HuifangError(f"--format png: report {doc.kind} has no chart")
    return stack_pngs(images)


CSS = """body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:2em;color:#222}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;font-size:13px;white-space:nowrap}td.t{white-space:normal;min-width:16em}
nav a{margin-right:1em;font-size:13px}
th{background:#f2f2f2}td.n{text-align:right}tr.flag td{background:#fdecea}.note{color:#555;font-size:13px}
img{max-width:100%;display:block;margin:.5em 0}h1{font-size:22px}h2{font-size:17px;margin-top:1.5em}"""


def _html(doc: Document) -> bytes:
    from .charts import draw, to_png

    esc = html.escape
    single = len(doc.sections) == 1
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             f"<title>{esc(doc.title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{esc(doc.title)}</h1>",
             f'<p class="note">{esc(_period(doc))} · generated {esc(doc.generated_at)} · report {esc(doc.kind)}</p>']
    if not single:
        parts.append("<nav>" + "".join(f'<a href="#{esc(s.name)}">{esc(s.title.split(" ")[0])}</a>'
                                       for s in doc.sections) + "</nav>")
    for s in doc.sections:
        if not single:
            parts.append(f'<h2 id="{esc(s.name)}">{esc(s.title)}</h2>')
        if s.report is not None and (s.chart is True or (s.chart is None and single)):
            fig = draw(s.report.chart(s.rows, s.ctx), s.rows, s.ctx)
            if fig is not None:
                data = base64.b64encode(to_png(fig)).decode()
                parts.append(f'<img alt="{esc(s.title)}" src="data:image/png;base64,{data}">')
        cols = columns(s.rows)
        if s.rows:
            parts.append('<div class="scroll"><table><thead><tr>' + "".join(f"<th>{esc(c)}</th>" for c in cols)
                         + "</tr></thead><tbody>")
            for r in s.rows:
                cls = ' class="flag"' if r.get("flagged") or r.get("kpi_deduction") else ""
                cells = "".join(
                    f'<td class="n">{esc(text_cell(c, r.get(c)))}</td>' if isinstance(r.get(c), (int, float))
                    and not isinstance(r.get(c), bool) else
                    f'<td class="t">{esc(text_cell(c, r.get(c)))}</td>' if len(text_cell(c, r.get(c))) > 40 else
                    f"<td>{esc(text_cell(c, r.get(c)))}</td>" for c in cols)
                parts.append(f"<tr{cls}>{cells}</tr>")
            parts.append("</tbody></table></div>")
        else:
            parts.append('<p class="note">(no rows)</p>')
        parts += [f'<p class="note">{esc(n)}</p>' for n in s.notes]
    parts.append("</body></html>")
    return ("\n".join(parts) + "\n").encode()
