"""The README's role table is printed from the one policy definition (core/policy.py): a change to
the policy without regenerating the table fails here (G8)."""
from __future__ import annotations

import pathlib

from huifang.core import policy

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_g8_readme_role_table_is_the_policy() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- roles:begin")
    start = text.index("\n", start) + 1
    end = text.index("<!-- roles:end -->")
    assert text[start:end].strip() == policy.markdown().strip(), (
        "README role table is stale: paste `python -m huifang.core.policy --markdown` between the roles markers")
