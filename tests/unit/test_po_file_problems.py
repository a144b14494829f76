"""A PO file that exists but cannot be read (a YAML mistake, say) is never silently replaced by
a bare PO: sending to that PO fails in one line naming the file, before anything is stored;
``doctor`` names the file; its sessions are not called orphaned."""

from __future__ import annotations

from pathlib import Path

from cli_runner import Run

from prompt_sessions.context import AppContext

BROKEN = "---\nname: [researcher\nresponder: echo\n---\nYou research.\n"


def write(store: Path, name: str, text: str) -> Path:
    path = store / "objects" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_send_to_a_po_whose_file_is_broken_stores_nothing(run: Run) -> None:
    """One error line naming the file and the YAML mistake, exit 1, no session made; once the
    file is fixed the same send works."""
    write(run.store, "writer", "---\nname: writer\n---\nYou write.\n")
    path = write(run.store, "researcher", BROKEN)
    code, out, err = run("send", "researcher", "hello")
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert str(path) in err and "invalid YAML front matter" in err
    assert "fix the file" in err
    assert run.json("list", "--json") == []
    path.write_text(BROKEN.replace("[researcher", "researcher"), encoding="utf-8")
    code, out, err = run("send", "researcher", "hello")
    assert code == 0, err
    assert [s["po_name"] for s in run.json("list", "--json")] == ["researcher"]


def test_doctor_names_a_broken_po_file(run: Run) -> None:
    """doctor prints a BAD PO FILE line with the reason; the store's exit status is kept."""
    write(run.store, "writer", "---\nname: writer\n---\nYou write.\n")
    before = run("doctor")[0]
    path = write(run.store, "researcher", BROKEN)
    code, out, _ = run("doctor")
    assert code == before
    bad = [line for line in out.splitlines() if line.startswith("BAD PO FILE")]
    assert len(bad) == 1 and str(path) in bad[0] and "YAML" in bad[0]
    run.store.chmod(0o700)  # a healthy store: its word must not hide the file's
    code, out, _ = run("doctor")
    assert code == 0, out
    assert "No problems found in the store." in out and "No problems found.\n" not in out
    assert any(line.startswith("BAD PO FILE") for line in out.splitlines())


def test_sessions_of_a_po_whose_file_is_broken_are_not_orphaned(run: Run) -> None:
    """Sessions made before the file broke are not listed as orphaned: their file is there."""
    write(run.store, "writer", "---\nname: writer\n---\nYou write.\n")
    path = write(run.store, "researcher", BROKEN.replace("[researcher", "researcher"))
    assert run("new", "researcher", "--name", "Notes")[0] == 0
    path.write_text(BROKEN, encoding="utf-8")
    code, out, _ = run("list")
    assert code == 0 and "Notes" in out and "orphaned" not in out
    assert run("list", "--orphaned")[1].strip() in ("", "No sessions.")


def test_a_file_naming_another_po_is_no_problem(tmp_path: Path) -> None:
    """writer.md whose front matter names 'author' is the PO author: no problem is reported
    for 'writer' (a bare PO, as any PO without a file)."""
    store = tmp_path / ".prompt_objects"
    write(store, "writer", "---\nname: author\n---\nYou write.\n")
    ctx = AppContext.open(store)
    assert ctx.po_file_problem("writer") is None
    assert ctx.po_file_problem("author") is None
    assert ctx.po_file_problems() == {}
    ctx.manager.close()


async def test_the_mcp_server_names_a_broken_po_file(tmp_path: Path) -> None:
    """Through the MCP server a PO whose file cannot be read is listed with its problem, and
    sending to it fails with the file and the YAML mistake, not "unknown prompt object"."""
    import pytest

    from prompt_sessions.frontends.mcp_tools import SessionTools
    from prompt_sessions.objects import PromptObjectError

    store = tmp_path / ".prompt_objects"
    write(store, "writer", "---\nname: writer\n---\nYou write.\n")
    path = write(store, "researcher", BROKEN)
    ctx = AppContext.open(store)
    try:
        tools = SessionTools(ctx)
        listed = {entry["name"]: entry for entry in tools.list_prompt_objects()}
        assert listed["researcher"]["has_file"] and str(path) in listed["researcher"]["problem"]
        assert "problem" not in listed["writer"]
        with pytest.raises(PromptObjectError, match="invalid YAML front matter"):
            await tools.send_message("researcher", "hello")
        assert ctx.manager.list() == []
    finally:
        ctx.manager.close()
