"""Prompt object files made to hurt (DESIGN section 3: bad PO files are reported, not fatal):
front matter whose YAML aliases repeat a list a billion times, or that nests thousands deep,
is refused with a warning naming the file; the other POs load, and sends to them work."""

from __future__ import annotations

from pathlib import Path

from prompt_sessions.objects import load_prompt_objects


def _bomb() -> str:
    lines = ["---", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]")
    return "\n".join([*lines, "---", "You are a bomb.", ""])


def test_alias_bombs_and_deep_nesting_are_refused_with_a_warning(tmp_path: Path) -> None:
    """A billion-value alias bomb and a 3000-deep list each give one warning naming their
    file and are not loaded; a plain PO beside them loads as usual."""
    folder = tmp_path / "objects"
    folder.mkdir()
    (folder / "bomb.md").write_text(_bomb())
    (folder / "deep.md").write_text("---\nx: " + "[" * 3000 + "]" * 3000 + "\n---\ndeep\n")
    (folder / "good.md").write_text("---\ndescription: fine\n---\nYou help.\n")
    warnings: list[str] = []
    found = load_prompt_objects(tmp_path, warn=warnings.append)
    assert sorted(found) == ["good"]
    assert found["good"].system_prompt == "You help.\n"
    assert sorted(w.split(":")[0] for w in warnings) == [
        str(folder / "bomb.md"),
        str(folder / "deep.md"),
    ]
    assert all("front matter holds more than 10,000 values" in w for w in warnings)
