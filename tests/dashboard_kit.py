"""A small ward for the dashboard tests (through the real CLI): a supervisor and a manager with
dashboard passwords, two agents, six discharges in September whose follow-ups fall due in October
2026, worked to every outcome the headline figures count. The dashboard runs at `NOW` (October)."""
from __future__ import annotations

from typing import Any

NOW = "2026-10-20T09:00:00+08:00"
PERIOD = ("2026-10-01", "2026-10-31")
PASSWORD = "hui-fang-2026!"
ATTRS = {"diagnosis": "CHD", "attending_doctor": "dr1"}
OK = ["--answer", "recovery=7", "--answer", "symptoms=none"]
SUBJECTS = {"P1": ("张三丰", "13812341234"), "P2": ("李四", "13900000002"), "P3": ("王五", "13700000003"),
            "P4": ("赵六", "13600000004"), "P5": ("钱七", "13500000005"), "P6": ("孙八", "13400000006")}


def discharge(hf: Any, tid: str, subject: str, dept: str, nurse: str) -> None:
    attrs = {**ATTRS, "department": dept, "responsible_nurse": nurse}
    hf.ok("trigger", "discharge", "--subject", subject, "--id", tid,
          *[x for k, v in attrs.items() for x in ("--attr", f"{k}={v}")], now="2026-09-28T09:00:00+08:00")


def ward(hf: Any) -> Any:
    """The scenario; access control on (admin `adm`) at the end. Returns hf."""
    hf.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology")
    hf.ok("staff", "add", "mgr", "--name", "刘经理", "--role", "manager")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    hf.ok("staff", "add", "n2", "--name", "陈护士", "--role", "agent", "--dept", "surgery", "--reports-to", "hn")
    for code, (name, phone) in SUBJECTS.items():
        hf.ok("subject", "add", code, "--name", name, "--phone", phone)
    for tid, subject, dept, nurse in (("D1", "P1", "cardiology", "n1"), ("D2", "P2", "cardiology", "n1"),
                                      ("D3", "P3", "cardiology", "n1"), ("D4", "P4", "cardiology", "n1"),
                                      ("D5", "P5", "surgery", "n2"), ("D6", "P6", "surgery", "n2")):
        discharge(hf, tid, subject, dept, nurse)

    def work(*args: str, actor: str, now: str) -> Any:
        return hf.ok(*args, actor=actor, now=now)

    # D1-1 on time, 满意
    work("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now="2026-10-08T10:30+08:00")
    work("complete", "D1-1", *OK, "--answer", "satisfaction=满意", actor="n1", now="2026-10-08T10:40+08:00")
    # D2-1 on time, 不满意 (a ticket with its reason)
    work("attempt", "D2-1", "--channel", "phone", "--outcome", "reached", actor="n1", now="2026-10-08T11:00+08:00")
    work("complete", "D2-1", *OK, "--answer", "satisfaction=不满意", "--reason-code", "waiting", "--reason",
         "排队两个小时", actor="n1", now="2026-10-08T11:10+08:00")
    # D3-1 reached but never completed; D4-1 nothing done: both overdue at NOW
    work("attempt", "D3-1", "--channel", "phone", "--outcome", "reached", actor="n1", now="2026-10-09T10:30+08:00")
    # D5-1 refused (closed lost); D6-1 completed, 较满意
    work("attempt", "D5-1", "--channel", "phone", "--outcome", "refused", actor="n2", now="2026-10-08T10:30+08:00")
    work("attempt", "D6-1", "--channel", "phone", "--outcome", "no_answer", actor="n2", now="2026-10-08T10:35+08:00")
    work("attempt", "D6-1", "--channel", "phone", "--outcome", "reached", actor="n2", now="2026-10-08T15:30+08:00")
    work("complete", "D6-1", *OK, "--answer", "satisfaction=较满意", actor="n2", now="2026-10-08T15:40+08:00")
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin", now="2026-10-09T12:00+08:00")  # roles on
    return hf


def set_password(hf: Any, staff: str, password: str = PASSWORD, actor: str = "adm") -> None:
    """`huifang staff password STAFF --password-stdin`, as an admin would run it."""
    from click.testing import CliRunner

    from huifang.cli.main import main

    runner = CliRunner()
    argv = ["--db", hf.db, "--now", "2026-10-09T12:05+08:00", "--as", actor, "staff", "password", staff,
            "--password-stdin", "--json"]
    with runner.isolation(input=password + "\n") as (_out, err, *_):
        try:
            main(argv)
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        assert code == 0, err.getvalue().decode()
