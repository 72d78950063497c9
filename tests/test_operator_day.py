"""回访员的一天（操作指南的五个命令及日常辅助命令），通过真实 CLI 逐项验证（G1, G8, G18, G21, F5）。

场景：心内科护士长 hn，护士 n1、n2（向 hn 汇报），外科护士 s9。张三(P1)、李四(P2) 由 n1 负责，王五(P3) 由 n2
负责，均于 9 月 28 日出院：国庆假期后 10 月 8 日 10:00 开始回访。最后登记管理员，权限控制开启。读取个人信息的
命令都在同一时刻 LATER 执行（读取记录按时间递增）。
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Huifang

T0 = "2026-09-28T09:00+08:00"
LATER = "2026-10-09T15:30+08:00"  # 10 月 9 日下午：D1-1 逾期 0 天（当天截止前）或已逾期，窗口已开


def discharge(h: Huifang, subject: str, tid: str, nurse: str) -> None:
    h.ok("trigger", "discharge", "--subject", subject, "--id", tid, "--attr", "department=cardiology",
         "--attr", "diagnosis=CHD", "--attr", "attending_doctor=李医生", "--attr", f"responsible_nurse={nurse}")


@pytest.fixture(scope="module")
def ward(hf_module: Huifang) -> Huifang:
    h = hf_module
    h.now = T0
    h.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology")
    for n, name in (("n1", "王芳"), ("n2", "李娜")):
        h.ok("staff", "add", n, "--name", name, "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    h.ok("staff", "add", "s9", "--name", "赵外科", "--role", "agent", "--dept", "surgery")
    for code, name, phone in (("P1", "张三", "13800000001"), ("P2", "李四", "13900000002"),
                              ("P3", "王五", "13700000003")):
        h.ok("subject", "add", code, "--name", name, "--phone", phone)
    for subject, tid, nurse in (("P1", "D1", "n1"), ("P2", "D2", "n1"), ("P3", "D3", "n2")):
        discharge(h, subject, tid, nurse)
    h.ok("staff", "add", "ad", "--name", "管理员", "--role", "admin")  # 权限控制开启
    h.ok("staff", "add", "au", "--name", "审计", "--role", "auditor", actor="ad")
    h.now = LATER
    return h


def reads(h: Huifang, subject: str) -> list[dict[str, Any]]:
    return list(h.ok("audit", "reads", "--subject", subject, actor="au")["reads"])


# -- 1. queue ---------------------------------------------------------------------------------------------
def test_G8_护士的队列默认只列自己的回访_显示姓名和脱敏电话并留痕(ward: Huifang) -> None:
    text = ward.ok("queue", actor="n1", json_out=False)
    assert "张三" in text and "138****0001" in text and "李四" in text and "139****0002" in text
    assert "王五" not in text and "D3-1" not in text  # n2 的回访不在 n1 的默认队列
    assert "13800000001" not in text  # 队列只显示脱敏号码
    assert "n1 的回访: 共 2 条" in text
    assert "T" not in text.split("\n")[1].split()[1]  # 截止时间是“今天 23:59”之类的人话，不是 ISO
    assert any(r["what"] == "queue" and r["actor"] == "n1" for r in reads(ward, "P1"))
    assert [r["id"] for r in ward.ok("queue", actor="n1")] == ["D1-1", "D2-1"]  # --json：仍是编码


def test_G8_护士长用团队视图_护士用全部视图时他人客户只显示编号(ward: Huifang) -> None:
    team = ward.ok("queue", "--team", actor="hn", json_out=False)
    assert all(n in team for n in ("张三", "李四", "王五"))  # 阶梯内下属的客户，护士长可读
    everyone = ward.ok("queue", "--all", actor="n1", json_out=False)
    row = next(line for line in everyone.splitlines() if line.startswith("D3-1"))
    assert "P3" in row and "王五" not in row and "137****" not in row  # 超出 n1 的权限：只显示编号
    assert not any(r["actor"] == "n1" and r["what"] == "queue" for r in reads(ward, "P3"))
    assert [r["id"] for r in ward.ok("queue", "--agent", "n2", actor="hn")] == ["D3-1"]


# -- 2. show ----------------------------------------------------------------------------------------------
def test_G8_回访单_负责人看到完整号码_背景_话术和必答题(ward: Huifang) -> None:
    text = ward.ok("show", "D1-1", actor="n1", json_out=False)
    assert "张三" in text and "13800000001" in text
    assert "诊断: CHD" in text and "主治医生: 李医生" in text
    for part in ("礼貌问候: 您好，请问是张三吗？", "自我介绍: ", "结束语: ", "客户不满意时: "):
        assert part in text, part
    assert "*1." in text  # 必答题标 *
    assert "+08:00" not in text and ":59:59" not in text  # 时间是 10-09 23:59 这样的短格式
    sheet = ward.ok("show", "D1-1", actor="n1")["sheet"]
    assert sheet["phones"] == [{"number": "13800000001", "masked": False}]
    required = {q["key"]: q["required"] for q in sheet["script"]["questions"]}
    assert required["satisfaction"] is True and required["recovery"] is True
    assert any(r["what"] == "callsheet" and r["actor"] == "n1" and r["target"] == "followup:D1-1"
               for r in reads(ward, "P1"))


def test_M6_G4_回访单_康复评分模板在康复题旁_健康宣教在满意度之前_宣教内容是记录项(ward: Huifang) -> None:
    text = ward.ok("show", "D1-1", actor="n1", json_out=False)
    lines = text.splitlines()

    def at(part: str) -> int:
        return next(i for i, line in enumerate(lines) if part in line)

    assert "科室: 心内科" in text  # 科室编码 cardiology 显示为标签
    assert at("(recovery)") < at("康复评分模板：冠心病") < at("(adherence)")  # M6：按病种的评分模板，在康复题旁
    assert at("(symptoms)") < at("健康宣教 / 告知: 请注意饮食规律") < at("(satisfaction)") < at("结束语")
    assert "--answer health_guidance=…" in text and at("登记回访信息") > at("结束语")  # G4：宣教内容是记录项
    shown = ward.ok("show", "D1-1", actor="n1")
    sheet = shown["sheet"]
    assert [g["question"] for g in sheet["guides"]] == ["recovery"] and sheet["script"]["education_field"] == \
        "health_guidance"
    assert len(sheet["script"]["questions"]) <= 5 and "health_guidance" in [f["key"] for f in sheet["record_fields"]]
    assert {"guides", "warnings", "record_fields", "clinical_exception", "calendar_assumption", "closed_note",
            "survey", "meta", "attempts"} <= set(shown)  # show --json: the earlier keys stay


def test_G8_回访单_护士长看到的号码是脱敏的(ward: Huifang) -> None:
    sheet = ward.ok("show", "D1-1", actor="hn")["sheet"]
    assert sheet["name"] == "张三" and sheet["phones"] == [{"number": "138****0001", "masked": True}]


def test_G8_回访单_匿名命令行只看到编码不留痕(ward: Huifang) -> None:
    before = len(reads(ward, "P2"))
    sheet = ward.ok("show", "D2-1")["sheet"]  # 权限控制开启后，cli 可以 show 但读不到个人信息
    assert sheet["personal"] is False and sheet["name"] is None and sheet["phones"] == []
    assert len(reads(ward, "P2")) == before


# -- 3./5. subject find, staff list, ticket list ----------------------------------------------------------
def test_G8_按尾号和姓名找客户_只在权限范围内(ward: Huifang) -> None:
    found = ward.ok("subject", "find", "--phone", "0001", actor="n1")
    assert [s["id"] for s in found["subjects"]] == ["P1"] and found["subjects"][0]["phones"] == ["138****0001"]
    assert [s["id"] for s in ward.ok("subject", "find", "--phone", "139****0002", actor="n1")["subjects"]] == ["P2"]
    assert [s["id"] for s in ward.ok("subject", "find", "--name", "王", actor="hn")["subjects"]] == ["P3"]
    assert any(r["what"] == "find" and r["actor"] == "hn" for r in reads(ward, "P3"))


def test_员工名单(ward: Huifang) -> None:
    staff = {s["id"]: s for s in ward.ok("staff", "list", actor="hn")}
    assert {"hn", "n1", "n2", "s9", "ad", "au"} <= set(staff) and staff["n1"]["reports_to"] == "hn"
    assert [s["id"] for s in ward.ok("staff", "list", "--dept", "surgery", actor="hn")] == ["s9"]
    assert "王芳" in ward.ok("staff", "list", actor="hn", json_out=False)


def test_G12_问题件列表_我的_科室_未结(ward: Huifang) -> None:
    opened = ward.ok("ticket", "open", "D2-1", "--category", "service", "--dept", "cardiology", actor="n1")
    mine = ward.ok("ticket", "list", "--open", "--dept", "cardiology", actor="hn")
    assert opened["id"] in [t["id"] for t in mine]
    assert all(t["status"] == "open" and t["department"] == "cardiology" for t in mine)
    assert ward.ok("ticket", "list", "--dept", "surgery", actor="hn") == []
    text = ward.ok("ticket", "list", "--open", actor="hn", json_out=False)
    assert opened["id"] in text and "问题件" in text


# -- the missing verbs: subject edit (F5), greetings (G21) ---------------------------------------------------
def test_F5_空号后记录重新确认的号码_旧号码加密留在历史里(hf: Huifang) -> None:
    hf.ok("staff", "add", "n1", "--name", "王芳", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    discharge(hf, "P1", "D1", "n1")
    when = "2026-10-08T10:30+08:00"
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "wrong_number", actor="n1", now=when)
    edited = hf.ok("subject", "edit", "P1", "--phone", "13600000006", "--address", "北京市朝阳区建国路1号",
                   actor="n1", now=when)
    assert edited["phones"] == ["136****0006"]
    assert hf.ok("show", "D1-1", actor="n1", now=when)["sheet"]["phones"][0]["number"] == "13600000006"
    events = hf.ok("history", "P1", "--reason", "核对号码", actor="n1", now=when)["events"]
    assert [e["data"]["changes"]["phones"] for e in events if e["event"] == "DetailsUpdated"] == [["13600000006"]]
    assert [e["data"]["phones"] for e in events if e["event"] == "Registered" and "phones" in e["data"]] == \
        [["13800000001"]]  # 旧号码仍在历史里
    from tests.attacks.privacy_kit import raw_bytes

    raw = raw_bytes(hf.db)
    for secret in ("13600000006", "13800000001", "建国路"):
        assert secret.encode() not in raw, secret  # 新旧号码、地址都只以密文存储


def test_G21_节日问候说出每个渠道真实的发送结果(hf: Huifang) -> None:
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001", "--attr", "birthday=09-28")
    out = hf.ok("greetings", "--occasion", "birthday", json_out=False)
    assert "1 greeting(s), 0 left out" in out and "短信 (file): 已发送 1" in out  # the file outbox by default


# -- config: which file, what is in effect, survey wording --------------------------------------------------
def test_G18_机构在配置里改话术和问题措辞_回访单照用(hf: Huifang, tmp_path: Path) -> None:
    cfg = tmp_path / "org.toml"
    cfg.write_text('[huifang]\norganisation = "仁和医院"\n'
                   '[plugins.medical.surveys.discharge_first.script]\n'
                   'education = "出院后请低盐低脂饮食，按时服药，两周后门诊复查。"\n'
                   '[plugins.medical.surveys.discharge_first.questions.recovery]\n'
                   'text = "您出院后恢复得怎么样？（0-10 分）"\n', encoding="utf-8")
    hf.config = str(cfg)
    hf.ok("staff", "add", "n1", "--name", "王芳", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    discharge(hf, "P1", "D1", "n1")
    text = hf.ok("show", "D1-1", actor="n1", now=LATER, json_out=False)
    assert "健康宣教 / 告知: 出院后请低盐低脂饮食" in text and "我是仁和医院回访员王芳" in text
    assert "您出院后恢复得怎么样？（0-10 分）" in text and f"配置: {cfg} (--config)" in text
    call = "2026-10-09T15:35+08:00"
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now=call)
    hf.ok("complete", "D1-1", "--answer", "recovery=8", "--answer", "satisfaction=满意", actor="n1",
          now=call)  # 问题键与选项不变：插件的规则照常读取


@pytest.mark.parametrize("edit,error", [
    ('[plugins.medical.surveys.discharge_first.questions.q6]\ntext = "还有吗？"\n', "G18: a survey has at most 5"),
    ('[plugins.medical.surveys.discharge_first.questions.satisfaction]\nomit = true\n', "cannot be omitted"),
    ('[plugins.medical.surveys.discharge_first.questions.symptoms]\nchoices = ["a"]\n', "keeps its kind, choices"),
    ('[plugins.medical.surveys.no_such_visit]\ntitle = "x"\n', "is not a visit type of medical"),
    ('[plugins.medical.surveys.discharge_first.script]\nopeninng = "x"\n', "unknown key"),
])
def test_G18_话术配置有误时一行报错(hf: Huifang, tmp_path: Path, edit: str, error: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(edit, encoding="utf-8")
    r = hf("config", "check", config=str(cfg))
    assert r.code == 2 and error in r.err and r.err.count("\n") == 1, r.err


def test_配置_init时记录的配置文件从任何目录都能找到_config_show注明来源(
        hf: Huifang, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUIFANG_CONFIG", raising=False)
    cfg = tmp_path / "deploy" / "huifang.toml"
    cfg.parent.mkdir()
    cfg.write_text('[plugins.medical]\ndischarge_open_days = 8\n', encoding="utf-8")
    hf.ok("init", config=str(cfg))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    shown = hf.ok("config", "show")
    assert shown["config"] == str(cfg.resolve()) and shown["found_by"] == "store"
    by_key = {s["key"]: s for s in shown["settings"]}
    assert by_key["plugins.medical.discharge_open_days"] == {"key": "plugins.medical.discharge_open_days",
                                                             "value": 8, "source": "file"}
    assert by_key["plugins.medical.discharge_due_days"]["source"] == "default"
    monkeypatch.setenv("HUIFANG_LANG", "en")
    assert {s["key"]: s for s in hf.ok("config", "show")["settings"]}["huifang.lang"]["source"] == "env HUIFANG_LANG"
    monkeypatch.setenv("HUIFANG_CONFIG", str(cfg))
    assert hf.ok("config", "show")["found_by"] == "HUIFANG_CONFIG"
    monkeypatch.delenv("HUIFANG_CONFIG")
    cfg.unlink()  # the recorded file is gone: say so, never plan silently with the defaults
    r = hf("queue")
    assert r.code == 2 and "the config recorded at init" in r.err


def test_配置检查_窗口当天开当天关时警告(hf: Huifang, tmp_path: Path) -> None:
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[plugins.medical]\ndischarge_open_days = 10\n', encoding="utf-8")
    checked = hf.ok("config", "check", config=str(cfg))
    assert checked["valid"] and any("discharge → discharge_first" in w and "discharge_open_days = "
                                    "discharge_due_days = 10" in w for w in checked["warnings"])
    assert hf.ok("config", "check")["warnings"] == []  # the defaults warn of nothing
