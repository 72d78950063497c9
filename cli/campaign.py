"""`huifang campaign request|review|approve|list|show`: batch campaigns (A7, F3; core/campaigns.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from huifang.core import clock
from huifang.core.errors import HuifangError
from huifang.core.inputs import read_json_file
from huifang.core.plugin_api.cli import json_option

from .output import emit, table
from .state import State, run


@click.group()
def campaign() -> None:
    """Batch campaigns (批量回访, A7): request, review, approve, list."""


def load_request(path: str) -> dict[str, Any]:
    """The request FILE: one JSON object (its id defaults to the file's name)."""
    p = Path(path)
    if not p.is_file():
        raise HuifangError(f"FILE: '{path}' does not exist")
    data = read_json_file(path, "FILE")  # the one input rule (core/inputs.py), as for answers files
    if not isinstance(data, dict):
        raise HuifangError(f"FILE: '{p.name}' must hold one JSON object (see plugins/aesthetics/README.md)")
    data.setdefault("id", p.stem)
    return data


@campaign.command("request")
@click.argument("file")
@json_option
@click.pass_context
def campaign_request(ctx: click.Context, file: str) -> None:
    """Request a campaign from a JSON FILE; a request missing an element is returned."""
    from huifang.core.campaigns import policy_of

    def go(s: State) -> None:
        app = s.app()
        plan = load_request(file)
        _, policy = policy_of(app, plan)
        data = app.request_campaign(plan, actor=s.actor)
        code, n, missing, details = data["id"], data["targets"], data["missing"], data["details"]
        if missing:
            text = (f"campaign {code} returned (A7): missing {', '.join(missing)}"
                    + "".join(f"\n  {d}" for d in details) + "\nfix the request and run campaign request again")
        else:
            text = f"campaign {code} requested: {n} target(s); next: huifang --as REVIEWER campaign review {code}"
            if n <= policy.threshold:
                text += (f"\nnote: {n} ≤ {policy.threshold} subjects: ordinary marketing follow-ups would do "
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
    def go(s: State) -> None:
        data = s.app().review_campaign(campaign_id, actor=s.actor, note=note, return_reason=return_reason)
        code = data["id"]
        text = (f"campaign {code} returned by {s.actor}: {return_reason}" if return_reason is not None
                else f"campaign {code} reviewed by {s.actor}; next: huifang --as MANAGER campaign approve {code}")
        emit(s, data, text)
    run(ctx, go)


@campaign.command("approve")
@click.argument("campaign_id")
@json_option
@click.pass_context
def campaign_approve(ctx: click.Context, campaign_id: str) -> None:
    """Approve a reviewed campaign (院领导审批) and plan its follow-ups, run --as the approver."""
    from huifang.core.domain import FollowUp

    def go(s: State) -> None:
        app = s.app()
        data = app.approve_campaign(campaign_id, actor=s.actor)
        fus, skipped = data["followups"], data["skipped"]
        due = clock.iso(app.load(FollowUp, fus[0], "follow-up").due) if fus else "-"
        text = (f"campaign {data['id']} approved by {s.actor}: {len(fus)} follow-up(s) planned (due {due})"
                + (f", {len(skipped)} left out" if skipped else "")
                + "".join(f"\n  not followed up: {x['subject']}: {x['reason']}" for x in skipped[:20]))
        emit(s, data, text)
    run(ctx, go)


@campaign.command("list")
@click.option("--status", default=None, help="returned|requested|reviewed|approved")
@json_option
@click.pass_context
def campaign_list(ctx: click.Context, status: str | None) -> None:
    """Campaigns and their state."""
    def go(s: State) -> None:
        data = s.app().list_campaigns(status)
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
    def go(s: State) -> None:
        data = s.app().show_campaign(campaign_id)
        emit(s, data, "\n".join(f"{k}: {v}" for k, v in data.items() if k not in ("followups", "events"))
             + f"\nfollowups: {len(data['followups'])}\n"
             + "\n".join(f"  {e['at']} {e['event']} by {e['actor']}" for e in data["events"]))
    run(ctx, go)
