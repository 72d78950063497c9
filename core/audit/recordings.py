"""Recordings (G11) and retention (G10).

`attempt --recording FILE` copies the file into the recordings directory (`[huifang] recordings_dir`,
default `<db>.recordings/` beside a SQLite store) under its content address `ab/abcdef….ext`, and the
attempt event stores its SHA-256, size and location — never the audio itself, and not the original
file name (it often carries a name or a phone number). `audit verify --recordings` re-hashes every
recorded file. Retention: a follow-up's records and recordings are kept `retention_years` (plugin
setting; finance 3, property 2) after it closed; `retention report` lists them by deadline. No
command deletes anything inside the period; `subject erase` deletes a subject's recordings only
after it, or on a legal order (erasure.py).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ..errors import HuifangError
from ..ports import FollowUpRecord
from ..status import OPEN
from .chain import as_bytes

TOPIC = "huifang:FollowUp.AttemptRecorded"


def recordings_dir(app: Any) -> Path:
    from .keys import sidecar

    configured = getattr(app.config.huifang, "recordings_dir", None)
    return Path(configured).expanduser() if configured else sidecar(app.store, "recordings")


def file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def store_recording(app: Any, path: str) -> dict[str, Any]:
    """Copy a recording into the recordings directory (content-addressed; atomic rename)."""
    p = Path(path)
    if not p.is_file():
        raise HuifangError(f"file '{path}' does not exist", field="recording")
    sha, size = file_digest(p)
    ext = "".join(c for c in p.suffix.lower() if c.isalnum() or c == ".")[:10]
    rel = f"{sha[:2]}/{sha}{ext}"
    base = recordings_dir(app)
    dest = base / rel
    if not dest.is_file():
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
            with os.fdopen(fd, "wb") as out, p.open("rb") as src:
                shutil.copyfileobj(src, out)
            os.chmod(tmp, 0o640)
            os.replace(tmp, dest)
        except OSError as e:
            raise HuifangError(f"cannot copy into the recordings directory {base} ({e}); "
                               f"check [huifang] recordings_dir", field="recording") from None
    return {"sha256": sha, "size": size, "file": rel, "path": str(dest)}


def describe(app: Any, oid: UUID) -> dict[str, Any]:
    """Which record an originator id is (kind, code) and the follow-up it belongs to, read from its
    first stored event (so it works even if a later event of it is damaged)."""
    try:
        first = app.recorder.select_events(oid, lte=1)
        state = json.loads(as_bytes(first[0].state)) if first else {}
        topic = first[0].topic if first else ""
    except Exception:
        state, topic = {}, ""
    kind = topic.removeprefix("huifang:").split(".")[0] if topic.startswith("huifang:") else ""
    code = state.get("code") or state.get("subject") or state.get("who")
    out: dict[str, Any] = {"record": f"{kind.lower()}:{code}" if kind and code else f"aggregate {oid}",
                           "followup": None, "subject": state.get("subject")}
    if kind == "FollowUp":
        out["followup"] = code
    elif kind == "Ticket":
        out["followup"] = state.get("followup")
    elif kind == "Trigger":
        out["followup"] = ", ".join(state.get("followups") or []) or None
    elif kind == "Subject":
        out["subject"] = code
    return out


def recorded(app: Any) -> list[dict[str, Any]]:
    """Every recording named by an attempt in the log, with its follow-up and subject."""
    out: list[dict[str, Any]] = []
    who: dict[Any, dict[str, Any]] = {}
    counts: dict[Any, int] = {}
    start = 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=1000, topics=[TOPIC])
        if not notes:
            break
        for n in notes:
            counts[n.originator_id] = counts.get(n.originator_id, 0) + 1
            e = app.mapper.to_domain_event(n)
            rec = getattr(e, "recording", None)
            if not rec or not rec.get("sha256"):
                continue
            if n.originator_id not in who:
                who[n.originator_id] = describe(app, n.originator_id)
            d = who[n.originator_id]
            out.append({"position": n.id, "followup": d["followup"], "subject": d["subject"],
                        "attempt": counts[n.originator_id], "at": e.timestamp, **rec})
        start = notes[-1].id + 1
    return out


def locate(app: Any, rec: dict[str, Any]) -> Path:
    return recordings_dir(app) / rec["file"] if rec.get("file") else Path(rec.get("path") or "")


def verify_recordings(app: Any) -> dict[str, Any]:
    problems: list[dict[str, Any]] = []
    checked = erased = 0
    erased_subjects = app.recorder.erased_subjects()
    for rec in recorded(app):
        path = locate(app, rec)
        checked += 1
        base = {"followup": rec["followup"], "attempt": rec["attempt"], "position": rec["position"],
                "sha256": rec["sha256"], "location": str(path)}
        if not path.is_file():
            if rec["subject"] in erased_subjects:
                erased += 1
                continue
            problems.append({**base, "kind": "missing", "message": f"recording {path} is missing"})
            continue
        sha, size = file_digest(path)
        if sha != rec["sha256"] or size != rec.get("size", size):
            problems.append({**base, "kind": "changed",
                             "message": f"recording {path} does not match its SHA-256 (recorded "
                                        f"{rec['sha256'][:12]}…, {rec.get('size')} bytes; now {sha[:12]}…, "
                                        f"{size} bytes)"})
    return {"checked": checked, "erased": erased, "problems": problems, "directory": str(recordings_dir(app))}


# -- retention (G10) -----------------------------------------------------------------------------------
def add_years(dt: datetime, years: int) -> datetime:
    try:
        return dt.replace(year=dt.year + years)
    except ValueError:  # 29 February
        return dt.replace(year=dt.year + years, day=28)


def followup_rows(app: Any, subject: str | None = None) -> list[FollowUpRecord]:
    return app.read_side.followup_records(subject)


def held_until(app: Any, plugin: str, closed_at: str | None) -> datetime | None:
    if not closed_at:
        return None  # open: kept while open, the period starts when it closes
    return add_years(datetime.fromisoformat(closed_at), app.settings(plugin).retention_years)


def retention_report(app: Any, now: datetime) -> dict[str, Any]:
    rows = followup_rows(app)
    by_code = {r.code: r for r in rows}
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    summary: dict[tuple[str, str], dict[str, Any]] = {}

    def add(plugin: str, what: str, until: datetime | None) -> None:
        years = app.settings(plugin).retention_years
        s = summary.setdefault((plugin, what), {"plugin": plugin, "what": what, "retention_years": years,
                                                "count": 0, "open": 0, "inside_retention": 0,
                                                "past_retention": 0})
        s["count"] += 1
        if until is None:
            s["open"] += 1
            month = "open"
        else:
            s["inside_retention" if until > now else "past_retention"] += 1
            month = until.strftime("%Y-%m")
        g = groups.setdefault((month, plugin, what), {"held_until": month, "plugin": plugin, "what": what,
                                                      "count": 0})
        g["count"] += 1

    for r in rows:
        add(r.plugin, "records", held_until(app, r.plugin, r.closed_at))
    for rec in recorded(app):
        fu = by_code.get(rec["followup"])
        if fu is not None:
            add(fu.plugin, "recordings", held_until(app, fu.plugin, fu.closed_at))
    ordered = sorted(groups.values(), key=lambda g: ("9999" if g["held_until"] == "open" else g["held_until"],
                                                    g["plugin"], g["what"]))
    return {"now": now.isoformat(), "summary": sorted(summary.values(), key=lambda s: (s["plugin"], s["what"])),
            "by_deadline": ordered,
            "rule": "G10: records and recordings are kept retention_years after the follow-up closed; nothing "
                    "inside the period is deleted (subject erase refuses without --legal-order)"}


def subject_retention(app: Any, subject: str) -> tuple[datetime | None, list[str], list[str]]:
    """(held until, plugins, open follow-ups) for one subject."""
    until: datetime | None = None
    plugins: set[str] = set()
    open_codes: list[str] = []
    for r in followup_rows(app, subject):
        plugins.add(r.plugin)
        if r.status in OPEN:
            open_codes.append(r.code)
            continue
        u = held_until(app, r.plugin, r.closed_at)
        if u is not None and (until is None or u > until):
            until = u
    for t in app.read_side.trigger_records(subject):
        plugins.add(t.plugin)
        if t.followups == 0:  # a trigger that planned nothing (e.g. not sampled, P2) is a record too
            u = add_years(datetime.fromisoformat(t.occurred_at), app.settings(t.plugin).retention_years)
            if until is None or u > until:
                until = u
    return until, sorted(plugins), sorted(open_codes)
