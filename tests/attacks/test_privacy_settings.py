"""Privacy settings are the store's, not the config file's (G8): fixed and recorded by `huifang init`,
widened only by a recorded admin command, never narrowed by whoever passes `--config`.

The attack before this rule: any operator ran a command with `--config` naming `pii_attributes = []`
and the subject's address (and every other listed attribute) was written in plaintext."""
from __future__ import annotations

from pathlib import Path

from tests.attacks.privacy_kit import leaks
from tests.conftest import Huifang

ADDRESS = "上海市徐汇区漕溪北路88号"
CODED = "I25.103"  # a coded diagnosis: plain by the medical plugin's declaration, unless the store says otherwise


def config(tmp_path: Path, name: str, body: str) -> str:
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return str(p)


def discharge(hf: Huifang, sid: str, tid: str, **kw: str) -> None:
    hf.ok("trigger", "discharge", "--subject", sid, "--id", tid, "--attr", "department=cardiology",
          "--attr", f"diagnosis={CODED}", "--attr", "responsible_nurse=n1", "--attr", "attending_doctor=dr1", **kw)


def test_g8_an_empty_pii_list_in_a_config_file_encrypts_nothing_less(hf, tmp_path):
    empty = config(tmp_path, "empty.toml", "[huifang]\npii_attributes = []\n")
    hf.ok("subject", "add", "P1", "--name", "张三", "--attr", f"address={ADDRESS}", "--attr", "楼号=7", config=empty)
    assert leaks(hf.db, ADDRESS) == []
    assert hf.ok("subject", "show", "P1")["attributes"]["address"] == ADDRESS


def test_g8_settings_fixed_at_init_are_never_narrowed_by_a_config_file(db, tmp_path):
    strict = config(tmp_path, "strict.toml", '[huifang]\npii_attributes = ["diagnosis"]\n')
    hf = Huifang(db, config=strict)
    hf.ok("init")
    shown = hf.ok("privacy", "show")
    assert shown["recorded"] and shown["key_check"] and "diagnosis" in shown["encrypt"]
    hf.ok("subject", "add", "P1", "--name", "张三")
    discharge(hf, "P1", "D1")
    assert leaks(db, CODED) == []  # the store's settings encrypt it, whatever the plugin declares
    for name, body in (("empty.toml", "[huifang]\npii_attributes = []\n"),
                       ("other.toml", '[huifang]\npii_attributes = ["unit"]\n')):
        r = Huifang(db, config=config(tmp_path, name, body))("subject", "add", "P2", "--name", "李四")
        assert r.code == 2 and r.err.count("\n") == 1, r.err
        assert "fixed in the store" in r.err and "privacy widen" in r.err
    plain = Huifang(db)  # a config file without the key: the store's settings apply
    plain.ok("subject", "add", "P2", "--name", "李四")
    discharge(plain, "P2", "D2")
    assert leaks(db, CODED) == []


def test_g8_only_a_recorded_admin_command_widens_the_settings(hf, tmp_path):
    from tests.audit_kit import Raw

    hf.ok("subject", "add", "P1", "--name", "张三")
    discharge(hf, "P1", "D1")
    assert leaks(hf.db, CODED) == [CODED]  # a declared code: plain for the G20 report
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")  # access control on
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", actor="adm")
    hf.ok("staff", "add", "his", "--name", "HIS interface", "--role", "intake", actor="adm")
    r = hf("privacy", "widen", "--encrypt", "diagnosis", "--reason", "DPO decision 7", actor="n1")
    assert r.code == 2 and "only admin" in r.err
    refusals = hf.ok("audit", "reads", "--actor", "n1", actor="adm")["refusals"]
    assert [x["action"] for x in refusals] == ["privacy.widen"]
    r = hf("privacy", "widen", "--encrypt", "diagnosis", actor="adm")
    assert r.code == 2 and "--reason" in r.err
    w = hf.ok("privacy", "widen", "--encrypt", "diagnosis", "--reason", "DPO decision 7", actor="adm")
    assert w["added"] == ["diagnosis"] and "diagnosis" in w["encrypt"]
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D2", "--attr", "department=cardiology",
          "--attr", "diagnosis=I50.901", "--attr", "responsible_nurse=n1", "--attr", "attending_doctor=dr1",
          actor="his", now="2026-09-29T09:00+08:00")
    assert leaks(hf.db, "I50.901") == []
    # the settings and their widening are records of the chained log
    topics = [r[3] for r in Raw(hf.db).records()]
    assert "huifang:PrivacySettings.Configured" in topics and "huifang:PrivacySettings.Widened" in topics
    # and no config file takes it back
    back = config(tmp_path, "back.toml", "[huifang]\npii_attributes = []\n")
    r = hf("queue", config=back, now="2026-09-29T09:00+08:00")
    assert r.code == 2 and "fixed in the store" in r.err
