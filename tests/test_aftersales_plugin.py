"""The third-party example plugin (examples/aftersales) is found through the `huifang.plugins`
entry point and runs its curve with no change to the engine. Its own unit tests (on the plugin API's
fakes) run here too, and its README shows exactly the package's code and tests."""
from __future__ import annotations

import importlib.util
import re
from importlib.metadata import entry_points
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "aftersales"
SOURCE = EXAMPLE / "huifang_aftersales" / "__init__.py"
UNIT_TESTS = EXAMPLE / "tests" / "test_aftersales_unit.py"


def _load_unit_tests() -> dict[str, object]:
    """The example's unit tests, collected as tests of this module (the main suite runs them)."""
    spec = importlib.util.spec_from_file_location("huifang_aftersales_unit_tests", UNIT_TESTS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: f for name, f in vars(module).items() if name.startswith("test_")}


globals().update({f"test_unit_{name[5:]}": f for name, f in _load_unit_tests().items()})


def _blocks(lang: str) -> list[str]:
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, flags=re.S | re.M)


def test_readme_shows_the_real_plugin_and_its_unit_tests():
    plugin_code, unit_tests = _blocks("python")
    assert plugin_code == SOURCE.read_text(encoding="utf-8")
    assert unit_tests == UNIT_TESTS.read_text(encoding="utf-8")
    [entry_point] = _blocks("toml")
    assert entry_point in (EXAMPLE / "pyproject.toml").read_text(encoding="utf-8")
    # a complete plugin in under 80 lines of code (blank lines aside), entry point included
    assert len([line for line in (plugin_code + entry_point).splitlines() if line.strip()]) < 80


def test_example_uses_only_the_plugin_api():
    imported = re.findall(r"^\s*(?:from|import) (huifang\S*)", SOURCE.read_text(encoding="utf-8"), flags=re.M)
    assert imported and all(m == "huifang.core.plugin_api" for m in imported)


def test_entry_point_is_installed_like_the_builtin_plugins():
    eps = {ep.name: ep.value for ep in entry_points(group="huifang.plugins")}
    assert eps["aftersales"] == "huifang_aftersales:plugin"
    assert eps["medical"] == "huifang.plugins.medical:plugin"


def test_engine_discovers_and_plans_the_aftersales_curve(hf):
    kinds = {k["kind"] for p in hf.ok("plugins") for k in p["trigger_kinds"]}
    assert "aftersales.equipment_installed" in kinds
    hf.ok("subject", "add", "ACME", "--name", "华东制造有限公司")
    d = hf.ok("trigger", "equipment_installed", "--subject", "ACME", "--id", "EQ1", "--attr", "contract_value=4200000",
              "--attr", "engineer=e7", "--attr", "energise_on=2026-10-20", now="2026-09-28T11:00+08:00")
    got = [(f["id"], f["visit_type"], f["window_open"][:10], f["due"][:10], f["channel"]) for f in d["followups"]]
    assert got == [
        # before energising: from installation to the day before 10-20 (holiday days roll forward)
        ("EQ1-pre", "pre_energising", "2026-09-28", "2026-10-19", "home_visit"),
        ("EQ1-trial", "trial_run", "2026-11-20", "2026-11-30", "home_visit"),  # 1 month of trial running
        ("EQ1-w6", "warranty", "2027-04-20", "2027-04-30", "home_visit"),      # 6 months (2027: provisional)
        # 2027-10-30 is a Saturday: with no official 2027 data the Mon-Fri rule rolls it to Mon 11-01
        ("EQ1-w12", "warranty", "2027-10-20", "2027-11-01", "home_visit"),
        ("EQ1-y24", "yearly", "2028-10-20", "2028-10-30", "home_visit"),
        # 2029-10-20 is a Saturday: the window opens Monday 10-22; due 10-20 + 10 days = Tue 10-30
        ("EQ1-y36", "yearly", "2029-10-22", "2029-10-30", "home_visit"),
    ]
    assert [f["provisional"] for f in d["followups"]] == [False, False, True, True, True, True]
    # contract above 3 million -> on-site visits; the installing engineer may not follow up (G9)
    hf.ok("staff", "add", "e7", "--name", "安装工程师", "--role", "agent")
    r = hf("attempt", "EQ1-pre", "--channel", "home_visit", "--outcome", "reached", actor="e7",
           now="2026-10-09T10:00+08:00")
    assert r.code == 2 and "G9" in r.err
