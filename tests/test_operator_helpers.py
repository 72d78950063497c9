"""Shared set-up for the operator stories (no tests here): a cardiology ward's Monday morning —
five patients discharged a week earlier (M1), their first follow-ups due today, all nurse n1's —
and a pseudo-terminal to drive `huifang` as a person types."""
from __future__ import annotations

import codecs
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.conftest import Huifang, copy_store

NOW = "2026-11-09T10:30:00+08:00"  # Monday, inside the hospital's morning calling window (G6)
DISCHARGED = "2026-11-02T09:00:00+08:00"  # M1: the first follow-up's window opens 7 days later
PATIENTS = {f"P0{i}": f"患者{'一二三四五'[i - 1]}" for i in range(1, 6)}
HUIFANG = str(Path(sys.executable).with_name("huifang"))  # the installed command, as an operator runs it


def ward(db: str) -> None:
    """Head nurse hn, nurses n1 and n2 of cardiology; five discharges a week ago, n1 responsible."""
    from huifang.core import clock
    from huifang.core.config import load_config
    from huifang.projections import open_app

    app = open_app(db, load_config(None))
    try:
        with clock.at(clock.parse_instant(DISCHARGED)):
            app.add_staff("hn", "王护士长", "supervisor", "cardiology")
            app.add_staff("n1", "李护士", "agent", "cardiology", "hn")
            app.add_staff("n2", "赵护士", "agent", "cardiology", "hn")
            for i, (code, name) in enumerate(PATIENTS.items(), 1):
                app.add_subject(code, name, [f"1380000000{i}"])
                app.receive_trigger("medical.discharge", code, {
                    "department": "cardiology", "diagnosis": "冠心病", "responsible_nurse": "n1",
                    "attending_doctor": "dr1"}, trigger_id=f"D{i}")
    finally:
        app.close()


def open_day(tmp_path: Path, sqlite_template: Path) -> Huifang:
    """The ward's store (SQLite) with the CLI driver at Monday 10:30."""
    hf = Huifang(copy_store(sqlite_template, tmp_path / "huifang.db"), now=NOW)
    ward(hf.db)
    return hf


def survey_reply(question: str, required: bool, dissatisfied: bool) -> str:
    """What the patient says, by the question asked (whatever the survey's order and wording)."""
    if "康复" in question:
        return "8"
    if "满意" in question and "原因" not in question:
        return "不满意" if dissatisfied else "1"
    if "原因" in question:
        return "等候时间长"
    if "原话" in question:
        return "等了两个小时"
    return "1" if required else ""


class Terminal:
    """A command on a pseudo-terminal (its stdin, stdout and stderr), read and typed into as a
    person would: wait for the prompt, type a line, press Enter."""

    def __init__(self, argv: list[str], cols: int = 120, rows: int = 40, env: dict[str, str] | None = None):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                     env={**os.environ, "NO_COLOR": "1", **(env or {})})
        os.close(slave)
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.text = ""  # everything shown so far (line ends as "\n")
        self.mark = 0  # where the text not yet answered starts

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the command ended and closed the terminal
            data = b""
        if not data:
            return False
        self.text += self.decoder.decode(data).replace("\r\n", "\n")
        return True

    def prompt(self, timeout: float = 30) -> str:
        """The text shown since the last answer, once it ends in a prompt (`…: `) or the command ends."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.text.endswith(": ") and len(self.text) > self.mark:
                break
            if not self._read(0.05):
                break
        else:
            raise AssertionError(f"no prompt within {timeout}s; screen:\n{self.text[-2000:]}")
        shown, self.mark = self.text[self.mark:], len(self.text)
        return shown

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def wait(self, timeout: float = 30) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end and self._read(0.05):
            pass
        try:
            return self.proc.wait(timeout=max(0.1, end - time.monotonic()))
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def answer_survey(term: Terminal, dissatisfied: bool = False) -> list[str]:
    """Answer `complete`'s questions as the patient does, then save; the questions asked, in order."""
    asked: list[str] = []
    while True:
        shown = term.prompt()
        if "保存？" in shown:
            term.type("y")
            return asked
        questions = re.findall(r"^\d+/\d+ (.+?)(（必答）)?$", shown, re.M)
        assert questions, f"no question on screen:\n{shown}"
        question, required = questions[-1]
        asked.append(question)
        term.type(survey_reply(question, bool(required), dissatisfied))
        assert len(asked) < 12, asked
