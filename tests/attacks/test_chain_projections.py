"""Access decisions do not trust the read views (G8): a view row edited with a raw SQL client
(sqlite3 / psql) must not give an agent another patient's file. Owners and departments come from
the follow-up aggregates (the event log); the views only say which follow-ups to look at."""
from __future__ import annotations

from typing import Any

import pytest

from tests.attacks.test_chain_tamper import LATER, Attacker, psql_binary  # noqa: F401  (fixture)
from tests.audit_kit import DISCHARGE, NAME, ward


@pytest.fixture
def org(hf: Any, store_cache: Any) -> Any:
    return store_cache(hf, _org)


def _org(hf: Any) -> None:
    """The ward (n1 owns P1's follow-up D1-1), an agent of another department with a patient of her
    own (P2, follow-up D2-1), and an admin: access control is on."""
    ward(hf)
    hf.ok("staff", "add", "n2", "--name", "李护士", "--role", "agent", "--dept", "oncology", now=LATER)
    hf.ok("subject", "add", "P2", "--name", "李四", "--phone", "13900000002", now=LATER)
    other = [a.replace("cardiology", "oncology").replace("responsible_nurse=n1", "responsible_nurse=n2")
             for a in DISCHARGE]
    hf.ok("trigger", "discharge", "--subject", "P2", "--id", "D2", *other, now=LATER)
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin", now=LATER)
    r = hf("subject", "show", "P1", "--reason", "follow-up call", actor="n2", now=LATER)
    assert r.code == 2 and NAME not in r.out  # before the attack: n2 may not read P1
    assert hf.ok("subject", "show", "P2", "--reason", "follow-up call", actor="n2", now=LATER)


@pytest.mark.parametrize("edit", [
    "UPDATE followups SET owner = 'n2', department = 'oncology' WHERE code = 'D1-1'",
    "UPDATE followups SET subject = 'P1' WHERE code = 'D2-1'",
], ids=["owner", "subject"])
def test_g8_edited_view_row_grants_no_read(org, edit):
    """Attack: `UPDATE followups SET owner = 'n2'` on P1's follow-up (or point n2's own follow-up at P1)
    in the view table; `subject show P1 --as n2` used to show P1's name and phone."""
    Attacker(org.db).execute(edit)
    r = org("subject", "show", "P1", "--reason", "follow-up call", actor="n2", now=LATER)
    assert r.code == 2, (r.code, r.out[:200])
    assert NAME not in r.out and "may not read" in r.err
    assert org.ok("subject", "show", "P1", "--reason", "follow-up call", actor="n1", now=LATER)  # the owner still may
