"""A PO file edited, added or removed while a frontend runs (the TUI, the MCP server) is read
again at its next use: editing a prompt and trying it again needs no restart."""

from __future__ import annotations

import os
from pathlib import Path

from prompt_sessions.context import AppContext


def write_po(root: Path, name: str, body: str, **front: str) -> Path:
    path = root / "objects" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    head = "".join(f"{k}: {v}\n" for k, v in front.items())
    path.write_text(f"---\n{head}---\n{body}\n", encoding="utf-8")
    return path


def bump(path: Path) -> None:
    """Move the file's time on, as an edit seconds later would (same-size edits included)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_an_edited_prompt_is_used_at_the_next_use(tmp_path: Path) -> None:
    """The system prompt and responder of a PO edited on disk are the new ones at the next
    lookup, even when the edit keeps the file's size."""
    root = tmp_path / ".prompt_objects"
    path = write_po(root, "writer", "Be brief.", description="writes")
    ctx = AppContext.open(root)
    assert ctx.prompt_object("writer").system_prompt.strip() == "Be brief."
    write_po(root, "writer", "Be terse.", description="writes")  # same size
    bump(path)
    assert ctx.prompt_object("writer").system_prompt.strip() == "Be terse."
    write_po(root, "writer", "Be terse.", description="writes", responder="llm")
    bump(path)
    assert ctx.prompt_object("writer").responder == "llm"


def test_a_po_added_or_removed_is_seen(tmp_path: Path) -> None:
    """A PO file made after the frontend started joins the POs; a removed one leaves them."""
    root = tmp_path / ".prompt_objects"
    write_po(root, "writer", "Be brief.")
    ctx = AppContext.open(root)
    assert list(ctx.objects) == ["writer"]
    write_po(root, "critic", "Find faults.")
    assert sorted(ctx.objects) == ["critic", "writer"]
    assert ctx.po_names()[:2] == ["critic", "writer"]
    (root / "objects" / "writer.md").unlink()
    assert list(ctx.objects) == ["critic"]
    assert ctx.prompt_object("writer").bare


def age(path: Path) -> None:
    """Move the file's time a minute back, as a file edited a while ago."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60_000_000_000))


def test_unchanged_files_are_not_parsed_again(tmp_path: Path, monkeypatch) -> None:
    """While no PO file changes, a lookup reads no file: the same objects are returned; an
    edit of one file reads that file only."""
    from prompt_sessions import context as context_module

    root = tmp_path / ".prompt_objects"
    age(write_po(root, "writer", "Be brief."))
    age(write_po(root, "critic", "Find faults."))
    ctx = AppContext.open(root)
    first = ctx.objects
    calls: list[str] = []
    real = context_module.read_po_file
    monkeypatch.setattr(
        context_module, "read_po_file", lambda path: calls.append(path.name) or real(path)
    )
    assert ctx.objects is first
    assert calls == []
    path = write_po(root, "writer", "Be terse.")
    age(path)
    assert ctx.prompt_object("writer").system_prompt.strip() == "Be terse."
    assert calls == ["writer.md"]


def test_a_bad_edit_is_warned_once(tmp_path: Path) -> None:
    """A PO file broken by an edit is reported once among the warnings, however often the POs
    are looked at afterwards, and the other POs still work."""
    root = tmp_path / ".prompt_objects"
    write_po(root, "writer", "Be brief.")
    path = write_po(root, "critic", "Find faults.")
    ctx = AppContext.open(root)
    assert sorted(ctx.objects) == ["critic", "writer"]
    path.write_text("---\nname: [unclosed\n---\nbody\n", encoding="utf-8")
    bump(path)
    assert list(ctx.objects) == ["writer"]
    assert list(ctx.objects) == ["writer"]
    write_po(root, "other", "x")
    assert sorted(ctx.objects) == ["other", "writer"]
    assert sum("critic" in w for w in ctx.warnings) == 1
