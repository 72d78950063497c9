"""The CLI's plugin commands come through the contract (hook `huifang_register_commands`), only from
enabled plugins, and loading stays lazy: `--version` and `--help` import no heavy library and no
built-in command module."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
import pytest

from huifang.cli import __version__
from huifang.cli.main import BUILTINS, cli, short_help
from huifang.core.plugin_api import hookimpl
from huifang.core.plugin_api.cli import json_option, run
from tests.conftest import Huifang

HEAVY = ("sqlalchemy", "eventsourcing", "matplotlib", "openpyxl", "cryptography", "psycopg", "rich", "pydantic",
         "fastapi", "starlette", "uvicorn")


def config(tmp_path: Path, plugins: list[str]) -> str:
    cfg = tmp_path / "huifang.toml"
    cfg.write_text(f"[huifang]\nplugins = {json.dumps(plugins)}\n", encoding="utf-8")
    return str(cfg)


def modules_after(*argv: str) -> set[str]:
    """The modules a fresh interpreter has imported once `huifang ARGV` has run."""
    code = ("import sys\nfrom huifang.cli.main import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
            "    pass\nprint('\\n' + '\\n'.join(sorted(sys.modules)), file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120)
    return set(r.stderr.split("\n"))


def roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_a_disabled_plugins_commands_are_not_offered(tmp_path: Path) -> None:
    h = Huifang(str(tmp_path / "none.db"), config=config(tmp_path, ["medical"]))
    r = h("aesthetics", "grade", "V001", json_out=False)
    assert r.code == 2 and "No such command 'aesthetics'" in r.err
    listed = h("--help", json_out=False).out
    assert "queue" in listed and "aesthetics" not in listed
    assert not (tmp_path / "none.db").exists()


def test_an_enabled_plugins_command_runs(hf: Huifang, tmp_path: Path) -> None:
    cfg = config(tmp_path, ["aesthetics"])
    hf.ok("subject", "add", "V001", "--name", "客户1", "--phone", "13900000001", config=cfg)
    grade = hf.ok("aesthetics", "grade", "V001", config=cfg)
    assert grade["subject"] == "V001" and grade["grade"] == "C" and not grade["blacklisted"]
    assert "Aesthetics clinic: client grades" in hf("--help", json_out=False, config=cfg).out
    r = hf("aesthetics", "grade", "V404", config=cfg)
    assert r.code == 2 and r.err.startswith("huifang: error: ") and r.err.count("\n") == 1


class Broken:
    """An enabled plugin whose commands fail to register."""

    name = "broken"

    @hookimpl
    def huifang_register_commands(self, cli: click.Group) -> None:
        raise RuntimeError("bad command table")


class BrokenEntryPoint:
    name = "broken"

    def load(self) -> Broken:
        return Broken()


def test_a_broken_plugin_does_not_break_built_in_commands(hf: Huifang, monkeypatch: pytest.MonkeyPatch) -> None:
    from huifang.core import registry

    installed = registry.discover()
    monkeypatch.setattr(registry, "discover", lambda: {**installed, "broken": BrokenEntryPoint()})
    assert hf.ok("queue") == []
    r = hf("--help", json_out=False)
    assert r.code == 0 and "queue" in r.out and "aesthetics" in r.out  # the other plugins still contribute
    assert "plugins: 'broken' failed to register its commands (RuntimeError: bad command table)" in r.err
    r = hf("aesthetics", "grade", "V001")
    assert r.code == 2 and "'broken' failed to register its commands" in r.err and r.err.count("\n") == 1


def test_version_imports_no_heavy_library_and_no_command() -> None:
    loaded = modules_after("--version")
    assert "huifang.cli.main" in loaded
    assert not roots(loaded) & set(HEAVY), sorted(roots(loaded) & set(HEAVY))
    assert not {m for m in loaded if m.startswith("huifang.") and m not in ("huifang.cli", "huifang.cli.main",
                                                                             "huifang.core", "huifang.core.errors")}


def test_help_imports_no_built_in_command_module(tmp_path: Path) -> None:
    loaded = modules_after("--config", config(tmp_path, []), "--help")
    commands = {f"huifang.cli.{module}" for module, _, _ in BUILTINS.values()}
    assert not loaded & commands, sorted(loaded & commands)
    assert not roots(loaded) & {"sqlalchemy", "eventsourcing", "matplotlib", "openpyxl", "rich"}


def test_the_help_table_matches_the_commands() -> None:
    ctx = click.Context(cli)
    for name, (_module, _attr, short) in BUILTINS.items():
        cmd = cli.get_command(ctx, name)
        assert cmd is not None and cmd.name == name
        for limit in (45, 60, 200):
            assert short_help(short, limit) == cmd.get_short_help_str(limit), name


def test_the_version_is_the_installed_distributions() -> None:
    assert __version__ == version("huifang")


def test_plugin_api_commands_need_no_engine_cli() -> None:
    """A command built only from plugin_api.cli runs against any CommandState (here a fake)."""
    seen: list[str] = []

    class FakeState:
        json = False
        actor = "a1"
        now = None

        def app(self, must_exist: bool = True) -> Any:
            return None

        def run(self, fn: Any) -> Any:
            return fn(self)

    @click.command()
    @json_option
    @click.pass_context
    def hello(ctx: click.Context) -> None:
        run(ctx, lambda s: seen.append(f"{s.actor} json={s.json}"))

    hello.main(["--json"], obj=FakeState(), standalone_mode=False)
    assert seen == ["a1 json=True"]
