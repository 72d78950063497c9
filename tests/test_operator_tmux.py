"""Story: `huifang work` once as a person uses it — a real terminal (tmux), keys typed with
send-keys, the screen read back with capture-pane: nurse n1 sees her five patients, records that
the first did not answer (G5) and quits; the attempt is then read through the CLI."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from huifang.core.contract import OUTCOMES
from tests.conftest import Huifang
from tests.test_operator_helpers import HUIFANG, NOW, open_day

TMUX = shutil.which("tmux")


@pytest.fixture
def tmux() -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """tmux on a server of this test's own (its own socket), ended afterwards."""
    if TMUX is None:
        pytest.skip("tmux is not installed (scripts/setup installs it when run as root)")
    socket = f"huifang-test-{os.getpid()}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TMUX, "-u", "-L", socket, *args], capture_output=True, text=True, timeout=30)

    try:
        yield run
    finally:
        run("kill-server")


def wait_for(screen: Callable[[], str], *wanted: str, timeout: float = 60) -> str:
    """The screen once it shows every wanted text at the same time: a capture can fall between
    the bytes of one redraw (the cursor row repainted half-way), so each is waited for, not asserted."""
    end = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < end:
        shown = screen()
        if all(w in shown for w in wanted):
            return shown
        time.sleep(0.2)
    missing = [w for w in wanted if w not in shown]
    raise AssertionError(f"{missing} never appeared together; the screen:\n{shown}")


@pytest.mark.slow
def test_G5_M1_huifang_work_in_tmux_as_a_person_would(tmp_path: Path, sqlite_template: Path,
                                                      tmux: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    day: Huifang = open_day(tmp_path, sqlite_template)
    env = {k: os.environ[k] for k in ("HUIFANG_CLOCK", "HUIFANG_HOME", "HUIFANG_ACTOR", "PATH") if k in os.environ}
    command = " ".join(["env", *(shlex.quote(f"{k}={v}") for k, v in env.items()), "LANG=C.UTF-8",
                        shlex.quote(HUIFANG), "--db", shlex.quote(day.db), "--now", NOW, "--as", "n1", "work"])
    started = tmux("new-session", "-d", "-s", "work", "-x", "110", "-y", "32", command)
    assert started.returncode == 0, started.stderr

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "work").stdout

    wait_for(screen, "患者五", "患者一", "138****0001", "李护士")
    tmux("send-keys", "-t", "work", "a")
    # the outcome, asked under the call sheet of the first patient (its number unmasked there)
    wait_for(screen, "1/1", "13800000001")
    tmux("send-keys", "-t", "work", str(OUTCOMES.index("no_answer") + 1), "Enter")
    wait_for(screen, "已记录尝试")
    tmux("send-keys", "-t", "work", "q")
    end = time.monotonic() + 30
    while tmux("has-session", "-t", "work").returncode == 0 and time.monotonic() < end:
        time.sleep(0.2)
    assert tmux("has-session", "-t", "work").returncode != 0, screen()

    attempts = day.ok("show", "D1-1", actor="n1")["attempts"]
    assert [(a["outcome"], a.get("actor", "n1")) for a in attempts] == [("no_answer", "n1")]
