"""The layering contracts (pyproject [tool.importlinter]) stay complete as modules are added: plugins
may import the plugin API only, so every other core module must be on the forbidden list."""
from __future__ import annotations

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def core_modules() -> set[str]:
    out = set()
    for x in (ROOT / "core").iterdir():
        if x.suffix == ".py" and x.stem != "__init__":
            out.add(f"huifang.core.{x.stem}")
        elif x.is_dir() and (x / "__init__.py").exists():
            out.add(f"huifang.core.{x.name}")
    return out - {"huifang.core.plugin_api"}


def test_plugins_are_forbidden_every_core_module_but_the_plugin_api() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == "plugins use only the plugin API"]
    missing = core_modules() - set(contract["forbidden_modules"])
    assert not missing, f"add to pyproject's plugin contract: {sorted(missing)}"


def test_every_package_is_installed() -> None:
    """A subpackage missing from [tool.setuptools] packages works in the editable checkout but not
    from a wheel: every folder with an __init__.py under the four roots is listed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set()
    for root in ("core", "plugins", "projections", "cli", "service"):
        for init in (ROOT / root).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).parts
            found.add(".".join(("huifang", *rel)))
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
