"""`huifang audit …`, `huifang retention report`, `huifang subject erase|export` (G8, G10, G11).

  audit verify [--recordings] [--anchor POS:HASH]   prove the log intact (exit 1 and the first broken
                                                    position when not); check recordings (G11)
  audit head                                        POSITION:HASH to publish as an anchor (daily)
  audit export --from --to --out FILE [--reason]    the log of a period, JSON Lines + chain hashes
  audit reads --subject ID | --actor STAFF          who read or exported what and why (G8); refusals
  audit approve-export SUBJECT --for STAFF --reason  a data owner's approval of a personal-data export
  retention report                                  records and recordings by retention deadline (G10)
  subject erase ID --reason R [--legal-order REF]   crypto-shredding (G10 retention respected)
  subject export ID --out FILE --reason R           the subject's personal data (recorded, G8)
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import click

from huifang.core import clock
from huifang.core.errors import HuifangError
from huifang.core.paths import check_output, write_output
from huifang.core.plugin_api.cli import json_option

from .output import emit, table
from .state import State, run


class TamperDetected(HuifangError):
    """`audit verify` found a problem: the report is on stdout, the first broken position on stderr."""

    exit_code = 1


@click.group("audit")
def audit() -> None:
    """Tamper evidence, log export and the read audit (G8, G11)."""


@audit.command("verify")
@click.option("--recordings", is_flag=True, help="Also check every recording exists and matches its SHA-256 (G11).")
@click.option("--anchor", default=None, metavar="POS:HASH", help="A head published earlier that must still be there.")
@json_option
@click.pass_context
def audit_verify(ctx: click.Context, recordings: bool, anchor: str | None) -> None:
    """Re-read the whole log: every record chained, unchanged and sealed. Exit 1 if not."""
    from huifang.core.audit.verify import summary, verify

    def go(s: State) -> None:
        report = verify(s.app(), recordings=recordings, anchor=anchor)
        emit(s, report, summary(report))
        if not report["ok"]:
            fb = report["first_broken"]
            if fb:
                raise TamperDetected(f"log tampered: first broken position {fb['position']} ({fb['kind']})"
                                     + (f", follow-up {fb['followup']}" if fb.get("followup") else "")
                                     + (f", {fb['record']}" if fb.get("record") else "") + f": {fb['message']}")
            p = report["recordings"]["problems"][0]
            raise TamperDetected(f"recordings: {len(report['recordings']['problems'])} problem(s); first: "
                                 f"{p['followup']} attempt {p['attempt']}: {p['message']}")
    run(ctx, go)


@audit.command("head")
@json_option
@click.pass_context
def audit_head(ctx: click.Context) -> None:
    """The head to publish (POSITION:HASH) for later `audit verify --anchor`: the sealed high-water
    mark, checked against its seal and the chain's end. Exit 1 if they disagree."""
    from huifang.core.audit.verify import current_head

    def go(s: State) -> None:
        h = current_head(s.app())
        emit(s, h, f"{h['position']}:{h['hash']}")
        if not h["ok"]:
            raise TamperDetected(f"{h['problem']}: run `huifang audit verify`")
    run(ctx, go)


def _bound(text: str | None, field: str, tz: str, end: bool) -> datetime | None:
    if not text:
        return None
    t = clock.parse_instant(text, field, tz)
    if end and "T" not in text and " " not in text.strip():
        t += timedelta(days=1)  # a date as --to includes that whole day
    return t


@audit.command("export")
@click.option("--from", "date_from", default=None, metavar="DATE|ISO")
@click.option("--to", "date_to", default=None, metavar="DATE|ISO", help="A date includes the whole day.")
@click.option("--out", required=True, metavar="FILE.jsonl")
@click.option("--reason", default=None, help="Why the log is exported (recorded; required once roles are on).")
@click.option("--force", is_flag=True, help="Overwrite --out FILE if it exists.")
@json_option
@click.pass_context
def audit_export(ctx: click.Context, date_from: str | None, date_to: str | None, out: str, reason: str | None,
                 force: bool) -> None:
    """The log of a period with its chain hashes, one record a line (README "For auditors")."""
    from huifang.core.audit.export import export_log
    from huifang.core.audit.reads import check_reason, record_log_export

    def go(s: State) -> None:
        app = s.app()
        tz = app.config.huifang.timezone
        start, end = _bound(date_from, "--from", tz, False), _bound(date_to, "--to", tz, True)
        if start and end and end <= start:
            raise HuifangError("--to: must be after --from")
        app.access.require(s.actor, "audit.export", target="log")
        why = check_reason(reason, app.access.enforced())
        check_output(app, out, force=force)  # never the store or a key
        info = export_log(app, out, start, end)
        record_log_export(app, s.actor, info, why or "(none given)")
        emit(s, info, f"exported {info['records']} records (positions {info['first_position']}..{info['last_position']}) "
                      f"to {info['out']}; head {info['head']}; file SHA-256 {info['sha256']}")
    run(ctx, go)


@audit.command("reads")
@click.option("--subject", "subject_id", default=None, metavar="ID")
@click.option("--actor", "who", default=None, metavar="STAFF_ID", help="That actor's refused actions and log exports.")
@json_option
@click.pass_context
def audit_reads(ctx: click.Context, subject_id: str | None, who: str | None) -> None:
    """Who read or exported a subject's personal data, when and why (G8); approvals; refusals."""
    from huifang.core.audit.reads import list_reads

    def go(s: State) -> None:
        data = list_reads(s.app(), s.actor, subject_id, who)
        parts = []
        if "reads" in data:
            parts.append(table(["at", "actor", "what", "record", "reason", "approval"],
                               [[r["at"], r["actor"], r["what"], r["target"], r["reason"], r["approval"] or "-"]
                                for r in data["reads"]]) + f"\n{len(data['reads'])} read(s) of {subject_id}")
            if data["approvals"]:
                parts.append(table(["#", "at", "by", "for", "until", "reason"],
                                   [[a["n"], a["at"], a["by"], a["grantee"], a["until"], a["reason"]]
                                    for a in data["approvals"]]))
        if "refusals" in data:
            parts.append(table(["at", "action", "record", "reason"],
                               [[r["at"], r["action"], r["target"], r["reason"]] for r in data["refusals"]])
                         + f"\n{len(data['refusals'])} refused action(s) of {who}")
            if data["log_exports"]:
                parts.append(table(["at", "from", "to", "records", "sha256", "reason"],
                                   [[x["at"], x["from"], x["to"], x["records"], x["sha256"][:16], x["reason"]]
                                    for x in data["log_exports"]]))
        emit(s, data, "\n".join(parts))
    run(ctx, go)


@audit.command("approve-export")
@click.argument("subject_id")
@click.option("--for", "grantee", required=True, metavar="STAFF_ID")
@click.option("--reason", required=True)
@click.option("--days", default=7, show_default=True, help="How long the approval is valid.")
@json_option
@click.pass_context
def audit_approve_export(ctx: click.Context, subject_id: str, grantee: str, reason: str, days: int) -> None:
    """Approve (as a manager of the data-owning department) one staff member's export of a
    subject's personal data beyond their own department (G8)."""
    from huifang.core.audit.reads import approve_export

    def go(s: State) -> None:
        data = approve_export(s.app(), s.actor, subject_id, grantee, reason, days)
        emit(s, data, f"{grantee} may export {subject_id}'s personal data until {data['until']} (approved by {s.actor})")
    run(ctx, go)


@click.group("retention")
def retention() -> None:
    """Retention (G10): how long records and recordings are kept."""


@retention.command("report")
@json_option
@click.pass_context
def retention_report_cmd(ctx: click.Context) -> None:
    """Records and recordings by retention deadline, per plugin (nothing inside it may be deleted)."""
    from huifang.core.audit.recordings import retention_report
    from huifang.core.privacy import plaintext_files

    def go(s: State) -> None:
        app = s.app()
        data = retention_report(app, s.now)
        # G8/G10: files outside the store holding plaintext personal data (import rejects)
        data["plaintext_files"] = plaintext_files(app)
        text = table(["plugin", "what", "years", "count", "open", "inside retention", "past retention"],
                     [[r["plugin"], r["what"], r["retention_years"], r["count"], r["open"], r["inside_retention"],
                       r["past_retention"]] for r in data["summary"]])
        text += "\n\n" + table(["held until", "plugin", "what", "count"],
                               [[g["held_until"], g["plugin"], g["what"], g["count"]] for g in data["by_deadline"]])
        files = [f for f in data["plaintext_files"] if f["exists"]]
        if files:  # G8: plaintext personal data outside the store, until someone deletes it
            text += "\nfiles outside the store holding plaintext personal data (delete them when done):\n" + table(
                ["file", "what", "rows", "written", "by", "mode"],
                [[f["path"], f["what"], f["rows"], f["at"][:16], f["by"], f["mode"]] for f in files])
        emit(s, data, text + "\n" + data["rule"])
    run(ctx, go)


def subject_erase_cmd() -> click.Command:
    @click.command("erase")
    @click.argument("subject_id")
    @click.option("--reason", required=True, help="Why (e.g. the erasure request number).")
    @click.option("--legal-order", default=None, metavar="REF", help="Required inside the retention period (G10).")
    @json_option
    @click.pass_context
    def subject_erase(ctx: click.Context, subject_id: str, reason: str, legal_order: str | None) -> None:
        """Erase a subject's personal data for good (crypto-shredding); counts and the chain stay."""
        from huifang.core.audit.erasure import erase_subject

        def go(s: State) -> None:
            data = erase_subject(s.app(), subject_id, reason, legal_order, s.actor)
            if data.get("disk_scrubbed") is False:
                click.echo(f"huifang: warning: the destroyed key's old bytes are still in {s.app().store.url}: "
                           f"another connection reads an older snapshot; they go at its next checkpoint "
                           f"(re-run when readers finished: huifang audit verify)", err=True)
            emit(s, data, f"subject {subject_id} erased ({reason}"
                          + (f"; legal order {legal_order}" if legal_order else "") + f"); "
                          f"{data['recordings_deleted']} recording(s) deleted; reports and the chain are unchanged")
        run(ctx, go)

    return subject_erase


def subject_export_cmd() -> click.Command:
    @click.command("export")
    @click.argument("subject_id")
    @click.option("--out", required=True, metavar="FILE.json")
    @click.option("--reason", default=None, help="Why (recorded, G8; required once roles are on).")
    @click.option("--force", is_flag=True, help="Overwrite --out FILE if it exists.")
    @json_option
    @click.pass_context
    def subject_export(ctx: click.Context, subject_id: str, out: str, reason: str | None, force: bool) -> None:
        """Export a subject's file and history in plain text (recorded; beyond your department it needs
        `audit approve-export` first, G8)."""
        from huifang.core import queries
        from huifang.core.audit.reads import record_export
        from huifang.core.domain import Subject

        def go(s: State) -> None:
            app = s.app()
            app.load(Subject, subject_id, "subject")
            p = check_output(app, out, force=force)  # never the store or a key (seal.key!)
            approval = record_export(app, s.actor, subject_id, reason)
            data = {"subject": queries.subject_json(app, subject_id),
                    "history": queries.history(app, subject_id)["events"],
                    "exported_by": s.actor, "exported_at": clock.iso(s.now), "approval": approval}
            write_output(p, json.dumps(data, ensure_ascii=False, indent=1, default=str).encode(), force=force,
                         mode=0o600)  # personal data in plain text
            emit(s, {"out": str(p), "subject": subject_id, "events": len(data["history"]), "approval": approval},
                 f"exported {subject_id}'s file and {len(data['history'])} events to {p} (recorded)")
        run(ctx, go)

    return subject_export
