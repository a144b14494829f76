"""Stored text never drives the terminal, names print as typed, and messages say what happened:
what the command line prints for people, on both backends where the store matters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost

HOSTILE = "look \x1b]52;c;ZXZpbA==\x07 and \x1b]0;owned\x07 then \x1b[2J\x9b2J done\r\nnext\tline"
SHOWN = "look \\x1b]52;c;ZXZpbA==\\x07 and \\x1b]0;owned\\x07 then \\x1b[2J\\x9b2J done\nnext\tline"


@pytest.fixture(params=["json", "sqlite"])
def backend(request: pytest.FixtureRequest, run: Run) -> str:
    """The CLI's store on each backend."""
    config = run.store / "config.toml"
    config.write_text(config.read_text() + f'\n[storage]\nbackend = "{request.param}"\n')
    return request.param


def _manager(run: Run, backend: str) -> SessionManager:
    return SessionManager.open(
        run.store, backend=backend, host=PluginHost.create(entry_points=False)
    )


def _hostile_session(run: Run, backend: str, name: str = "Evil") -> str:
    mgr = _manager(run, backend)
    try:
        s = mgr.create("po", name)
        mgr.append(s.id, Message(role="user", content=HOSTILE))
        mgr.append(s.id, Message(role="assistant", content="ok", from_po="x\x1b[31mred"))
        return s.id
    finally:
        mgr.close()


def test_show_prints_escape_sequences_visibly(run: Run, backend: str) -> None:
    """`show` writes no raw escape, bell or C1 character: OSC 52 (clipboard), OSC 0 (title) and
    CSI (clear screen) show as escapes; newlines and tabs stay; a speaker's name too."""
    _hostile_session(run, backend)
    code, out, _ = run("show", "Evil")
    assert code == 0
    assert not any(c in out for c in "\x1b\x07\x9b\r")
    assert SHOWN in out
    assert "x\\x1b[31mred · " in out


def test_json_and_exports_keep_the_text_exact(run: Run, backend: str, tmp_path: Path) -> None:
    """`show --json`, `search --json` and the json and markdown exports carry the text exactly."""
    _hostile_session(run, backend)
    assert run.json("show", "Evil", "--json")["history"][0]["content"] == HOSTILE
    assert run.json("search", "owned", "--json")[0]["snippet"].count("\x1b") >= 1
    out = tmp_path / "e.json"
    assert run("export", "Evil", "--format", "json", "-o", str(out))[0] == 0
    assert json.loads(out.read_text())["history"][0]["content"] == HOSTILE
    md = tmp_path / "e.md"
    assert run("export", "Evil", "-o", str(md))[0] == 0
    assert HOSTILE.replace("\r\n", "\n") in md.read_text().replace("\r\n", "\n")


def test_search_and_list_print_control_characters_visibly(run: Run, backend: str) -> None:
    """Search snippets and the list table show control characters and bidi overrides as
    escapes, never raw."""
    _hostile_session(run, backend, name="\u202etxt.exe")
    code, out, _ = run("search", "owned")
    assert code == 0 and "\x1b" not in out and "\\x1b]0;owned\\x07" in out
    assert "\\u202etxt.exe" in out and "\u202e" not in out
    code, out, _ = run("list")
    assert code == 0 and "\\u202etxt.exe" in out and "\u202e" not in out


def test_a_c1_name_written_by_an_older_version_lists_visibly(run: Run) -> None:
    """A session file whose name holds a C1 control (refused today, accepted before) still
    opens, and `list` and `show` print the control as an escape."""
    sid = _hostile_session(run, "json")
    path = run.store / "sessions" / f"{sid}.json"
    _replace_file(path, path.read_text().replace('"name":"Evil"', '"name":"Ev\\u009bil"').encode())
    code, out, _ = run("list")
    assert code == 0 and "Ev\\x9bil" in out and "\x9b" not in out
    code, out, _ = run("show", sid[:8])
    assert code == 0 and "po: Ev\\x9bil" in out


def test_send_prints_the_reply_visibly(run: Run) -> None:
    """A reply is stored text too: `send` streams it with control characters visible (the echo
    responder repeats the message), and stores it exactly."""
    code, out, _ = run("send", "po", "title \x1b]0;owned\x07")
    assert code == 0 and "\x1b" not in out and "\\x1b]0;owned\\x07" in out
    stored = run.json("show", "title", "--json")["history"][-1]["content"]  # auto-named
    assert "\x1b]0;owned\x07" in stored


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("new", "po", "--name", 'Bob\'s "plan"'), "Created 'Bob's \"plan\"' ("),
        (
            ("new", "po", "--name", "\U0001f469\u200d\U0001f4bb dev"),
            "Created '\U0001f469\u200d\U0001f4bb dev' (",
        ),
    ],
)
def test_names_print_as_typed_in_quotes(run: Run, args: tuple[str, ...], expected: str) -> None:
    """Names in CLI messages are the text as typed between single quotes: no backslashes
    before quotes, no \\u200d escapes for the joiner of an emoji sequence."""
    code, out, _ = run(*args)
    assert code == 0 and out.startswith(expected)


def test_every_session_message_quotes_names_the_same_way(run: Run) -> None:
    """rename, duplicate, fork, archive, delete and import all print names by one rule."""
    run("new", "po", "--name", "Bob's")
    assert run("rename", "Bob's", 'Bob\'s "plan"')[1] == "Renamed 'Bob's' to 'Bob's \"plan\"'\n"
    assert run("duplicate", 'Bob\'s "plan"')[1].startswith("Created 'Bob's \"plan\" (copy)' (")
    assert run("archive", 'Bob\'s "plan" (copy)')[1] == "Archived 'Bob's \"plan\" (copy)'\n"
    assert run("delete", 'Bob\'s "plan" (copy)', "--yes")[1].startswith(
        "Deleted 'Bob's \"plan\" (copy)' (moved to the trash"
    )


@pytest.mark.parametrize("name", ["a\x9b2Jb", "a\x85b", "x\x80"])
def test_c1_controls_in_names_are_refused_in_one_line(run: Run, backend: str, name: str) -> None:
    """new --name, rename, duplicate --name and fork --name refuse a C1 control with one line
    and exit 1; nothing is created or renamed."""
    run("new", "po", "--name", "Keep")
    for args in (
        ("new", "po", "--name", name),
        ("rename", "Keep", name),
        ("duplicate", "Keep", "--name", name),
        ("fork", "Keep", "--name", name),
    ):
        code, out, err = run(*args)
        assert code == 1 and out == ""
        assert err.startswith("Error: ") and "control characters" in err and err.count("\n") == 1
    assert [s["name"] for s in run.json("list", "--json")] == ["Keep"]


def test_the_tui_rename_refuses_c1_controls(tmp_path: Path) -> None:
    """/session rename (the TUI's path) refuses a C1 control like the CLI does."""
    from prompt_sessions.commands import CommandContext, CommandRouter
    from prompt_sessions.commands.base import PlainFrontend
    from prompt_sessions.context import AppContext
    from prompt_sessions.errors import InvalidName

    app = AppContext.open(tmp_path / ".po", host=PluginHost.create(entry_points=False))
    try:
        s = app.manager.create("po", "Keep")
        ctx = CommandContext(app, "po", s.id, PlainFrontend())
        with pytest.raises(InvalidName, match="control characters"):
            CommandRouter.from_host(app.host).run(ctx, "/session rename bad\x9bname")
        assert app.manager.get(s.id).name == "Keep"
    finally:
        app.manager.close()


def test_fork_and_import_counts_use_the_right_number(run: Run, tmp_path: Path) -> None:
    """`fork --at 1` says "with 1 message", import says "1 message", delete asks about
    "1 message"; 0 and 2 take the plural."""
    run("send", "po", "hello")
    run("rename", "hello", "New Session")  # auto-named from the message; named back here
    out = run("fork", "New Session", "--at", "1")[1]
    assert out.endswith(" with 1 message\n")
    assert run("fork", "New Session", "--at", "0")[1].endswith(" with 0 messages\n")
    assert run("fork", "New Session")[1].endswith(" with 2 messages\n")
    path = tmp_path / "one.json"
    run("export", "New Session (fork)", "--format", "json", "-o", str(path))
    mgr = SessionManager.open(run.store, host=PluginHost.create(entry_points=False))
    try:
        single = mgr.fork(mgr.resolve("po", "New Session").id, at=1, name="single")
        path.write_text(mgr.export(single.id, "json"))
    finally:
        mgr.close()
    assert run("import", str(path))[1].endswith(", 1 message)\n")
    code, out, _ = run("delete", "single", input="n\n")
    assert code == 1 and "'single' (po, 1 message)?" in out


def test_archive_undo_on_a_session_that_is_not_archived_says_so(run: Run, backend: str) -> None:
    """`archive --undo` on a live session says it is not archived (not "Restored"), and
    archiving twice says it already is; neither changes the session."""
    run("new", "po", "--name", "Live")
    assert run("archive", "Live", "--undo") == (0, "'Live' is not archived\n", "")
    assert run("archive", "Live")[1] == "Archived 'Live'\n"
    assert run("archive", "Live")[1] == "'Live' is already archived\n"
    assert run("archive", "Live", "--undo")[1] == "Restored 'Live'\n"


def test_doctor_on_a_healthy_store_claims_no_fix(run: Run, backend: str) -> None:
    """`doctor` on a healthy store reports the sessions and "No problems found.", with no
    "fixed:" line; after real damage to the JSON catalog it does say what it fixed."""
    run("new", "po", "--name", "One")
    run("doctor")  # a first check may settle what the last write left
    code, out, _ = run("doctor")
    assert code == 0
    assert "fixed:" not in out and "No problems found." in out
    assert out.startswith("1 session readable in ")
    if backend == "json":
        (run.store / "sessions" / "index.json").write_text("{broken")
        code, out, _ = run("doctor")
        assert code == 0 and "fixed: catalog rebuilt from session files" in out
        assert "No problems found." not in out


@pytest.mark.parametrize(
    "args",
    [
        ("search", "caf\udce9"),
        ("new", "po", "--name", "caf\udce9"),
        ("rename", "Keep", "caf\udce9"),
        ("send", "po", "caf\udce9"),
        ("new", "caf\udce9"),
    ],
    ids=["search", "new --name", "rename", "send", "po"],
)
def test_arguments_that_are_not_utf8_are_one_line_errors(
    run: Run, backend: str, args: tuple[str, ...]
) -> None:
    """Text arguments holding bytes that are not UTF-8 (lone surrogates from argv) fail with
    one "Error:" line naming the argument and showing the byte, exit 1, and change nothing."""
    run("new", "po", "--name", "Keep")
    before = run.json("list", "--json")
    code, out, err = run(*args)
    assert (code, out) == (1, "")
    assert err.startswith("Error: ") and err.count("\n") == 1
    assert "not valid UTF-8 text" in err and "caf\\xe9" in err and "unexpected" not in err
    assert run.json("list", "--json") == before


@pytest.mark.skipif(sys.platform == "win32", reason="argv bytes are a POSIX matter")
def test_a_search_query_with_invalid_utf8_from_a_real_argv(tmp_path: Path) -> None:
    """The console script given the raw byte 0xff as its query prints one clear error line."""
    script = Path(sys.executable).with_name("prompt-sessions")
    store = tmp_path / ".po"
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": "", "LC_ALL": "C.UTF-8"}
    done = subprocess.run(
        [os.fsencode(script), b"--dir", os.fsencode(store), b"search", b"caf\xe9"],
        capture_output=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 1
    assert done.stderr.decode() == (
        "Error: query is not valid UTF-8 text: caf\\xe9 "
        "(check the terminal's or the shell's encoding)\n"
    )


def _on_a_terminal(store: Path, *args: str) -> bytes:
    """What the console script writes when its stdout is a terminal (a pseudo-terminal)."""
    import pty

    main, follower = pty.openpty()
    script = Path(sys.executable).with_name("prompt-sessions")
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    try:
        done = subprocess.run(
            [str(script), "--dir", str(store), *args],
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=60,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal is closed once everything is read
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(main)
        if follower >= 0:
            os.close(follower)


def test_an_export_to_a_terminal_shows_controls_but_a_redirect_keeps_them(
    run: Run, tmp_path: Path
) -> None:
    """`export` to a terminal is read by a person: escape sequences show as escapes, and
    `show` on a terminal too; written to a pipe or file, the export keeps the text exact."""
    _hostile_session(run, "json")
    shown = _on_a_terminal(run.store, "export", "Evil")
    assert b"\x1b" not in shown and b"\x07" not in shown
    assert b"\\x1b]52;c;ZXZpbA==\\x07" in shown
    assert b"\x1b" not in _on_a_terminal(run.store, "show", "Evil").replace(
        b"\x1b[1m", b""
    ).replace(b"\x1b[0m", b"")
    code, out, _ = run("export", "Evil", "--format", "json")
    assert code == 0 and json.loads(out)["history"][0]["content"] == HOSTILE


def test_warnings_show_control_characters_visibly(capsys: pytest.CaptureFixture[str]) -> None:
    """A warning that quotes damaged data (a reason, a path) prints on one line with control
    characters as escapes."""
    from prompt_sessions.cli.output import warn

    warn("bad \x1b]0;t\x07 data\nsecond line")
    assert capsys.readouterr().err == "Warning: bad \\x1b]0;t\\x07 data\\nsecond line\n"


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` as editors, sync tools and ``cp``-then-rename do: a new file renamed
    over it (what ``list`` notices; an edit in place is noticed by ``doctor`` and ``get``)."""
    new = path.with_name(path.name + ".new")
    new.write_bytes(data)
    os.chmod(new, 0o600)
    os.replace(new, path)
