#!/usr/bin/env python3
"""The README's rule-coverage table (rule -> where it lives -> tests), generated from the code.

Sources, all read from the working tree:
- the rulebook `../shared/RULES.md` (beside the repository): rule IDs (`**G5 ...**`) and titles;
- each built-in plugin's trigger kinds and visit types (pyproject's `huifang.plugins` entry points,
  hooks `huifang_trigger_kinds` / `huifang_visit_types`): their `rules=[...]` metadata;
- comments and docstrings of the package sources (core, plugins, projections, cli) citing a rule ID
  (`# G12`, a docstring opening `M1: ...`); ranges such as `M1–M9` are a summary, not a citation;
- the tests: a test cites a rule by its name (`test_g12_...`), its docstring or its comments.

Usage: python scripts/rulemap.py            print the generated block
       python scripts/rulemap.py --write    rewrite the README between the rulemap markers
       python scripts/rulemap.py --check    exit 1 when the README's block is stale

Deterministic (sorted, no dates) and store-free. Without the rulebook it says so and exits 0.
"""
from __future__ import annotations

import argparse
import ast
import difflib
import functools
import importlib
import re
import sys
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RULES = REPO.parent / "shared" / "RULES.md"
START = "<!-- rulemap:start -->"
END = "<!-- rulemap:end -->"
SECTION = "## Rulebook coverage"
TOP_MODULES = 3
TOP_TEST_FILES = 3

# A rule ID in prose: G5, M1, P10, F8.2 (-> F8). Not part of a word, a dotted name or a number.
ID = re.compile(r"(?<![A-Za-z0-9_.\-])([GMPFA])(\d{1,2})(?:\.\d+)*(?![A-Za-z0-9_])")
RANGE = re.compile(r"(?<![A-Za-z0-9_.\-])[GMPFA]\d{1,2}\s*[–—-]\s*[GMPFA]?\d{1,2}(?![A-Za-z0-9_])")
NAME_ID = re.compile(r"^([gmpfa])(\d{1,2})$")
RULE_HEAD = re.compile(r"^- \*\*([GMPFA]\d{1,2}) (.+?)\*\*", re.M | re.S)

# Weights of a citation: inside a function (its docstring or a comment in its body) is where a
# rule is carried out; module/class prose and declaring a kind/visit type only say it is nearby.
IN_FUNCTION = 3
ELSEWHERE = 1
DECLARES = 1
# Demo builders cite rules to explain the data they make; they do not carry the rules out.
DEMO = re.compile(r"(^|/)demo\.py$")
TOP_DECLARED = 4


@dataclass
class Rule:
    id: str
    title: str
    declared_by: set[str] = field(default_factory=set)  # "medical.discharge", "medical/discharge_first"
    modules: Counter = field(default_factory=Counter)  # repo-relative path -> weight
    tests: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # file -> test names


class RulebookMissing(Exception):
    pass


def rule_sort_key(rule_id: str) -> tuple[int, int]:
    return ("GMPFA".index(rule_id[0]), int(rule_id[1:]))


def load_rules(path: Path) -> dict[str, Rule]:
    if not path.is_file():
        raise RulebookMissing(f"rulemap: the rulebook {path} is missing (it sits in ../shared beside the "
                              f"repository); nothing generated")
    rules: dict[str, Rule] = {}
    for m in RULE_HEAD.finditer(path.read_text(encoding="utf-8")):
        head = " ".join(m.group(2).split())
        title = re.split(r"[.;](?:\s|$)", head, maxsplit=1)[0].strip().rstrip(".;")
        rules.setdefault(m.group(1), Rule(m.group(1), title))
    return dict(sorted(rules.items(), key=lambda kv: rule_sort_key(kv[0])))


def cited(text: str) -> list[str]:
    """Rule IDs cited in prose, ranges (`M1–M9`) left out."""
    text = RANGE.sub(" ", text)
    return [f"{m.group(1)}{int(m.group(2))}" for m in ID.finditer(text)]


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def source_dirs(project: dict) -> list[Path]:
    """The package directories (core, plugins, projections, cli) from setuptools' package-dir."""
    dirs = project.get("tool", {}).get("setuptools", {}).get("package-dir", {}).values()
    return sorted({REPO / d for d in dirs if (REPO / d).is_dir()})


def rel(path: Path) -> str:
    return path.resolve().relative_to(REPO).as_posix()


# -- prose in Python sources --------------------------------------------------------------------------
def string_spans(nodes: Iterable[ast.AST]) -> dict[int, list[tuple[int, int]]]:
    """line -> the byte spans of string literals on it."""
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for node in nodes:
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            end_line, end_col = node.end_lineno or node.lineno, node.end_col_offset or 0
            for ln in range(node.lineno, end_line + 1):
                a = node.col_offset if ln == node.lineno else 0
                b = end_col if ln == end_line else 1 << 30
                spans[ln].append((a, b))
    return spans


def comments(src: str, tree: ast.Module, nodes: list[ast.AST] | None = None) -> list[tuple[int, str]]:
    """(line, text) of the comments that may cite a rule: a `#` outside any string literal with an ID
    after it. Cheaper than tokenize: only lines that look like such a comment are checked. `nodes`:
    `list(ast.walk(tree))` when the caller has it already."""
    lines = src.splitlines()
    candidates = [i for i, line in enumerate(lines, 1) if "#" in line and ID.search(line, line.index("#"))]
    if not candidates:
        return []
    spans = string_spans(ast.walk(tree) if nodes is None else nodes)
    out: list[tuple[int, str]] = []
    for ln in candidates:
        raw = lines[ln - 1].encode("utf-8")
        at = raw.find(b"#")
        while at >= 0 and any(a <= at < b for a, b in spans.get(ln, ())):
            at = raw.find(b"#", at + 1)
        if at >= 0:
            out.append((ln, raw[at:].decode("utf-8", "replace")))
    return out


def prose(path: Path) -> list[tuple[int, str, bool]]:
    """(line, text, inside a function) for every docstring and comment of a Python file that
    may cite a rule."""
    src = path.read_text(encoding="utf-8")
    if not ID.search(src):
        return []
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return []
    functions: list[tuple[int, int]] = []
    out: list[tuple[int, str, bool]] = []
    nodes = list(ast.walk(tree))  # walked once, for docstrings here and string literals in comments()
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append((node.lineno, node.end_lineno or node.lineno))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                out.append((node.body[0].lineno, doc, isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))))
    for line, text in comments(src, tree, nodes):
        out.append((line, text, any(a <= line <= b for a, b in functions)))
    return out


def scan_sources(rules: dict[str, Rule], dirs: list[Path], owners: dict[str, Path]) -> None:
    """Credit modules whose prose cites a rule. A vertical's rule (M, P, F, A: the letter its plugin
    declares) cited inside another vertical's package is someone else's data (`policies=P1,P2`);
    cited in core, projections or cli it is mostly an example and weighs little."""
    for d in dirs:
        for path in sorted(d.rglob("*.py")):
            name = rel(path)
            foreign = {letter for letter, home in owners.items()
                       if home not in path.parents and any(h in path.parents for h in owners.values())}
            for _line, text, in_fn in prose(path):
                for rid in cited(text):
                    if rid not in rules or rid[0] in foreign:
                        continue
                    home = owners.get(rid[0])
                    at_home = home is None or home in path.parents
                    weight = IN_FUNCTION if in_fn and at_home and not DEMO.search(name) else ELSEWHERE
                    rules[rid].modules[name] += weight


# -- rules=[...] metadata of the plugins' trigger kinds and visit types ------------------------------
def builtin_plugins(project: dict) -> dict[str, str]:
    eps = project.get("project", {}).get("entry-points", {}).get("huifang.plugins", {})
    return dict(sorted(eps.items()))


def defining_module(package_dir: Path, name: str, constructor: str) -> Path | None:
    """The plugin module that defines the kind/visit type `name`: one that builds `constructor`
    objects and spells the name as a string; else any module spelling it."""
    quoted = re.compile(r"""["']""" + re.escape(name) + r"""["']""")
    files = sorted(package_dir.rglob("*.py")) if package_dir.is_dir() else [package_dir]
    spelling = [f for f in files if quoted.search(f.read_text(encoding="utf-8"))]
    building = [f for f in spelling if constructor + "(" in f.read_text(encoding="utf-8")]
    found = building or spelling
    return found[0] if found else None


def scan_metadata(rules: dict[str, Rule], project: dict) -> tuple[dict[str, Path], list[str]]:
    """Credit each rule's declaring kinds/visit types and their modules. Returns the package of each
    vertical's rule letter (the plugin declaring rules of a letter other than G) and the problems
    found (a rule ID in metadata the rulebook does not have)."""
    problems: list[str] = []
    letters: dict[str, set[Path]] = defaultdict(set)
    for plugin, target in builtin_plugins(project).items():
        modname, _, attr = target.partition(":")
        module = importlib.import_module(modname)
        obj = getattr(module, attr) if attr else module
        package_dir = Path(module.__file__ or "").parent if module.__file__ and \
            Path(module.__file__).name == "__init__.py" else Path(module.__file__ or "")
        groups = [("TriggerKind", "huifang_trigger_kinds", "."), ("VisitType", "huifang_visit_types", "/")]
        for constructor, hook, sep in groups:
            fn = getattr(obj, hook, None)
            for spec in (fn() if fn else None) or []:
                where = defining_module(package_dir, spec.name, constructor)
                for rid in getattr(spec, "rules", None) or []:
                    if rid not in rules:
                        problems.append(f"{plugin}{sep}{spec.name}: rule {rid} is not in the rulebook")
                        continue
                    rules[rid].declared_by.add(f"{plugin}{sep}{spec.name}")
                    if rid[0] != "G":
                        letters[rid[0]].add(package_dir)
                    if where is not None:
                        rules[rid].modules[rel(where)] += DECLARES
    owners = {letter: next(iter(dirs)) for letter, dirs in sorted(letters.items()) if len(dirs) == 1}
    return owners, problems


# -- tests --------------------------------------------------------------------------------------------
def tests_in(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            found.append(node)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            found += [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and n.name.startswith("test")]
    return found


def scan_tests(rules: dict[str, Rule], tests_dir: Path) -> None:
    for path in sorted(tests_dir.rglob("test_*.py")):
        name = path.relative_to(tests_dir).as_posix()
        src = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        notes = comments(src, tree)
        for fn in tests_in(tree):
            ids = [f"{m.group(1).upper()}{int(m.group(2))}" for part in fn.name.split("_")
                   if (m := NAME_ID.match(part))]
            ids += cited(ast.get_docstring(fn, clean=False) or "")
            first = min([fn.lineno] + [d.lineno for d in fn.decorator_list])
            ids += [rid for line, text in notes if first <= line <= (fn.end_lineno or fn.lineno)
                    for rid in cited(text)]
            for rid in set(ids):
                if rid in rules:
                    rules[rid].tests[name].add(fn.name)


# -- the table ----------------------------------------------------------------------------------------
@functools.cache  # one scan per process (tests call main() several times)
def collect(rules_path: Path = RULES) -> tuple[dict[str, Rule], list[str]]:
    rules = load_rules(rules_path)
    project = pyproject()
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    owners, problems = scan_metadata(rules, project)
    scan_sources(rules, source_dirs(project), owners)
    scan_tests(rules, REPO / "tests")
    return rules, problems


def row(rule: Rule) -> str:
    modules = sorted(rule.modules.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_MODULES]
    where = ", ".join(f"`{m}`" for m, _ in modules) or "—"
    names = sorted(rule.declared_by)
    declared = ", ".join(f"`{d}`" for d in names[:TOP_DECLARED]) or "—"
    if len(names) > TOP_DECLARED:
        declared += f" +{len(names) - TOP_DECLARED} more"
    count = sum(len(names) for names in rule.tests.values())
    if count:
        files = sorted(rule.tests.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        shown = ", ".join(f"`{f}`" for f, _ in files[:TOP_TEST_FILES])
        more = f" +{len(files) - TOP_TEST_FILES} more" if len(files) > TOP_TEST_FILES else ""
        tests = f"{count} in {shown}{more}"
    else:
        tests = "**none**"
    return f"| {rule.id} | {rule.title} | {where} | {declared} | {tests} |"


def block(rules: dict[str, Rule]) -> str:
    lines = [
        START,
        "<!-- generated by `python scripts/rulemap.py --write` from the code; tests/test_rulemap.py fails "
        "when it is stale -->",
        "",
        "Every rule of `../shared/RULES.md`; where it lives: the modules that cite it most (a rule cited "
        "inside a function weighs most, then module or class prose and the module declaring a kind or "
        "visit type with it in `rules=[...]`); the trigger kinds (`plugin.kind`) and visit types "
        "(`plugin/visit_type`) declaring it; and how many tests cite it by name (`test_<rule>_…`), "
        "docstring or comment. Every store-backed test runs on SQLite and PostgreSQL.",
        "",
        "| rule | what | implemented in | declared by | tests |",
        "|---|---|---|---|---|",
        *(row(r) for r in rules.values()),
        END,
    ]
    return "\n".join(lines)


def splice(readme: str, new_block: str) -> str:
    """The README with its rulemap block replaced; the first time, the hand-written table (and its
    intro) under the coverage heading is replaced."""
    if START in readme and END in readme:
        head, rest = readme.split(START, 1)
        _, tail = rest.split(END, 1)
        return head + new_block + tail
    at = readme.find(SECTION + "\n")
    if at < 0:
        raise SystemExit(f"rulemap: README has neither the rulemap markers nor a '{SECTION}' section")
    body = at + len(SECTION) + 1
    nxt = re.compile(r"^#{2,3} ", re.M).search(readme, body)
    end = nxt.start() if nxt else len(readme)
    return readme[:body] + "\n" + new_block + "\n\n" + readme[end:]


def current_block(readme: str) -> str | None:
    if START not in readme or END not in readme:
        return None
    return START + readme.split(START, 1)[1].split(END, 1)[0] + END


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the README's rulemap block")
    mode.add_argument("--check", action="store_true", help="exit 1 when the README's block is stale")
    ap.add_argument("--rules", type=Path, default=RULES, help=f"the rulebook (default {RULES})")
    args = ap.parse_args(argv)
    try:
        rules, problems = collect(args.rules)
    except RulebookMissing as e:
        print(e, file=sys.stderr)
        return 0
    for p in problems:
        print(f"rulemap: warning: {p}", file=sys.stderr)
    new = block(rules)
    readme = README.read_text(encoding="utf-8")
    if args.write:
        updated = splice(readme, new)
        if updated != readme:
            README.write_text(updated, encoding="utf-8")
            print("rulemap: README.md updated")
        else:
            print("rulemap: README.md already up to date")
        return 0
    if args.check:
        old = current_block(readme)
        if old == new:
            return 0
        print("rulemap: README.md's rule map is stale: run python scripts/rulemap.py --write", file=sys.stderr)
        diff = difflib.unified_diff((old or "").splitlines(), new.splitlines(), "README.md", "generated",
                                    lineterm="", n=0)
        print("\n".join(list(diff)[:40]), file=sys.stderr)
        return 1
    print(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
