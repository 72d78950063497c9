"""Property reports for `huifang report`: `repeats` (P8 non-conformities per quarter), `workers`
(P2 repair results per worker), `renovation` (P9 complaint rate per designer, inspector, crew) and
`survey` (P4 yearly owner survey: response and satisfaction per project and building)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select

from huifang.core.plugin_api import OPEN
from huifang.core.plugin_api.reports import Chart, Report, ReportContext, ratio
from huifang.core.plugin_api.views import triggers

from .plans import PARTIES, building
from .settings import PropertySettings
from .views import visits

NAME = "property"
P = NAME + "."


def quarter(d: date) -> str:
    return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"


class _Base(Report):
    dimensions = ()  # fixed grouping (quarter / worker / party); --by does not apply
    default_by = ()

    def _settings(self, ctx: ReportContext) -> PropertySettings:
        s: PropertySettings = ctx.settings(NAME)
        return s

    def _day(self, ctx: ReportContext, text: str | None) -> date | None:
        return ctx.local_date(text)

    def _in_range(self, ctx: ReportContext, d: date | None) -> bool:
        return d is not None and (ctx.date_from is None or d >= ctx.date_from) and \
            (ctx.date_to is None or d <= ctx.date_to)

    def _triggers(self, ctx: ReportContext, *kinds: str) -> list[dict[str, Any]]:
        q = select(triggers).where(triggers.c.kind.in_([P + k for k in kinds])).order_by(triggers.c.occurred_at,
                                                                                        triggers.c.code)
        out = []
        for r in ctx.conn.execute(q):
            row = dict(r._mapping)
            row["day"] = self._day(ctx, row["occurred_at"])
            row["attributes"] = row["attributes"] or {}
            out.append(row)
        return out

    def _visits(self, ctx: ReportContext, *types: str) -> list[dict[str, Any]]:
        q = select(visits).where(visits.c.visit_type.in_(types)).order_by(visits.c.planned_at, visits.c.code)
        return [{**dict(r._mapping), "meta": r.meta or {}, "answers": r.answers or {}} for r in ctx.conn.execute(q)]


def households(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """P8: complaints grouped by household as well as by subject: two complaints are the same
    household's when the same subject made them or they name the same unit (the wife, then the husband
    of unit 3-1502), and the link is transitive. Groups keep the items' order."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, Any], int] = {}
    for i, t in enumerate(items):
        for link in (("subject", t["subject"]), ("unit", t["attributes"].get("unit"))):
            if link[1] is None:
                continue
            if link in first:
                parent[root(i)] = root(first[link])
            else:
                first[link] = i
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for i, t in enumerate(items):
        groups[root(i)].append(t)
    return list(groups.values())


class RepeatsReport(_Base):
    """P8 (003 §6 4.6): at the end of each quarter, the same household complaining about the same
    category ≥ 2 times (by subject, or by unit: the wife and then the husband of one unit), the same
    unit needing the same repair ≥ 3 times, and every failed callback are non-conformities for the
    manager to decide on corrective action."""

    name = "repeats"
    title = "重复投诉与维修 Repeats and failed callbacks per quarter, non-conformities (P8)"
    rules = ["P8"]

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        s = self._settings(ctx)
        out: list[dict[str, Any]] = []
        complaints: dict[tuple, list[dict]] = defaultdict(list)
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for t in self._triggers(ctx, "complaint_handled", "repair_completed"):
            if not self._in_range(ctx, t["day"]):
                continue
            a = t["attributes"]
            if t["kind"] == P + "complaint_handled":
                complaints[(quarter(t["day"]), a.get("category"))].append(t)
            else:
                groups[("repeat_repair", quarter(t["day"]), a.get("unit"), a.get("category"))].append(t)
        for (q, category), items in complaints.items():
            for household in households(items):
                groups[("repeat_complaint", q, household[0]["code"], category)] = household
        for (finding, q, _who, category), items in groups.items():
            threshold = s.repeat_complaints if finding == "repeat_complaint" else s.repeat_repairs
            if len(items) < threshold:
                continue
            subjects = sorted({i["subject"] for i in items})
            units = sorted({i["attributes"].get("unit") for i in items if i["attributes"].get("unit")})
            out.append({"quarter": q, "finding": finding, "subject": ", ".join(subjects),
                        "unit": ", ".join(units), "category": category, "count": len(items),
                        "min_count": threshold, "items": ", ".join(i["code"] for i in items),
                        "first": items[0]["day"].isoformat(), "last": items[-1]["day"].isoformat(), "rule": "P8"})
        for v in self._visits(ctx, "repair_callback", "complaint_callback", "complaint_recheck"):
            day = self._day(ctx, v["completed_at"])
            if day is None or v["status"] != "completed" or not self._in_range(ctx, day):
                continue
            ans = v["answers"]
            if ans.get("passed") != "no" and ans.get("effect") != "not_resolved":
                continue
            out.append({"quarter": quarter(day), "finding": "failed_callback", "subject": v["subject"],
                        "unit": v["meta"].get("unit") or "", "category": v["meta"].get("category"), "count": 1,
                        "min_count": 1, "items": v["code"], "first": day.isoformat(), "last": day.isoformat(),
                        "rule": "P8"})
        order = {"repeat_complaint": 0, "repeat_repair": 1, "failed_callback": 2}
        return sorted(out, key=lambda r: (r["quarter"], order[r["finding"]], -r["count"], r["subject"],
                                          r["unit"], r["category"] or ""))

    def chart(self, rows: list[dict[str, Any]], ctx: ReportContext) -> Chart | None:
        return Chart("counts", self.title, key="finding")  # how many non-conformities of each kind

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        s = self._settings(ctx)
        return [f"P8: the same household (subject, or unit) complaining about the same category >= "
                f"{s.repeat_complaints} times, or the same unit needing the same repair >= {s.repeat_repairs} times, "
                f"within a quarter; failed callbacks (repair not up to standard, complaint not resolved) are listed "
                f"too (003 §6 4.6)."]


class WorkersReport(_Base):
    """P2 (000 §2 4.2): callback results are written into each repair worker's assessment:
    timeliness, pass and satisfaction rates over the worker's called-back repairs."""

    name = "workers"
    title = "维修工考核 Repair results per worker (P2)"
    rules = ["P2", "G15", "G16"]

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        stats: dict[str, dict[str, Any]] = defaultdict(lambda: {
            "repairs": 0, "sampled": 0, "callbacks": 0, "on_time": 0, "passed": 0, "failed": 0, "satisfied": 0,
            "redo_callbacks": 0, "redo_failed": 0})
        chosen: set[str] = set()
        satisfied = tuple(self._settings(ctx).satisfied_levels)
        for t in self._triggers(ctx, "repair_completed"):
            if not self._in_range(ctx, t["day"]):
                continue
            w = stats[t["attributes"].get("worker")]
            w["repairs"] += 1
            w["sampled"] += 1 if t["followups"] else 0
            chosen.add(t["code"])
        for v in self._visits(ctx, "repair_callback"):
            if v["trigger"] not in chosen or v["status"] != "completed":
                continue
            w = stats[v["meta"].get("worker")]
            ans = v["answers"]
            if int(v["meta"].get("round", 0)) > 0:
                w["redo_callbacks"] += 1
                w["redo_failed"] += ans.get("passed") == "no"
                continue
            w["callbacks"] += 1
            w["on_time"] += ans.get("timeliness") == "on_time"
            w["passed"] += ans.get("passed") == "yes"
            w["failed"] += ans.get("passed") == "no"
            w["satisfied"] += ans.get("satisfaction") in satisfied
        out = []
        for worker, w in sorted(stats.items(), key=lambda kv: str(kv[0])):
            n = w["callbacks"]
            out.append({"worker": worker, **w,
                        "callback_rate": ratio(n, w["sampled"]), "on_time_rate": ratio(w["on_time"], n),
                        "pass_rate": ratio(w["passed"], n), "satisfaction_rate": ratio(w["satisfied"], n)})
        return out


class RenovationReport(_Base):
    """P9 (002 §5 art. 7): complaint rate per designer, inspector and crew: the share of their projects
    with a complaint about them (complaints handled naming the project and party, and complaints raised
    in the renovation follow-ups)."""

    name = "renovation"
    title = "装修被投诉比率 Complaint rate per designer / inspector / crew (P9)"
    rules = ["P9"]

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        projects: dict[str, dict[str, Any]] = {}
        completed: dict[str, date] = {}
        for t in self._triggers(ctx, "renovation_completed"):
            project = t["attributes"].get("project") or next(
                ((x.get("meta") or {}).get("project") for x in t["skipped"] or [] if (x.get("meta") or {}).get("project")),
                None)
            if project:
                completed[project] = t["day"]
        for t in self._triggers(ctx, "renovation_started"):
            a = t["attributes"]
            end = completed.get(t["code"]) or date.fromisoformat(a["expected_end"])
            # ongoing in the period: started before its end, finished after its start
            if (ctx.date_to and t["day"] > ctx.date_to) or (ctx.date_from and end < ctx.date_from):
                continue
            projects[t["code"]] = a
        complaints: list[tuple[str, str, str]] = []  # (project, party, source)
        for t in self._triggers(ctx, "complaint_handled"):
            a = t["attributes"]
            if a.get("renovation") in projects and a.get("against") and self._in_range(ctx, t["day"]):
                complaints.append((a["renovation"], a["against"], t["code"]))
        for v in self._visits(ctx, "renovation_early", "renovation_midterm", "renovation_completion",
                              "warranty_check"):
            who = v["answers"].get("complaint")
            if v["status"] == "completed" and v["meta"].get("project") in projects and who in PARTIES and \
                    self._in_range(ctx, self._day(ctx, v["completed_at"])):
                complaints.append((v["meta"]["project"], who, v["code"]))
        stats: dict[tuple[str, str], dict[str, Any]] = {}
        for code, a in projects.items():
            for party in PARTIES:
                st = stats.setdefault((party, a[party]), {"projects": set(), "complaints": 0, "complained": set()})
                st["projects"].add(code)
        for project, party, _source in complaints:
            st = stats[(party, projects[project][party])]
            st["complaints"] += 1
            st["complained"].add(project)
        return [{"role": party, "person": person, "projects": len(st["projects"]), "complaints": st["complaints"],
                 "complained_projects": len(st["complained"]),
                 "complaint_rate": ratio(len(st["complained"]), len(st["projects"]))}
                for (party, person), st in sorted(stats.items(), key=lambda kv: (PARTIES.index(kv[0][0]), kv[0][1]))]

    def chart(self, rows: list[dict[str, Any]], ctx: ReportContext) -> Chart | None:
        return Chart("bars", self.title, by=("role", "person"))  # label bars by both

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        return ["complaint_rate = projects with a complaint about the person / their projects ongoing in the "
                "period (complaints handled that name the project and party, and complaints raised in the "
                "renovation follow-ups)."]


class SurveyReport(_Base):
    """P4 (000 §2 ①, 003 §6): the yearly owner satisfaction survey, one a year per household: per survey
    year, project and building, the households surveyed, how many answered (the survey completed, or a
    paper questionnaire returned: `satisfaction_survey`), the satisfied share (G16) and the problems
    raised and followed up."""

    name = "survey"
    title = "年度满意度调查 Yearly owner survey: response and satisfaction per project / building (P4)"
    rules = ["P4", "G16"]

    def rows(self, ctx: ReportContext) -> list[dict[str, Any]]:
        satisfied = tuple(self._settings(ctx).satisfied_levels)
        households: dict[tuple[Any, str], dict[str, Any]] = {}  # (year, unit) -> its survey
        for v in self._visits(ctx, "yearly_survey"):
            m = v["meta"]
            if v["status"] == "cancelled" or not self._in_range(ctx, self._day(ctx, v["due"])):
                continue  # cancelled: the household left before it was surveyed
            households[(m.get("year"), m.get("unit") or v["code"])] = {
                "group": (m.get("year"), m.get("project") or "", m.get("building") or ""),
                "answered": v["status"] == "completed", "open": v["status"] in OPEN,
                "satisfaction": v["answers"].get("satisfaction") if v["status"] == "completed" else None}
        for t in self._triggers(ctx, "satisfaction_survey"):  # questionnaires returned on paper
            a = t["attributes"]
            if not self._in_range(ctx, t["day"]):
                continue
            unit = a.get("unit")
            h = households.setdefault((a["year"], unit or t["code"]), {
                "group": (a["year"], a.get("project") or "", building(unit) if unit else ""), "answered": False,
                "open": False, "satisfaction": None})
            if not h["answered"]:
                h.update(answered=True, open=False, satisfaction=a.get("satisfaction"))
        problems: dict[tuple[Any, str, str], list[int]] = defaultdict(lambda: [0, 0])
        for v in self._visits(ctx, "survey_problem"):
            m = v["meta"]
            raised_by = households.get((m.get("year"), m.get("unit")))
            if raised_by is None:
                continue
            problems[raised_by["group"]][0] += 1
            problems[raised_by["group"]][1] += v["status"] == "completed"
        stats: dict[tuple[Any, str, str], dict[str, int]] = defaultdict(
            lambda: {"households": 0, "answered": 0, "open": 0, "rated": 0, "satisfied": 0})
        for h in households.values():
            st = stats[h["group"]]
            st["households"] += 1
            st["answered"] += h["answered"]
            st["open"] += h["open"]
            st["rated"] += h["satisfaction"] is not None
            st["satisfied"] += h["satisfaction"] in satisfied
        return [{"year": year, "project": project, "building": bld, "households": st["households"],
                 "answered": st["answered"], "open": st["open"],
                 "response_rate": ratio(st["answered"], st["households"]), "satisfied": st["satisfied"],
                 "satisfaction_rate": ratio(st["satisfied"], st["rated"]),
                 "problems": problems[(year, project, bld)][0],
                 "problems_followed": problems[(year, project, bld)][1]}
                for (year, project, bld), st in sorted(stats.items(), key=lambda kv: (str(kv[0][0]), kv[0][1],
                                                                                       kv[0][2]))]

    def chart(self, rows: list[dict[str, Any]], ctx: ReportContext) -> Chart | None:
        return Chart("bars", self.title, by=("project", "building"))

    def notes(self, rows: list[dict[str, Any]], ctx: ReportContext) -> list[str]:
        return ["P4: one survey a year per household (unit), in the survey season (survey_month, survey_due_day); "
                "households = surveys of the period not cancelled (a household that left) plus paper "
                "questionnaires from units without one; response_rate = answered ÷ households; satisfaction_rate = "
                "satisfied (satisfied_levels) ÷ answers with a level; problems = survey_problem follow-ups raised, "
                "problems_followed = of them completed."]


REPORTS: list[type[Report]] = [RepeatsReport, WorkersReport, RenovationReport, SurveyReport]
