"""F8 monthly KPIs as `huifang report` kinds (004 §4 art.16–18): `branches` (success rate, in-cooling-off
success rate, ticket rate and resolution, unresolved tickets per branch), `channels` (share of each
follow-up channel) and `fallback` (F5: home visits + letters against the 10% limit). Rates are
fractions in [0, 1]; None when the denominator is 0. Definitions: figures.py."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from huifang.core.plugin_api.reports import Report, ReportContext

from . import figures as fig
from .settings import FinanceSettings

NAME = "finance"
DIMS = ("branch", "month", "quarter", "visit_type", "agent")  # --by dims these reports understand


def _now(ctx: ReportContext) -> datetime | None:
    return ctx.now or fig.as_of_now()


def _items(ctx: ReportContext) -> list[fig.Item]:
    if ctx.plugin not in (None, NAME):
        return []
    return fig.load(ctx.conn, ctx.tz, ctx.date_from, ctx.date_to, _now(ctx))


def _settings(ctx: ReportContext) -> FinanceSettings:
    s = ctx.settings(NAME)
    return s if isinstance(s, FinanceSettings) else FinanceSettings()  # the defaults when not enabled


def denominator(ctx: ReportContext, report: str) -> str:
    """F4/F8: the rate denominator configured for this report (figures.DENOMINATORS)."""
    s = _settings(ctx)
    return s.report_denominators.get(report, s.rate_denominator)


def _grouped(ctx: ReportContext, items: list[fig.Item], figures: Callable[[list[fig.Item]], dict[str, Any]],
             total: bool) -> list[dict[str, Any]]:
    dims = list(ctx.by or [])
    if not dims:
        return [figures(items)] if items else []
    out = [{**dict(zip(dims, key, strict=True)), **figures(group)} for key, group in fig.group(items, dims, ctx.tz).items()]
    if total and items:
        out.append({**{d: fig.ALL for d in dims}, **figures(items)})
    return out


class BranchesReport(Report):
    name = "branches"
    title = "理财/保险回访 KPI（按营业部） Finance follow-up KPIs per branch (F8)"
    rules = ["F8", "F4", "G15", "G12"]
    dimensions = DIMS
    default_by = ("branch",)

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        target = _settings(ctx).success_target
        now = fig.ts(_now(ctx)) or "9999"
        den = denominator(ctx, self.name)
        rows = _grouped(ctx, _items(ctx), lambda items: fig.branch_figures(items, target, now, den), total=True)
        return fig.with_ticket_shares(rows, list(ctx.by or []))  # 004 §4 art.16

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        target = _settings(ctx).success_target
        low = [str(r.get("branch", fig.ALL)) for r in rows if r.get("meets_f4_target") is False]
        den = denominator(ctx, self.name)
        out = [f"denominator `{den}`: success rate = reached ÷ {fig.DENOMINATORS[den]}; in-cooling-off: new "
               f"policies reached before the cooling-off period ended, same denominator (F4, F8); the F4 target "
               f"is judged by the G15 formula"]
        if low:
            out.append(f"below the F4 target of {target:.0%}: {', '.join(low)}")
        return out


class ChannelsReport(Report):
    name = "channels"
    title = "回访方式占比 Share of each follow-up channel (F8)"
    rules = ["F8", "G2"]
    dimensions = DIMS

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        items = _items(ctx)
        dims = list(ctx.by or [])
        out: list[dict[str, Any]] = []
        for key, group in fig.group(items, dims, ctx.tz).items():
            reached = sum(1 for i in group if i.reached)
            for (channel,), sub in fig.group(group, ["channel"], ctx.tz).items():
                by_reach = sum(1 for i in group if i.reached_channel == channel)
                out.append({**dict(zip(dims, key, strict=True)), "channel": channel, "followups": len(sub),
                            "share": fig.rate(len(sub), len(group)), "reached_by_channel": by_reach,
                            "reached_share": fig.rate(by_reach, reached)})
        return out


class FallbackReport(Report):
    name = "fallback"
    title = "上门与信函回访占比 Home visits + letters (F5, ≤ 10%)"
    rules = ["F5"]
    dimensions = DIMS

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        limit = _settings(ctx).max_fallback_share
        return _grouped(ctx, _items(ctx), lambda items: fig.fallback_figures(items, limit), total=False)

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        over = [", ".join(f"{v}" for k, v in r.items() if k in DIMS) or "all follow-ups"
                for r in rows if r.get("within_limit") is False]
        return [f"above the F5 limit: {'; '.join(over)}"] if over else []


REPORTS: list[type[Report]] = [BranchesReport, ChannelsReport, FallbackReport]
