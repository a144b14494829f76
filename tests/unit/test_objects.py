"""Prompt objects: YAML front matter read with safe_load only, Markdown body as system prompt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prompt_sessions.objects import (
    PromptObjectError,
    bare,
    load_prompt_objects,
    parse_prompt_object,
)

GOOD = """---
name: coordinator
description: Plans the work
capabilities: [read, write]
responder: echo
temperature: 0.2
---

You coordinate.

Be brief.
"""


def test_front_matter_and_body() -> None:
    """Front matter fields become attributes; other keys are options; the body is the prompt."""
    po = parse_prompt_object(GOOD, "fallback")
    assert po.name == "coordinator"
    assert po.description == "Plans the work"
    assert po.capabilities == ["read", "write"]
    assert po.responder == "echo"
    assert po.options == {"temperature": 0.2}
    assert po.system_prompt == "You coordinate.\n\nBe brief.\n"
    assert not bare(po.name).system_prompt


def test_file_without_front_matter_uses_the_file_name() -> None:
    """A plain Markdown file is a PO named after its file, the whole text its prompt."""
    po = parse_prompt_object("Just a prompt.\n", "writer")
    assert (po.name, po.system_prompt, po.responder) == ("writer", "Just a prompt.\n", None)


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_yaml_tags_that_run_code_are_refused(tmp_path: Path, tag: str) -> None:
    """Python-specific YAML tags are an error (safe_load), and nothing is executed."""
    marker = tmp_path / "pwned"
    text = f"---\nname: evil\ndescription: {tag.format(marker=marker)}\n---\nbody\n"
    with pytest.raises(PromptObjectError, match="YAML"):
        parse_prompt_object(text, "evil")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("---\nname: x\nno closing fence\n", "not closed"),
        ("---\n- a list\n---\nbody", "mapping"),
        ("---\nname: [1, 2]\n---\n", "'name'"),
        ("---\nname: ''\n---\n", "'name'"),
        ("---\ncapabilities: read\n---\n", "capabilities"),
        ("---\ncapabilities: [1]\n---\n", "capabilities"),
        ("---\nresponder: {a: 1}\n---\n", "responder"),
        ("---\nname: ../escape\n---\n", "slashes"),
        ('---\nname: "tab\\there"\n---\n', "control"),
        ("---\nname: x\n  bad: indentation\n---\n", "YAML"),
    ],
)
def test_bad_front_matter_is_a_clear_error(text: str, words: str) -> None:
    """Malformed or mistyped front matter raises PromptObjectError saying what is wrong."""
    with pytest.raises(PromptObjectError, match=words):
        parse_prompt_object(text, "x")


def test_loading_a_folder_skips_bad_files_with_warnings(tmp_path: Path) -> None:
    """Every good PO loads; bad, oversized and symlinked files are reported, not fatal."""
    objects = tmp_path / "objects"
    objects.mkdir()
    (objects / "coordinator.md").write_text(GOOD)
    (objects / "plain.md").write_text("Plain prompt\n")
    (objects / "evil.md").write_text("---\nx: !!python/object/apply:os.system ['true']\n---\n")
    (objects / "huge.md").write_text("x" * 1_000_001)
    (objects / "notes.txt").write_text("not a PO")
    os.symlink(objects / "plain.md", objects / "link.md")
    warnings: list[str] = []
    found = load_prompt_objects(tmp_path, warn=warnings.append)
    assert sorted(found) == ["coordinator", "plain"]
    assert found["coordinator"].path == objects / "coordinator.md"
    joined = "\n".join(warnings)
    assert "evil.md" in joined and "huge.md" in joined and "link.md" in joined


def test_missing_objects_folder_means_no_pos(tmp_path: Path) -> None:
    """An environment without objects/ has no POs (any named PO is bare)."""
    assert load_prompt_objects(tmp_path) == {}
    po = bare("researcher")
    assert po.bare and po.system_prompt == "" and po.responder is None


def test_a_po_file_saved_with_a_byte_order_mark_keeps_its_front_matter(tmp_path: Path) -> None:
    """Some editors start UTF-8 files with a byte-order mark: the front matter still counts
    (its responder, its name), and the mark is not part of the system prompt."""
    folder = tmp_path / "objects"
    folder.mkdir()
    (folder / "file-name.md").write_bytes(
        b"\xef\xbb\xbf---\nname: bommy\ndescription: Saved by Notepad.\nresponder: echo\n---\n"
        b"You help.\n"
    )
    [po] = load_prompt_objects(tmp_path).values()
    assert (po.name, po.description, po.responder) == ("bommy", "Saved by Notepad.", "echo")
    assert po.system_prompt == "You help.\n"
