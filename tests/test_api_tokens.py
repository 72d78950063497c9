"""API tokens of the HTTP service (G8) without a server: issued once and kept only as a digest,
scopes by code or Chinese label, expiry and revocation refused and recorded, one-line CLI errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Huifang

NOW = "2026-09-28T09:00:00+08:00"
LATER = "2026-10-01T09:00:00+08:00"


@pytest.fixture
def org(hf: Huifang) -> Huifang:
    hf.ok("staff", "add", "his", "--name", "HIS接口", "--role", "intake")
    return hf


def authenticate(db: str, token: str, at: str) -> dict:
    from huifang.core import clock
    from huifang.core.config import Config
    from huifang.core.usecases import tokens
    from huifang.projections import open_app

    app = open_app(db, Config())
    try:
        with clock.at(clock.parse_instant(at)):
            return tokens.authenticate(app, token)
    finally:
        app.close()


def test_G8_token_expires_and_its_use_is_refused_and_recorded(org: Huifang) -> None:
    from huifang.core.usecases.tokens import TokenRefused

    issued = org.ok("token", "issue", "--staff", "his", "--scope", "写入", "--expires", "1")
    assert issued["scopes"] == ["write"] and issued["token"].startswith(f"hf_{issued['code']}_")
    assert authenticate(org.db, issued["token"], NOW)["staff"] == "his"
    with pytest.raises(TokenRefused, match="is expired"):
        authenticate(org.db, issued["token"], LATER)
    assert org.ok("token", "list", now=LATER)[0]["state"] == "expired"
    assert org.ok("audit", "reads", "--actor", "his", now=LATER)["refusals"][-1]["reason"] == \
        f"API token {issued['code']} is expired"
    with pytest.raises(TokenRefused, match="not valid"):
        authenticate(org.db, issued["token"][:-2] + "xx", NOW)


def test_G8_token_cli_errors_are_one_line(org: Huifang) -> None:
    r = org("token", "issue", "--staff", "his", "--scope", "admin")
    assert r.code == 2 and r.err.startswith("huifang: error: --scope: 'admin' is not one of") and r.err.count("\n") == 1
    r = org("token", "issue", "--staff", "nobody", "--scope", "read")
    assert r.code == 2 and "--staff: staff 'nobody' does not exist" in r.err
    r = org("token", "issue", "--staff", "his", "--scope", "read", "--expires", "0")
    assert r.code == 2 and "--expires:" in r.err
    code = org.ok("token", "issue", "--staff", "his", "--scope", "read")["code"]
    org.ok("token", "revoke", code)
    r = org("token", "revoke", code)
    assert r.code == 2 and "already revoked" in r.err
    assert org("token", "revoke", "T99").code == 2
    assert [t["state"] for t in org.ok("token", "list")] == ["revoked"]


def test_G8_token_secret_is_never_stored(hf_sqlite: Huifang) -> None:
    hf_sqlite.ok("staff", "add", "his", "--name", "HIS接口", "--role", "intake")
    secret = hf_sqlite.ok("token", "issue", "--staff", "his", "--scope", "read")["token"].split("_", 2)[2]
    raw = b"".join(p.read_bytes() for p in Path(hf_sqlite.db).parent.glob(Path(hf_sqlite.db).name + "*")
                   if p.is_file())
    assert secret.encode() not in raw
    assert "token" not in hf_sqlite.ok("token", "list")[0]


def test_G8_long_lived_app_sees_tokens_issued_and_revoked_by_other_commands(org: Huifang) -> None:
    """`huifang serve` keeps its token book between requests: a token issued or revoked by a command of
    another process counts from the next request, and a changed fingerprint of a token never passes."""
    from huifang.core import clock
    from huifang.core.config import Config
    from huifang.core.usecases import tokens
    from huifang.projections import open_app

    first = org.ok("token", "issue", "--staff", "his", "--scope", "read")
    app = open_app(org.db, Config())
    try:
        with clock.at(clock.parse_instant(NOW)):
            assert tokens.authenticate(app, first["token"])["staff"] == "his"
            second = org.ok("token", "issue", "--staff", "his", "--scope", "write")
            assert tokens.authenticate(app, second["token"])["scopes"] == ["write"]
            org.ok("token", "revoke", first["code"])
            with pytest.raises(tokens.TokenRefused, match="is revoked"):
                tokens.authenticate(app, first["token"])
            assert tokens.authenticate(app, second["token"])["staff"] == "his"
            with pytest.raises(tokens.TokenRefused, match="not valid"):
                tokens.authenticate(app, second["token"][:-2] + "xx")
    finally:
        app.close()
