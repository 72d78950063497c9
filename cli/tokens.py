"""`huifang token issue|revoke|list`: API tokens of the HTTP service (`huifang serve`). A token acts as
one staff member through the same access policy as their commands; issuing and revoking are events in
the log (audited), the secret is shown once and stored only as a digest."""
from __future__ import annotations

import click

from huifang.core.plugin_api.cli import json_option

from .output import emit, table
from .state import State, run


@click.group()
def token() -> None:
    """API tokens of the HTTP service (huifang serve): issue, revoke, list."""


@token.command("issue")
@click.option("--staff", "staff", required=True, metavar="STAFF_ID", help="The staff member the token acts as.")
@click.option("--scope", "scope", required=True, metavar="read|write",
              help="read (读取: list and show follow-ups), write (写入: triggers, subjects, attempts, completions); "
                   "comma-separated for both.")
@click.option("--expires", "days", type=int, default=None, metavar="DAYS", help="Valid for DAYS days (default: until "
                                                                                  "revoked).")
@json_option
@click.pass_context
def token_issue(ctx: click.Context, staff: str, scope: str, days: int | None) -> None:
    """Issue a token; it is shown this once (only its digest is kept)."""
    from huifang.core.usecases import tokens

    def go(s: State) -> None:
        scopes = tokens.parse_scopes(scope)
        record, secret = tokens.issue(s.app(), staff, scopes, days, actor=s.actor)
        data = {**record, "token": secret}
        emit(s, data, f"API token {record['code']} for {staff} ({', '.join(scopes)}"
                      f"{', until ' + record['expires'] if record['expires'] else ''}):\n{secret}\n"
                      f"shown this once: keep it in the integration's secret store")
    run(ctx, go)


@token.command("revoke")
@click.argument("code", metavar="TOKEN_ID")
@click.option("--reason", default="revoked", help="Why (kept in the log).")
@json_option
@click.pass_context
def token_revoke(ctx: click.Context, code: str, reason: str) -> None:
    """Revoke a token: every later request with it is refused (401) and the refusal recorded."""
    from huifang.core.usecases import tokens

    def go(s: State) -> None:
        record = tokens.revoke(s.app(), code, reason, actor=s.actor)
        emit(s, record, f"API token {code} of {record['staff']} revoked")
    run(ctx, go)


@token.command("list")
@json_option
@click.pass_context
def token_list(ctx: click.Context) -> None:
    """Every token: its staff member, scopes, expiry and state (never the secret)."""
    from huifang.core.usecases import tokens

    def go(s: State) -> None:
        rows = tokens.listing(s.app(), s.actor)
        emit(s, rows, table(["token", "staff", "scopes", "issued", "expires", "state"],
                            [[t["code"], t["staff"], ",".join(t["scopes"]), t["issued"], t["expires"] or "-",
                              t["state"]] for t in rows]))
    run(ctx, go)
