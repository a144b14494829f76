"""Real-world export shapes through the command line and the TUI's /session import: byte order
marks, UTF-16, and files where some entries cannot be read (taken in part, the rest reported)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.commands import CommandContext, CommandRouter
from prompt_sessions.commands.base import PlainFrontend
from prompt_sessions.context import AppContext
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost


def exported(run: Run, name: str = "Source") -> dict:
    run("new", "po", "--name", name)
    return run.json("show", name, "--json")


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.encode("utf-16"),
        lambda text: text.encode("utf-16-be").join([b"\xfe\xff", b""]),
    ],
    ids=["utf-8 bom", "utf-16 le bom", "utf-16 be bom"],
)
@pytest.mark.parametrize("fmt", [(), ("--format", "json")], ids=["sniffed", "--format json"])
def test_a_json_export_with_a_byte_order_mark_imports(
    run: Run, tmp_path: Path, encode, fmt: tuple[str, ...]
) -> None:
    """A JSON export saved by an editor with a UTF-8 BOM (or as UTF-16 with its BOM) imports,
    with and without --format, and the text comes back exact."""
    doc = exported(run, "Caf\u00e9 \u2615")
    path = tmp_path / "bom.json"
    path.write_bytes(encode(json.dumps(doc, ensure_ascii=False)))
    code, out, err = run("import", str(path), *fmt)
    assert (code, err) == (0, "")
    assert out.startswith("Imported 'Caf\u00e9 \u2615 (imported)' (")


def test_a_file_with_some_bad_entries_imports_the_rest_and_names_them(
    run: Run, tmp_path: Path
) -> None:
    """Good sessions are imported; each bad one is a warning line naming the file, the entry
    and the reason; the exit code is 0 because something was imported. The same session twice
    in one file is one copy: the second finds nothing new."""
    good = exported(run)
    bad = dict(good, created_at="yesterday")
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([good, bad, 7, good]))
    code, out, err = run("import", str(path))
    assert code == 0
    assert out.count("Imported 'Source (imported)'") == 1
    assert out.count("Unchanged 'Source (imported)'") == 1
    assert err.splitlines() == [
        f"Warning: {path}: skipped session 1: `$.created_at` is not an ISO-8601 UTC timestamp "
        "ending in Z",
        f"Warning: {path}: skipped session 2: item 2 is not a session object",
    ]


def test_a_file_with_no_readable_entry_fails_in_one_line(run: Run, tmp_path: Path) -> None:
    """When no entry can be read the file fails with the first reason and how many more were
    skipped, exit 1, nothing written."""
    bad = dict(exported(run), created_at="yesterday")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([bad, bad]))
    before = run.json("list", "--json")
    code, out, err = run("import", str(path))
    assert (code, out) == (1, "")
    assert err == (
        f"Error: {path}: session 0: `$.created_at` is not an ISO-8601 UTC timestamp ending in Z "
        "(1 more skipped)\n"
    )
    assert run.json("list", "--json") == before


def test_the_tui_import_reports_what_it_skipped(tmp_path: Path) -> None:
    """/session import takes the good sessions, switches to the first and says how many
    entries it skipped and why."""
    app = AppContext.open(tmp_path / ".po", host=PluginHost.create(entry_points=False))
    try:
        s = app.manager.create("po", "Source")
        good = json.loads(app.manager.export(s.id, "json"))
        path = tmp_path / "mixed.json"
        path.write_text(json.dumps([good, dict(good, name=""), 3]))
        ctx = CommandContext(app, "po", s.id, PlainFrontend())
        said = CommandRouter.from_host(app.host).run(ctx, f"/session import {path}")
        assert said.startswith("Imported 'Source (imported)' (po); skipped 2 entries: session 1:")
        assert said.endswith(" (and 1 more)")
        assert app.manager.get(ctx.session_id).name == "Source (imported)"
    finally:
        app.manager.close()


def test_the_tui_import_of_the_same_file_twice_keeps_one_copy(tmp_path: Path) -> None:
    """/session import follows the import rules of the command line: the second import of
    the same file finds the earlier copy, says so and adds nothing; a message added at the
    source since is added to that copy."""
    app = AppContext.open(tmp_path / ".po", host=PluginHost.create(entry_points=False))
    try:
        s = app.manager.create("po", "Source")
        app.manager.append(s.id, Message(role="user", content="first"))
        path = tmp_path / "one.json"
        path.write_text(app.manager.export(s.id, "json"))
        router = CommandRouter.from_host(app.host)
        ctx = CommandContext(app, "po", s.id, PlainFrontend())
        assert router.run(ctx, f"/session import {path}").startswith("Imported 'Source (imp")
        copy_id = ctx.session_id
        assert router.run(ctx, f"/session import {path}").startswith("Already imported: ")
        app.manager.append(s.id, Message(role="user", content="second"))
        path.write_text(app.manager.export(s.id, "json"))
        said = router.run(ctx, f"/session import {path}")
        assert said.startswith("Added 1 message to the earlier copy, 'Source (imported)'"), said
        assert ctx.session_id == copy_id
        names = sorted(x.name for x in app.manager.list())
        assert names == ["Source", "Source (imported)"]
        assert [m.content for m in app.manager.get(copy_id).history] == ["first", "second"]
    finally:
        app.manager.close()
