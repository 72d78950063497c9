"""Charts (matplotlib, Agg): the Pareto chart (bars + cumulative line, G19), satisfaction by
department (G16/M8), the rate trend by month (G15), and a generic bar chart for any report's rows.

Titles, axes and legends are labels in the invocation's language (core/labels.py); bars are named by
their codes' labels when the renderer passes a `shown` labeller. Chinese needs a CJK font, which
matplotlib is pointed at explicitly: the file named by HUIFANG_CJK_FONT, else an installed one
(scripts/setup installs Debian's fonts-wqy-microhei as root, else the pip package
cvttf-NotoSansCJK-Regular into the venv). Without any, charts are drawn in English (chart_lang) and
any Chinese left (data, bilingual titles) loses its Chinese part, so a chart never shows empty boxes
for text we wrote.
"""
from __future__ import annotations

import glob
import io
import os
import re
import warnings
from pathlib import Path
from typing import Any, Protocol

from huifang.core import labels

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                "WenQuanYi Zen Hei", "Noto Sans CJK JP", "Noto Sans CJK TC", "AR PL UMing CN", "SimHei",
                "Microsoft YaHei", "PingFang SC")
CJK_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/*.tt[cf]",
             "/usr/share/fonts/**/NotoSansCJK*.tt[cf]", "/usr/share/fonts/**/wqy*.tt[cf]",
             "/usr/share/fonts/**/NotoSansSC*.[ot]tf")
# a CJK font shipped as a Python package (scripts/setup installs it when no system font can be)
CJK_PACKAGES = ("cvttf_NotoSansCJK_Regular",)
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
_state: dict[str, Any] = {}
COLORS = {"satisfied": "#2e7d32", "fairly_satisfied": "#8bc34a", "basically_satisfied": "#ffb300",
          "dissatisfied": "#d32f2f"}
LEVELS = (("satisfied", "满意"), ("fairly_satisfied", "较满意"), ("basically_satisfied", "基本满意"),
          ("dissatisfied", "不满意"))
MISSING_GLYPH = "missing from font"  # matplotlib's warning when a character has no glyph


class Shown(Protocol):
    """How the renderer shows a section's codes (projections/render.py Labeller)."""

    def column(self, name: str) -> str: ...

    def value(self, column: str, v: Any) -> Any: ...


def _(msgid: str) -> str:
    """Marks chart texts for `pybabel extract` (engine catalogue); translated by `t`."""
    return msgid


def chart_lang() -> str | None:
    """The language charts are drawn in: the invocation's, or English when no CJK font can draw Chinese."""
    setup()
    return None if _state["cjk"] else "en"


def t(msgid: str) -> str:
    """A chart text in the chart language (chart_lang)."""
    return label(labels.text(msgid, chart_lang()))


def _font_files() -> list[str]:
    """Candidate CJK font files: HUIFANG_CJK_FONT, the Python font package, the system's."""
    out = []
    named = os.environ.get("HUIFANG_CJK_FONT")
    if named:
        out.append(named)
    import importlib.util

    for package in CJK_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            out += sorted(str(p) for p in Path(spec.origin).parent.glob("*.[ot]t[fc]"))
    for pattern in CJK_FILES:
        out += sorted(glob.glob(pattern, recursive=True))
    return out


def setup() -> Any:
    """Import matplotlib with the Agg backend pointed at a CJK font file if there is one; returns pyplot."""
    if "plt" in _state:
        return _state["plt"]
    import logging

    import matplotlib

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # e.g. no bold face of the CJK font
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    family, path = None, None
    for candidate in _font_files():  # added by file, so a font installed after matplotlib cached its list counts
        try:
            font_manager.fontManager.addfont(candidate)
            name = font_manager.FontProperties(fname=candidate).get_name()
        except Exception:
            continue
        if name in CJK_FAMILIES or candidate == os.environ.get("HUIFANG_CJK_FONT"):
            family, path = name, candidate
            break
    if family is None:  # a CJK font matplotlib knows by name (e.g. a system font outside the usual folders)
        names = {f.name for f in font_manager.fontManager.ttflist}
        family = next((f for f in CJK_FAMILIES if f in names), None)
    plt.rcParams["font.sans-serif"] = ([family] if family else []) + ["DejaVu Sans"]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["svg.hashsalt"] = "huifang"
    _state["plt"] = plt
    _state["cjk"] = family
    _state["cjk_file"] = path
    _state["missing"] = []
    return plt


def cjk_font() -> str | None:
    setup()
    return _state["cjk"]


def missing_glyphs() -> list[str]:
    """matplotlib's missing-glyph warnings while drawing charts in this process (tofu boxes in a PNG)."""
    setup()
    return list(_state["missing"])


def label(text: Any) -> str:
    """Our bilingual labels lose their Chinese part when no CJK font is installed."""
    s = "-" if text is None else str(text)
    if _state.get("cjk") or not _CJK.search(s):
        return s
    english = _CJK.sub("", s).strip(" /:·,")
    return english or s


def to_png(fig: Any) -> bytes:
    plt = setup()
    buf = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # kept (missing_glyphs), not shown: e.g. Chinese data and no CJK font
        fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    _state["missing"] += [str(w.message) for w in caught if MISSING_GLYPH in str(w.message)]
    plt.close(fig)
    return buf.getvalue()


def _value(shown: Shown | None, column: str, v: Any) -> str:
    if v is None:
        return "-"
    return str(shown.value(column, v) if shown is not None else v)


def group_label(row: dict[str, Any], dims: list[str], shown: Shown | None = None) -> str:
    return " / ".join(_value(shown, d, row.get(d)) for d in dims) or t(_("All"))


def _empty(title: str) -> Any:
    plt = setup()
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.set_title(label(title))
    ax.text(0.5, 0.5, t(_("No data in this period")), ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def pareto_chart(rows: list[dict[str, Any]], ctx: Any, shown: Shown | None = None) -> Any:
    """Bars of tickets per cause, sorted, with the cumulative share on a second axis and the 80% line;
    the vital few in a stronger colour. One panel per group when --by is given (up to 6)."""
    plt = setup()
    from matplotlib.ticker import MaxNLocator

    title = t(_("Pareto chart of complaint causes (G19)"))
    if not rows:
        return _empty(title)
    dims = list(ctx.by)
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(group_label(r, dims, shown), []).append(r)
    keys = list(groups)[:6]
    fig, axes = plt.subplots(len(keys), 1, figsize=(10, 4.8 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys, strict=True):
        rs = groups[key]
        x = list(range(len(rs)))
        ax.bar(x, [r["tickets"] for r in rs], color=["#c62828" if r.get("vital_few") else "#90a4ae" for r in rs])
        ax.set_xticks(x, [label(_value(shown, "cause", r["cause"])) for r in rs], rotation=30 if len(rs) > 5 else 0,
                      ha="right" if len(rs) > 5 else "center")
        ax.set_ylabel(t(_("Tickets")))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(t(_("Cause")))
        ax2 = ax.twinx()
        ax2.plot(x, [100 * (r["cumulative_share"] or 0) for r in rs], color="#1565c0", marker="o")
        ax2.axhline(80, color="#1565c0", linestyle="--", linewidth=0.8)
        ax2.set_ylim(0, 105)
        ax2.set_ylabel(t(_("Cumulative share (%)")))
        for xi, r in zip(x, rs, strict=True):
            ax2.annotate(f"{100 * (r['cumulative_share'] or 0):.0f}%", (xi, 100 * (r["cumulative_share"] or 0)),
                         textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8, color="#0d47a1",
                         bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
        ax.set_title(title + ("" if key == t(_("All")) else f" — {label(key)}"))
    fig.tight_layout()
    return fig


def satisfaction_chart(rows: list[dict[str, Any]], ctx: Any, shown: Shown | None = None) -> Any:
    """Stacked shares of the four levels per group, the threshold line, flagged groups in red."""
    plt = setup()
    by = " / ".join(shown.column(d) if shown is not None else d for d in ctx.by) or t(_("all"))
    title = t(_("Satisfaction by {dimensions} (G16)")).format(dimensions=label(by))
    rows = [r for r in rows if r.get("responses")]
    if not rows:
        return _empty(title)
    dims = list(ctx.by)
    names = [group_label(r, dims, shown) for r in rows]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(rows) + 3), 5.5))
    x = list(range(len(rows)))
    bottom = [0.0] * len(rows)
    for key, zh in LEVELS:
        vals = [100 * r.get(key, 0) / r["responses"] for r in rows]
        ax.bar(x, vals, bottom=bottom, color=COLORS[key], label=label(labels.label("satisfaction", zh, chart_lang())))
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    thresholds = sorted({th for r in rows if (th := r.get("threshold")) is not None})
    t_threshold = t(_("Threshold"))
    for threshold in thresholds:
        ax.axhline(100 * threshold, color="black", linestyle="--", linewidth=1)
        ax.text(len(rows) - 0.5, 100 * threshold + 1, f"{t_threshold} {100 * threshold:.0f}%", ha="right",
                fontsize=8)
    for xi, r in zip(x, rows, strict=True):
        share = r.get("satisfied_share")
        if share is not None:
            ax.text(xi, 101, f"{100 * share:.0f}%", ha="center", fontsize=9,
                    color="#c62828" if r.get("flagged") else "black", fontweight="bold" if r.get("flagged") else None)
    ax.set_xticks(x, [label(n) for n in names], rotation=20 if len(rows) > 4 else 0)
    for tick, r in zip(ax.get_xticklabels(), rows, strict=True):
        if r.get("flagged"):
            tick.set_color("#c62828")
    ax.set_ylim(0, 110)
    ax.set_ylabel(t(_("Share of responses (%)")))
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16 if len(rows) > 4 else -0.08), ncol=4, fontsize=8,
              frameon=False)
    fig.tight_layout()
    return fig


def trend_chart(rows: list[dict[str, Any]], ctx: Any, shown: Shown | None = None) -> Any:
    """Rates by month: callback, success and on-time rate lines (one series per other dimension)."""
    plt = setup()
    title = t(_("Rate trend by month (G15)"))
    rows = [r for r in rows if r.get("month")]
    if not rows:
        return _empty(title)
    others = [d for d in ctx.by if d != "month"]
    months = sorted({r["month"] for r in rows})
    fig, ax = plt.subplots(figsize=(max(8, 0.8 * len(months) + 4), 5))
    if not others:
        by_month = {r["month"]: r for r in rows}
        for key, style in (("callback_rate", "-o"), ("success_rate", "-s"), ("on_time_rate", "-^")):
            ys = [None if by_month[m].get(key) is None else 100 * by_month[m][key] for m in months]
            ax.plot(months, [float("nan") if y is None else y for y in ys], style,
                    label=label(labels.column(key, chart_lang())))
    else:
        series: dict[str, dict[str, Any]] = {}
        for r in rows:
            series.setdefault(group_label(r, others, shown), {})[r["month"]] = r.get("callback_rate")
        for name, values in list(series.items())[:10]:
            ax.plot(months, [float("nan") if values.get(m) is None else 100 * values[m] for m in months], "-o",
                    label=label(name))
    ax.set_ylim(0, 105)
    ax.set_ylabel(t(_("Rate (%)")))
    ax.set_xlabel(t(_("Month")))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title if not others else f"{title} — {label(labels.column('callback_rate', chart_lang()))}")
    fig.tight_layout()
    return fig


def _numeric(rows: list[dict[str, Any]], dims: list[str]) -> tuple[list[str], bool]:
    keys: list[str] = []
    for r in rows:
        for k, v in r.items():
            if k in dims or k in keys or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            keys.append(k)
    rates = [k for k in keys if k.endswith(("_rate", "_share"))]
    return (rates, True) if rates else (keys, False)


def generic_chart(title: str, rows: list[dict[str, Any]], ctx: Any, shown: Shown | None = None) -> Any:
    """Bars of any report's rows: its rates (as %) when it has any, else its counts."""
    plt = setup()
    from matplotlib.ticker import MaxNLocator

    if not rows:
        return _empty(label(title))
    dims = [d for d in ctx.by if any(d in r for r in rows)]
    # name each bar by its dimensions and the row's first text column (e.g. the lost reason, the nurse)
    first = next((k for k, v in rows[0].items() if isinstance(v, str) and k not in dims), None)
    if first and (not dims or len({tuple(r.get(d) for d in dims) for r in rows}) < len(rows)):
        dims = [*dims, first]
    keys, is_rate = _numeric(rows, dims)
    keys = keys[:6]
    if not keys:
        return _empty(label(title))
    bars = rows[:40]
    names = [group_label(r, dims, shown) for r in bars]
    fig, ax = plt.subplots(figsize=(max(8, 0.6 * len(bars) * max(1, len(keys)) / 2 + 4), 5))
    width = 0.8 / len(keys)

    def head(k: str) -> str:
        return label(shown.column(k) if shown is not None else k)

    for i, k in enumerate(keys):
        vals = [r.get(k) for r in bars]
        vals = [float("nan") if v is None else (100 * v if is_rate else v) for v in vals]
        ax.bar([j + i * width - 0.4 + width / 2 for j in range(len(bars))], vals, width, label=head(k))
    ax.set_xticks(range(len(bars)), [label(n) for n in names], rotation=30 if len(bars) > 5 else 0,
                  ha="right" if len(bars) > 5 else "center")
    if is_rate:
        ax.set_ylim(0, 105)
        ax.set_ylabel(t(_("Rate (%)")))
    elif all(isinstance(r.get(k), int) for r in bars for k in keys if r.get(k) is not None):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(keys) > 1:
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
    elif not is_rate:
        ax.set_ylabel(head(keys[0]))
    ax.set_title(label(title))
    fig.tight_layout()
    return fig


def count_chart(title: str, rows: list[dict[str, Any]], key: str, ctx: Any, shown: Shown | None = None) -> Any:
    """How many rows per value of `key` (for list-like reports such as opinions)."""
    counts: dict[str, int] = {}
    for r in rows:
        k = "-" if r.get(key) is None else str(r.get(key))
        counts[k] = counts.get(k, 0) + 1
    data = [{key: k, "rows": n} for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    class _C:
        by = [key]

    return generic_chart(title, data, _C(), shown)


def stack_pngs(images: list[bytes]) -> bytes:
    """Several charts in one PNG, one below the other (a document's charted sections)."""
    from PIL import Image

    if len(images) == 1:
        return images[0]
    pics = [Image.open(io.BytesIO(b)).convert("RGB") for b in images]
    width = max(p.width for p in pics)
    out = Image.new("RGB", (width, sum(p.height for p in pics)), "white")
    y = 0
    for p in pics:
        out.paste(p, (0, y))
        y += p.height
    buf = io.BytesIO()
    out.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def draw(chart: Any, rows: list[dict[str, Any]], ctx: Any, shown: Shown | None = None) -> Any:
    """The matplotlib Figure of a report's Chart spec (plugin_api.reports.Chart), or None; `shown`
    names bars and series by their labels (None: by their codes)."""
    if chart is None:
        return None
    from dataclasses import replace

    title = chart.title or ""
    if chart.exclude:
        rows = [{k: v for k, v in r.items() if k not in chart.exclude} for r in rows]
    if chart.by is not None:
        ctx = replace(ctx, by=list(chart.by))
    if chart.kind == "trend":
        return trend_chart(rows, ctx, shown)
    if chart.kind == "satisfaction":
        return satisfaction_chart(rows, ctx, shown)
    if chart.kind == "pareto":
        return pareto_chart(rows, ctx, shown)
    if chart.kind == "counts":
        return count_chart(title, rows, chart.key or "", ctx, shown)
    return generic_chart(title, rows, ctx, shown)
