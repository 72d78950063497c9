"""CLI of the aesthetics plugin: `huifang campaign ...` (A7) and `huifang aesthetics grade|blacklist` (A9)."""
from __future__ import annotations

from typing import Any

import click

from huifang.cli.main import State, json_option, run
from huifang.cli.output import emit, table

NAME = "aesthetics"


def _settings(app: Any) -> Any:
    from .settings import AestheticsSettings

    s = app.registry.settings.get(NAME)
    if s is None:
        from huifang.core.errors import HuifangError

        raise HuifangError("the aesthetics plugin is not enabled in this deployment ([huifang] plugins)")
    return s if isinstance(s, AestheticsSettings) else AestheticsSettings()


@click.group()
def campaign() -> None:
    """Batch campaigns (批量回访, A7): request, review, approve, list."""


@campaign.command("request")
@click.argument("file")
@json_option
@click.pass_context
def campaign_request(ctx: click.Context, file: str) -> None:
    """Request a campaign from a JSON FILE; a request missing an element is returned."""
    from . import campaign as c

    def go(s: State) -> None:
        app = s.app()
        st = _settings(app)
        plan = c.load_request(file)
        camp, missing, details = c.request(app, plan, actor=s.actor)
        data = {**c.campaign_json(camp), "details": details}
        n = data["targets"]
        if missing:
            text = (f"campaign {camp.code} returned (A7): missing {', '.join(missing)}"
                    + "".join(f"\n  {d}" for d in details) + "\nfix the request and run campaign request again")
        else:
            text = (f"campaign {camp.code} requested: {n} target(s); next: "
                    f"huifang --as REVIEWER campaign review {camp.code}")
            if n <= st.batch_threshold:
                text += (f"\nnote: {n} ≤ {st.batch_threshold} subjects: ordinary marketing follow-ups would do "
                         f"(A3); the campaign still needs approval")
        emit(s, data, text)
    run(ctx, go)


@campaign.command("review")
@click.argument("campaign_id")
@click.option("--note", default="", help="Review note.")
@click.option("--return", "return_reason", default=None, metavar="REASON", help="Send it back to the requester.")
@json_option
@click.pass_context
def campaign_review(ctx: click.Context, campaign_id: str, note: str, return_reason: str | None) -> None:
    """Review a complete request (回访中心审核), run --as the reviewer."""
    from . import campaign as c

    def go(s: State) -> None:
        app = s.app()
        camp = c.review(app, campaign_id, s.actor, _settings(app), note, return_reason)
        text = (f"campaign {camp.code} returned by {s.actor}: {return_reason}" if return_reason is not None
                else f"campaign {camp.code} reviewed by {s.actor}; next: huifang --as MANAGER campaign approve "
                     f"{camp.code}")
        emit(s, c.campaign_json(camp), text)
    run(ctx, go)


@campaign.command("approve")
@click.argument("campaign_id")
@json_option
@click.pass_context
def campaign_approve(ctx: click.Context, campaign_id: str) -> None:
    """Approve a reviewed campaign (院领导审批) and plan its follow-ups, run --as the approver."""
    from huifang.core import clock

    from . import campaign as c

    def go(s: State) -> None:
        app = s.app()
        camp, fus, skipped = c.approve(app, campaign_id, s.actor, _settings(app))
        due = clock.iso(fus[0].due) if fus else "-"
        text = (f"campaign {camp.code} approved by {s.actor}: {len(fus)} follow-up(s) planned (due {due})"
                + (f", {len(skipped)} left out" if skipped else "")
                + "".join(f"\n  not followed up: {x['subject']}: {x['reason']}" for x in skipped[:20]))
        emit(s, c.campaign_json(camp), text)
    run(ctx, go)


@campaign.command("list")
@click.option("--status", default=None, help="returned|requested|reviewed|approved")
@json_option
@click.pass_context
def campaign_list(ctx: click.Context, status: str | None) -> None:
    """Campaigns and their state."""
    from sqlalchemy import select

    from .views import campaigns as t

    def go(s: State) -> None:
        app = s.app()
        _settings(app)
        app.projector.catch_up()
        q = select(t).order_by(t.c.requested_at, t.c.code)
        if status:
            q = q.where(t.c.status == status)
        with app.projector.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        data = [{"id": r["code"], "title": r["title"], "department": r["department"], "status": r["status"],
                 "targets": r["targets"], "owner": r["owner"], "requester": r["requester"],
                 "reviewer": r["reviewer"], "approver": r["approver"], "missing": r["missing"] or [],
                 "followups": r["followups"], "skipped": r["skipped"]} for r in rows]
        emit(s, data, table(["campaign", "status", "targets", "owner", "requester", "reviewer", "approver",
                             "follow-ups", "missing"],
                            [[d["id"], d["status"], d["targets"], d["owner"] or "-", d["requester"] or "-",
                              d["reviewer"] or "-", d["approver"] or "-", d["followups"],
                              ", ".join(d["missing"]) or "-"] for d in data]) + f"\n{len(data)} campaign(s)")
    run(ctx, go)


@campaign.command("show")
@click.argument("campaign_id")
@json_option
@click.pass_context
def campaign_show(ctx: click.Context, campaign_id: str) -> None:
    """One campaign: plan elements, reviews, planned follow-ups."""
    from . import campaign as c

    def go(s: State) -> None:
        app = s.app()
        camp = c.load(app, campaign_id)
        data = {**c.campaign_json(camp), "events": c.events(app, camp)}
        emit(s, data, "\n".join(f"{k}: {v}" for k, v in data.items() if k not in ("followups", "events"))
             + f"\nfollowups: {len(data['followups'])}\n"
             + "\n".join(f"  {e['at']} {e['event']} by {e['actor']}" for e in data["events"]))
    run(ctx, go)


@click.group("aesthetics")
def aesthetics() -> None:
    """Aesthetics clinic: client grades and the blacklist (A9)."""


@aesthetics.command("grade")
@click.argument("subject_id")
@json_option
@click.pass_context
def aesthetics_grade(ctx: click.Context, subject_id: str) -> None:
    """A client's grade from spend (A ≥ 1500/month, B 800–1500, C < 800) and blacklist state."""
    from huifang.core.application import Lookup
    from huifang.core.domain import Subject

    from .curves import client_grade

    def go(s: State) -> None:
        app = s.app()
        subj = app.load(Subject, subject_id, "subject")
        g = client_grade(Lookup(app), subject_id, subj.attributes, _settings(app))
        data = {"subject": subject_id, **g}
        emit(s, data, f"{subject_id}: grade {g['grade']} (average {g['average_monthly']:g}/month over "
                      f"{g['months'][0]}..{g['months'][-1]})"
                      + (f"; BLACKLISTED: {g['blacklist_reason']}" if g["blacklisted"] else ""))
    run(ctx, go)


@aesthetics.command("blacklist")
@click.argument("subject_id")
@click.option("--reason", default=None, help="Why (A9: 无礼多事, abusive).")
@click.option("--remove", is_flag=True, help="Take the client off the blacklist.")
@json_option
@click.pass_context
def aesthetics_blacklist(ctx: click.Context, subject_id: str, reason: str | None, remove: bool) -> None:
    """Blacklist an abusive client (A9): open marketing follow-ups are cancelled, care continues."""
    from .blacklist import set_blacklist

    def go(s: State) -> None:
        app = s.app()
        cancelled = set_blacklist(app, subject_id, reason, remove, actor=s.actor)
        data = {"subject": subject_id, "blacklisted": not remove, "cancelled": cancelled}
        emit(s, data, f"{subject_id} {'taken off' if remove else 'put on'} the blacklist"
                      + (f"; cancelled {len(cancelled)} marketing follow-up(s)" if cancelled else ""))
    run(ctx, go)


COMMANDS = [campaign, aesthetics]
