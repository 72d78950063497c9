"""The integration API over real HTTP: `huifang serve` started as its own process on 127.0.0.1 (one
server per backend for the module) on a store with access control on, API tokens issued by its admin
with `huifang token issue`. Idempotent trigger posts, 409 naming the differing fields, token scopes
and the access policy (refusals recorded, G8), revocation (401), recorded reads, validation errors as
{"field", "message"}, the body limit, and the OpenAPI document."""
from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Huifang
from tests.service_support import Api, Reply, issue, server

pytestmark = pytest.mark.slow  # a real server process per backend (~4 s to start)

NOW = "2026-09-28T09:00:00+08:00"
ATTRS = {"department": "cardiology", "diagnosis": "CHD", "responsible_nurse": "n1", "attending_doctor": "dr1"}


@pytest.fixture(scope="module")
def api(hf_module: Huifang) -> Iterator[Api]:
    hf = hf_module
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")  # access control on
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", actor="adm")
    hf.ok("staff", "add", "his", "--name", "HIS接口", "--role", "intake", actor="adm")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13812345678", actor="his")
    tokens = {"his": issue(hf, "his", "write"), "his_read": issue(hf, "his", "read"),
              "n1": issue(hf, "n1", "读取,写入"), "revoked": issue(hf, "his", "write,read")}
    with server(hf) as base:
        yield Api(base, hf, tokens)


def trigger(tid: str, **attrs: Any) -> dict[str, Any]:
    return {"id": tid, "kind": "discharge", "subject": "P1", "attributes": {**ATTRS, **attrs}}


def test_G8_api_trigger_post_is_idempotent_on_the_callers_id(api: Api) -> None:
    first = api("POST", "/api/v1/triggers", trigger("H1"), token="his")
    assert first.status == 201 and first.body["created"] and [f["id"] for f in first.body["followups"]] == ["H1-1"]
    again = api("POST", "/api/v1/triggers", trigger("H1"), token="his")
    assert again.status == 200 and not again.body["created"]
    assert [f["id"] for f in again.body["followups"]] == ["H1-1"]
    assert len(api.hf.ok("history", "H1", "--reason", "API test", actor="n1")["events"]) == 1  # one Trigger event: the re-send wrote nothing


def test_G8_api_same_trigger_id_with_other_data_is_409_naming_the_fields(api: Api) -> None:
    api("POST", "/api/v1/triggers", trigger("H2"), token="his")
    r = api("POST", "/api/v1/triggers", trigger("H2", diagnosis="AMI", attending_doctor="dr2"), token="his")
    assert r.status == 409 and r.body["field"] == "id"
    assert r.body["fields"] == ["diagnosis", "attending_doctor"] and "diagnosis, attending_doctor" in r.body["message"]
    other = api("POST", "/api/v1/triggers", {**trigger("H2"), "subject": "P9"}, token="his")
    assert other.status == 409 and other.body["fields"] == ["subject"]


def test_G8_api_token_scope_refused_and_recorded(api: Api) -> None:
    r = api("GET", "/api/v1/followups?all=true", token="his")  # a write-only token reads nothing
    assert r.status == 403 and r.body["field"] == "authorization" and "scope write" in r.body["message"]
    w = api("POST", "/api/v1/subjects", {"id": "P5", "name": "李四"}, token="his_read")
    assert w.status == 403
    refusals = api.hf.ok("audit", "reads", "--actor", "his", actor="adm")["refusals"]
    assert [x["action"] for x in refusals][-2:] == ["api.read", "api.write"]
    assert api("POST", "/api/v1/subjects", {"id": "P5", "name": "李四"}, token="his").status == 201  # none before


def test_G8_api_acts_through_the_access_policy(api: Api) -> None:
    """The token's staff member is the actor, refused as their CLI commands would be: an intake account
    records service events but works no follow-up; the refusal is recorded like the CLI's."""
    api("POST", "/api/v1/triggers", trigger("H4"), token="his")
    r = api("POST", "/api/v1/followups/H4-1/attempts", {"channel": "phone", "outcome": "reached"}, token="his_read")
    assert r.status == 403  # the token's scope first
    w = api.tokens["his"]
    both = issue(api.hf, "his", "read,write")
    api.tokens["his"] = both
    try:
        r = api("POST", "/api/v1/followups/H4-1/attempts", {"channel": "phone", "outcome": "reached"}, token="his")
    finally:
        api.tokens["his"] = w
    assert r.status == 403 and "his is intake" in r.body["message"], r.body
    refused = api.hf.ok("audit", "reads", "--actor", "his", actor="adm")["refusals"][-1]
    assert refused["action"] == "followup.work" and refused["target"] == "follow-up H4-1"
    cli = api.hf("token", "issue", "--staff", "n1", "--scope", "write", actor="n1")  # only an admin issues
    assert cli.code == 2 and "n1 is agent" in cli.err


def test_G8_api_works_a_followup_and_reads_are_recorded(api: Api) -> None:
    ok = api("POST", "/api/v1/followups/H1-1/attempts", {"channel": "phone", "outcome": "reached"}, token="n1")
    assert ok.status == 200 and ok.body["attempts"][-1]["outcome"] == "reached"
    done = api("POST", "/api/v1/followups/H1-1/complete",
               {"answers": {"recovery": 8, "satisfaction": "满意"}}, token="n1")
    assert done.status == 200 and done.body["status"] == "completed"
    shown = api("GET", "/api/v1/followups/H1-1", token="n1")
    assert shown.status == 200 and shown.body["answers"]["satisfaction"] == "满意"
    events = api.hf.ok("history", "H1-1", "--reason", "API test", actor="n1")["events"]
    assert [e["actor"] for e in events][-2:] == ["n1", "n1"]  # the attempt and the completion
    reads = api.hf.ok("audit", "reads", "--subject", "P1", actor="adm")["reads"]
    assert any(x["actor"] == "n1" and "H1-1" in x["target"] for x in reads), reads  # the call sheet: a recorded read
    closed = api("POST", "/api/v1/followups/H1-1/attempts", {"channel": "phone", "outcome": "reached"}, token="n1")
    assert closed.status == 409 and closed.body["message"]  # the core's lifecycle refusal, one line


def test_G8_api_revoked_token_is_401_and_recorded(api: Api) -> None:
    assert api("GET", "/api/v1/followups", token="revoked").status == 200
    [code] = [t["code"] for t in api.hf.ok("token", "list", actor="adm") if t["code"] == "T4"]
    api.hf.ok("token", "revoke", code, "--reason", "leaked", actor="adm")
    r = api("GET", "/api/v1/followups", token="revoked")
    assert r.status == 401 and r.body == {"field": "authorization", "message": f"API token {code} is revoked"}
    assert api.hf.ok("audit", "reads", "--actor", "his", actor="adm")["refusals"][-1]["reason"] == \
        f"API token {code} is revoked"
    assert api("GET", "/api/v1/followups", token="hf_T1_forged").status == 401
    assert api("GET", "/api/v1/followups").status == 401  # no token at all
    listed = {t["code"]: t for t in api.hf.ok("token", "list", actor="adm")}
    assert listed[code]["state"] == "revoked" and all("digest" not in t and "token" not in t for t in listed.values())


def test_G8_api_errors_are_json_with_a_field(api: Api) -> None:
    r = api("POST", "/api/v1/triggers", {"id": "H3", "kind": "discharge"}, token="his")
    assert r.status == 422 and r.body["field"] == "subject" and r.body["message"]
    extra = api("POST", "/api/v1/subjects", {"id": "P6", "name": "王五", "nickname": "x"}, token="his")
    assert extra.status == 422 and extra.body["field"] == "nickname"
    bad = api("POST", "/api/v1/subjects", {"id": "P6", "name": "王五", "phones": ["12"]}, token="his")
    assert bad.status == 422 and bad.body["field"] and "Traceback" not in json.dumps(bad.body)
    missing = api("GET", "/api/v1/followups/NOPE-1", token="n1")
    assert missing.status == 404 and set(missing.body) == {"field", "message"}
    broken = api("POST", "/api/v1/triggers", raw=b"{not json", token="his")
    assert broken.status == 422 and set(broken.body) >= {"field", "message"}
    big = declared_only(api, "/api/v1/subjects", 1024 * 1024 + 1)
    assert big.status == 413 and big.body["field"] == "body"


def declared_only(api: Api, path: str, length: int) -> Reply:
    """A request announcing a body of `length` bytes: refused on the header, before any is read (a client
    still sending would see the connection closed under it)."""
    host, port = api.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(length))
        conn.putheader("Authorization", f"Bearer {api.tokens['his']}")
        conn.endheaders()
        r = conn.getresponse()
        return Reply(r.status, json.loads(r.read()))
    finally:
        conn.close()


def test_G8_api_subject_post_and_openapi(api: Api) -> None:
    r = api("POST", "/api/v1/subjects", {"id": "P7", "name": "赵六", "phones": ["13900000007"]}, token="his")
    assert r.status == 201 and r.body == {"id": "P7", "created": True}
    assert api("POST", "/api/v1/subjects", {"id": "P7", "name": "赵六"}, token="his").status == 409
    doc = api("GET", "/openapi.json").body
    assert {"/api/v1/triggers", "/api/v1/subjects", "/api/v1/followups", "/api/v1/followups/{followup_id}",
            "/api/v1/followups/{followup_id}/attempts", "/api/v1/followups/{followup_id}/complete"} <= set(doc["paths"])
    assert "TriggerIn" in doc["components"]["schemas"]


def test_F5_api_patch_subject_changes_the_phone_and_the_old_one_stays_in_history(api: Api) -> None:
    api.hf.ok("subject", "add", "Q8", "--name", "钱八", "--phone", "13800000008", actor="his")
    api("POST", "/api/v1/triggers", {**trigger("H8"), "subject": "Q8"}, token="his")  # n1's follow-up of Q8
    intake = api("PATCH", "/api/v1/subjects/Q8", {"phone": "13600000006"}, token="his")
    assert intake.status == 403 and "his is intake" in intake.body["message"]  # the access policy, as the CLI's
    assert api.hf.ok("audit", "reads", "--actor", "his", actor="adm")["refusals"][-1]["target"] == "subject Q8"
    r = api("PATCH", "/api/v1/subjects/Q8", {"phone": "13600000006", "add_phone": ["13700000007"]}, token="n1")
    assert r.status == 200 and r.body == {"id": "Q8", "phones": ["136****0006", "137****0007"],
                                          "address_recorded": False}, r.body
    events = api.hf.ok("history", "Q8", "--reason", "API test", actor="n1")["events"]
    assert [e["data"]["changes"]["phones"] for e in events if e["event"] == "DetailsUpdated"] == \
        [["13600000006", "13700000007"]]
    assert [e["data"]["phones"] for e in events if e["event"] == "Registered"] == [["13800000008"]]  # the old one
    assert api("PATCH", "/api/v1/subjects/Q8", {}, token="n1").body["field"] == "phone"  # nothing to change
    assert api("PATCH", "/api/v1/subjects/Q8", {"phone": "13600000009"}, token="his_read").status == 403
    assert api("PATCH", "/api/v1/subjects/NOPE", {"phone": "13600000009"}, token="n1").status == 404


def test_G12_api_ticket_resolve_plans_the_second_followup(api: Api) -> None:
    api("POST", "/api/v1/triggers", trigger("H12"), token="his")
    api("POST", "/api/v1/followups/H12-1/attempts", {"channel": "phone", "outcome": "reached"}, token="n1")
    done = api("POST", "/api/v1/followups/H12-1/complete",
               {"answers": {"recovery": 8, "satisfaction": "不满意"}, "reason_code": "waiting",
                "reason": "排队两个小时"}, token="n1")
    assert done.status == 200 and done.body["tickets"], done.body
    ticket = done.body["tickets"][0]
    assert api("POST", f"/api/v1/tickets/{ticket}/resolve", {"note": "x"}, token="his_read").status == 403
    r = api("POST", f"/api/v1/tickets/{ticket}/resolve", {"note": "已安排复诊"}, token="n1")
    assert r.status == 200 and r.body["status"] == "resolved" and r.body["resolution"] == "已安排复诊", r.body
    second = api("GET", f"/api/v1/followups/{r.body['second_followup']}", token="n1")
    assert second.status == 200 and second.body["due"] == r.body["second_followup_due"]
    assert api("POST", f"/api/v1/tickets/{ticket}/resolve", {"note": "again"}, token="n1").status == 409


def test_G14_api_report_json_equals_the_cli_and_csv_has_the_bom(api: Api) -> None:
    period = "from=2026-09-01&to=2026-09-30"
    r = api("GET", f"/api/v1/reports/rates?{period}&by=department", token="n1")
    assert r.status == 200 and r.media.startswith("application/json")
    cli = api.hf.ok("report", "rates", "--from", "2026-09-01", "--to", "2026-09-30", "--by", "department", now=NOW)
    assert {k: v for k, v in r.body.items() if k != "generated_at"} == \
        {k: v for k, v in cli.items() if k != "generated_at"}
    csv = api("GET", f"/api/v1/reports/rates?{period}&format=csv", token="n1", decode=False)
    assert csv.status == 200 and csv.media.startswith("text/csv") and csv.body.startswith(b"\xef\xbb\xbf")
    xlsx = api("GET", f"/api/v1/reports/rates?{period}&format=xlsx", token="n1", decode=False)
    assert xlsx.status == 200 and xlsx.media.endswith("spreadsheetml.sheet") and xlsx.body[:2] == b"PK"
    assert api("GET", "/api/v1/reports/rates?format=png", token="n1").body["field"] == "format"
    assert api("GET", "/api/v1/reports/rates", token="his").status == 403  # scope read
    doc = api("GET", "/openapi.json").body
    assert {"/api/v1/subjects/{subject_id}", "/api/v1/tickets/{ticket_id}/resolve",
            "/api/v1/reports/{kind}"} <= set(doc["paths"])


def test_G8_api_rate_limit_per_token_is_429_with_a_json_body(api: Api) -> None:
    with server(api.hf, "--rate-limit", "3") as base:
        limited = Api(base, api.hf, api.tokens)
        assert [limited("GET", "/api/v1/followups", token="n1").status for _ in range(3)] == [200] * 3
        r = limited("GET", "/api/v1/followups", token="n1")
        assert r.status == 429 and r.body["field"] == "authorization" and "3 requests a minute" in r.body["message"]
        assert limited("GET", "/api/v1/followups", token="his_read").status == 200  # per token
