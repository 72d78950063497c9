"""The README's rule-coverage table is generated from the code (scripts/rulemap.py): it fails here when
someone changes a kind's `rules=[...]`, a rule citation or a test name without regenerating it."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "rulemap.py"


def _load() -> Any:  # the script's module (not a package: loaded from its path)
    spec = importlib.util.spec_from_file_location("huifang_rulemap", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


rulemap: ModuleType = _load()


@pytest.fixture(scope="module")
def generated() -> tuple[dict, str]:
    if not rulemap.RULES.is_file():
        pytest.skip(f"rulebook {rulemap.RULES} not present (../shared beside the repository)")
    # the same arguments as main()'s call, so that functools.cache scans the tree once per process
    rules, problems = rulemap.collect(rulemap.RULES)
    assert problems == [], problems  # every rules=[...] ID exists in the rulebook
    return rules, rulemap.block(rules)


def test_readme_rule_map_is_up_to_date(generated):
    _, block = generated
    current = rulemap.current_block(rulemap.README.read_text(encoding="utf-8"))
    assert current is not None, "README.md has no rulemap markers: run python scripts/rulemap.py --write"
    assert current == block, "README.md's rule map is stale: run python scripts/rulemap.py --write"


def test_m1_lives_in_the_medical_plans(generated):
    rules, _ = generated
    m1 = rules["M1"]
    assert max(m1.modules, key=lambda m: (m1.modules[m], m)) == "plugins/medical/plans.py"
    assert {"medical.discharge", "medical/discharge_first"} <= m1.declared_by
    assert m1.tests["test_medical_plans.py"] or m1.tests["unit/test_medical_rules.py"]


def test_every_rule_is_listed_once(generated):
    rules, block = generated
    rows = [line.split("|")[1].strip() for line in block.splitlines() if line.startswith("| ")][1:]
    assert rows == list(rules)
    assert {"G1", "G21", "M9", "P10", "F9", "A10"} <= set(rows)


def test_citations_skip_ranges_and_keep_sub_rules():
    assert rulemap.cited("Hospital rules M1–M9 (M3/M4 curve, F8.2, G12)") == ["M3", "M4", "F8", "G12"]
    assert rulemap.cited("A1-A10 apply; see PA1, GX2, G5x and g6") == []


def test_comments_ignore_hashes_inside_strings():
    import ast

    src = 'x = "# G5 not a comment"  # G6 a comment\ny = 1\n'
    assert rulemap.comments(src, ast.parse(src)) == [(1, "# G6 a comment")]


def test_check_exits_1_when_stale(generated, tmp_path, monkeypatch):
    _, block = generated
    stale = tmp_path / "README.md"
    stale.write_text("# x\n\n" + block.replace("| M1 |", "| M1 (old) |") + "\n", encoding="utf-8")
    monkeypatch.setattr(rulemap, "README", stale)
    assert rulemap.main(["--check"]) == 1
    assert rulemap.main(["--write"]) == 0
    assert rulemap.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8").startswith("# x\n\n" + rulemap.START)
