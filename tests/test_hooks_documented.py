"""Every hook of the plugin contract is documented and exercised (datasette-style meta-test).

The hook list is read from `huifang.core.plugin_api.hookspecs` through pluggy, never written out here:
(a) docs/plugins.md holds, between its `hooks` markers, the section generated from the hookspecs'
    signatures and docstrings (`python tests/test_hooks_documented.py --write` regenerates it);
(b) one scenario through the real CLI (demo, intake, attempts, completion, reports, plugin commands)
    calls every hook on at least one implementation, seen by a pluggy hook-call monitor on every
    plugin manager the engine builds.
"""
from __future__ import annotations

import inspect
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pluggy
import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
START = "<!-- hooks:start -->"
END = "<!-- hooks:end -->"


def hookspecs() -> dict[str, Any]:
    """name -> pluggy HookSpec, as the engine's plugin manager sees them."""
    from huifang.core.plugin_api import hookspecs as module

    pm = pluggy.PluginManager(module.PROJECT)
    pm.add_hookspecs(module)
    specs = {name: getattr(pm.hook, name).spec for name in dir(pm.hook) if name.startswith(f"{module.PROJECT}_")}
    return {name: spec for name, spec in sorted(specs.items(), key=lambda kv: kv[1].function.__code__.co_firstlineno)
            if spec is not None}


def _annotation(a: Any) -> str:
    return a if isinstance(a, str) else inspect.formatannotation(a)


def signature(spec: Any) -> str:
    sig = inspect.signature(spec.function)
    params = ", ".join(p.name if p.annotation is p.empty else f"{p.name}: {_annotation(p.annotation)}"
                       for p in sig.parameters.values())
    ret = "" if sig.return_annotation is sig.empty else f" -> {_annotation(sig.return_annotation)}"
    return f"{spec.name}({params}){ret}"


def docs_block() -> str:
    from huifang.core.plugin_api import hookspecs as module

    lines = [START, "<!-- generated from core/plugin_api/hookspecs.py by `python tests/test_hooks_documented.py --write`; "
                    "tests/test_hooks_documented.py fails when it is stale -->", "",
             inspect.cleandoc(module.__doc__ or ""), ""]
    for name, spec in hookspecs().items():
        how = "pluggy: `firstresult=True`" if spec.opts.get("firstresult") else "pluggy: every implementation is called"
        lines += [f"### `{name}`", "", "```python", signature(spec), "```", "",
                  f"*{how}*", "", inspect.cleandoc(spec.function.__doc__ or "(undocumented)"), ""]
    lines.append(END)
    return "\n".join(lines)


def write_docs() -> None:
    block = docs_block()
    if DOCS.exists():
        text = DOCS.read_text(encoding="utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            text = head + block + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n## Hooks\n\n" + block + "\n"
    else:
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        text = ("# Writing a huifang plugin\n\nA plugin is a package with an entry point in the group "
                "`huifang.plugins` (see README.md, \"Write your own plugin\", and `examples/aftersales/`).\n\n"
                "## Hooks\n\n" + block + "\n")
    DOCS.write_text(text, encoding="utf-8")


# -- (a) documented -------------------------------------------------------------------------------
def test_every_hook_is_documented_with_its_signature():
    assert DOCS.is_file(), "docs/plugins.md is missing: python tests/test_hooks_documented.py --write"
    text = DOCS.read_text(encoding="utf-8")
    for name, spec in hookspecs().items():
        assert f"### `{name}`" in text and signature(spec) in text, f"{name} is not documented in docs/plugins.md"
        assert (spec.function.__doc__ or "").strip(), f"{name} has no docstring in core/plugin_api/hookspecs.py"
    assert START in text and END in text
    current = START + text.split(START, 1)[1].split(END, 1)[0] + END
    assert current == docs_block(), "docs/plugins.md is stale: python tests/test_hooks_documented.py --write"


# -- (b) exercised --------------------------------------------------------------------------------
@pytest.fixture
def hook_calls(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Hook name -> calls that reached at least one implementation, on every plugin manager the
    engine creates while the test runs (registry, CLI plugin commands)."""
    from huifang.core.plugin_api import hookspecs as module

    calls: Counter = Counter()
    original = pluggy.PluginManager.add_hookspecs

    def before(name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        if impls:
            calls[name] += 1

    def after(outcome: Any, name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        pass

    def add_hookspecs(self: pluggy.PluginManager, module_or_class: Any) -> None:
        original(self, module_or_class)
        if self.project_name == module.PROJECT and not getattr(self, "_hook_calls_monitored", False):
            self._hook_calls_monitored = True  # type: ignore[attr-defined]
            self.add_hookcall_monitoring(before, after)

    monkeypatch.setattr(pluggy.PluginManager, "add_hookspecs", add_hookspecs)
    from huifang.core.registry import clear_managers

    clear_managers()  # managers built before the monitor was patched in would not count
    return calls


FINANCE = "[plugins.finance]\nagents = [\"cc1\"]\n"
DAY1 = "2026-09-01T10:00:00+08:00"  # a Tuesday


def test_every_hook_is_called_by_one_scenario(hook_calls, tmp_path):
    from tests.conftest import Huifang

    # huifang_demo (and, through the demo's own work, plans and reactions) on a fresh store
    demo = Huifang(str(tmp_path / "demo.db"))
    made = demo.ok("demo", "--subjects", "8", "--days", "14")
    assert made
    # intake and work on a second store: plan, check_attempt (F9 refusal), on_attempt, on_completed
    cfg = tmp_path / "huifang.toml"
    cfg.write_text(FINANCE, encoding="utf-8")
    hf = Huifang(str(tmp_path / "work.db"), config=str(cfg))
    hf.ok("init")
    hf.ok("staff", "add", "cc1", "--name", "回访专员1", "--role", "agent")
    hf.ok("staff", "add", "ag1", "--name", "代理人1", "--role", "sales")
    hf.ok("subject", "add", "C1", "--name", "客户C1", "--phone", "13900000000", now=DAY1)
    hf.ok("trigger", "finance.policy_issued", "--subject", "C1", "--id", "P1", "--attr", "agent=ag1",
          "--attr", "branch=sh-pudong", "--attr", "sales_channel=agency", now=DAY1)
    refused = hf("attempt", "P1-policy", "--channel", "phone", "--outcome", "no_answer", actor="cc1",
                 now="2026-09-01T10:30:00+08:00")
    assert refused.code != 0  # a phone attempt without its recording (F9/G11)
    rec = tmp_path / "call.wav"
    rec.write_bytes(b"RIFF fake call recording")
    hf.ok("attempt", "P1-policy", "--channel", "phone", "--outcome", "reached", "--recording", str(rec),
          "--language", "mandarin", actor="cc1", now="2026-09-01T10:35:00+08:00")  # F9: the call's language
    done = hf.ok("complete", "P1-policy", "--answer", "self_signed=yes", "--answer", "terms_understood=yes",
                 "--answer", "cooling_off_informed=yes", "--answer", "anomaly=none", "--answer", "satisfaction=满意",
                 actor="cc1", now="2026-09-01T10:40:00+08:00")
    assert done["status"] == "completed"
    # huifang_ticket_route: a ticket an operator opens is routed by the follow-up's plugin (G12)
    hf.ok("ticket", "open", "P1-policy", "--category", "fees", "--dept", "customer_service",
          now="2026-09-01T10:45:00+08:00")
    # huifang_check_lost: lost after three counted attempts (G5) is asked of the follow-up's plugin (F5)
    hf.ok("trigger", "finance.policy_issued", "--subject", "C1", "--id", "P2", "--attr", "agent=ag1",
          "--attr", "branch=sh-pudong", "--attr", "sales_channel=agency", now=DAY1)
    for when in ("2026-09-01T10:50:00+08:00", "2026-09-01T14:10:00+08:00", "2026-09-02T10:10:00+08:00"):
        hf.ok("attempt", "P2-policy", "--channel", "phone", "--outcome", "no_answer", "--recording", str(rec),
              "--language", "mandarin", actor="cc1", now=when)
    hf("close", "P2-policy", "--lost", "no_answer", actor="cc1", now="2026-09-02T10:20:00+08:00")
    # huifang_reports and huifang_report_views: the report list includes the plugins' reports
    listed = hf.ok("report", now="2026-09-02T10:00:00+08:00")
    plugin_reports = sorted(r["kind"] for r in listed if r["owner"] == "finance")
    assert plugin_reports, listed
    hf.ok("report", plugin_reports[0], now="2026-09-02T10:00:00+08:00")
    # huifang_register_commands: the command list shows the plugins' commands
    helped = hf("--help", json_out=False)
    assert helped.code == 0

    # huifang_channel_adapters: a greeting goes out through the delivery adapters (G21)
    sent = hf.ok("greetings", "--occasion", "holiday", "--name", "国庆", now="2026-09-02T11:00:00+08:00")
    assert [d["status"] for d in sent["deliveries"]] == ["sent"]

    missing = [name for name in hookspecs() if not hook_calls[name]]
    assert not missing, (f"hooks never called on an implementation by this scenario: {', '.join(missing)}; "
                         f"extend the scenario (or a built-in plugin lacks an implementation)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_docs()
        print(f"{DOCS} written")
    else:
        print(docs_block())
