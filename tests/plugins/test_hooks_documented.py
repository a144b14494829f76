"""docs/plugins.md documents every hook, under a heading that is the hook's exact signature."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from prompt_sessions import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"
SPEC_MARK = f"{hookspecs.PROJECT}_spec"  # the attribute pluggy's HookspecMarker sets


def spec_names() -> set[str]:
    """Hook names as pluggy sees them: functions carrying the hookspec marker."""
    return {
        name
        for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(func, SPEC_MARK)
    }


def signatures() -> dict[str, str]:
    """Each hookspec's signature as written in hookspecs.py, e.g. ``name(a: int) -> None``."""
    tree = ast.parse(Path(hookspecs.__file__).read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in spec_names():
            returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
            found[node.name] = f"{node.name}({ast.unparse(node.args)}){returns}"
    return found


def headings() -> list[str]:
    return [line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith("#")]


def test_signatures_cover_every_hookspec() -> None:
    """Reading hookspecs.py finds exactly the hooks pluggy registers (and there are some)."""
    assert spec_names()
    assert set(signatures()) == spec_names()


@pytest.mark.parametrize("hook", sorted(spec_names()))
def test_hook_has_a_section_headed_by_its_signature(hook: str) -> None:
    """Each hook has a ``### `signature` `` section in docs/plugins.md, so a new hook or a changed
    signature fails here until the docs say what it does."""
    expected = f"### `{signatures()[hook]}`"
    assert expected in headings(), f"docs/plugins.md has no section headed {expected}"


def test_no_section_documents_a_hook_that_does_not_exist() -> None:
    """Every signature heading in docs/plugins.md names a real hook: renamed or removed hooks
    do not linger in the docs."""
    documented = {
        m.group(1) for line in headings() if (m := re.match(r"#+ `([a-z_]+)\(", line)) is not None
    }
    assert documented - spec_names() == set()
