"""Helpers shared by the llm plugin's tests."""

from __future__ import annotations

from pathlib import Path


def write_po(root: Path, name: str, front: str, body: str = "") -> None:
    """Write objects/<name>.md with the given front matter lines."""
    folder = root / "objects"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(f"---\nname: {name}\n{front}---\n{body}", encoding="utf-8")
