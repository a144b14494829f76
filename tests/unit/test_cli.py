"""The command line, driven in-process through its real entry point (``main``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.cli import main


def test_list_on_missing_folder_prints_empty_array(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Reading a folder that does not exist is reading an empty store, and creates nothing."""
    folder = tmp_path / "nothing-here"
    with pytest.raises(SystemExit) as exc:
        main(["--dir", str(folder), "list", "--json"])
    assert exc.value.code == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not folder.exists()


def test_new_then_list_json_shows_summary(run: Run) -> None:
    """`new --json` prints the summary; `list --json` is an array of summaries."""
    created = run.json("new", "coordinator", "--name", "Debug task", "--json")
    assert created["name"] == "Debug task" and created["po_name"] == "coordinator"
    assert created["message_count"] == 0
    listed = run.json("list", "--json")
    assert [s["id"] for s in listed] == [created["id"]]


def test_send_streams_reply_and_stores_both_messages(run: Run) -> None:
    """`send` appends the user's message, prints the echo reply and stores it with usage."""
    code, out, err = run("send", "writer", "draft the intro")
    assert code == 0, err
    assert out.strip() == "You said: draft the intro"
    shown = run.json("show", "draft the intro", "--po", "writer", "--json")  # auto-named
    roles = [m["role"] for m in shown["history"]]
    assert roles == ["user", "assistant"]
    assert shown["history"][1]["usage"]["output_tokens"] > 0
    assert shown["history"][1]["model"] == "echo"


def test_sessions_say_where_they_came_from(run: Run) -> None:
    """`send` into a PO with no session makes one with source "cli", as `new` does; the list
    shows it, and a session made in Python through SessionManager.create says "api"."""
    from prompt_sessions.manager import SessionManager
    from prompt_sessions.plugins import PluginHost

    assert run("send", "writer", "hello")[0] == 0
    assert run("new", "coordinator", "--name", "Made")[0] == 0
    with SessionManager.open(run.store, host=PluginHost.create(entry_points=False)) as mgr:
        made = mgr.create("researcher", "From Python")
        current = mgr.current("editor")  # a PO without sessions gets one
        assert (made.source, current.source) == ("api", "api")
    sources = {s["po_name"]: s["source"] for s in run.json("list", "--json")}
    assert sources == {"writer": "cli", "coordinator": "cli", "researcher": "api", "editor": "api"}


def test_send_uses_current_session_and_session_option(run: Run) -> None:
    """Without --session, send goes to the PO's current session; with it, to the named one."""
    run("new", "coordinator", "--name", "A")
    run("new", "coordinator", "--name", "B")
    run("send", "coordinator", "to current")
    run("send", "coordinator", "to A", "--session", "A")
    a = run.json("show", "A", "--json")
    b = run.json("show", "B", "--json")
    assert [m["content"] for m in a["history"] if m["role"] == "user"] == ["to A"]
    assert [m["content"] for m in b["history"] if m["role"] == "user"] == ["to current"]


def test_rename_duplicate_fork_delete(run: Run) -> None:
    """The session commands change the store as their names say."""
    run("new", "coordinator", "--name", "Original")
    run("send", "coordinator", "one")
    run("send", "coordinator", "two")
    assert run("rename", "Original", "Renamed")[0] == 0
    assert run("duplicate", "Renamed", "--name", "Copy")[0] == 0
    assert run("fork", "Renamed", "--at", "1", "--name", "Fork")[0] == 0
    fork = run.json("show", "Fork", "--json")
    assert len(fork["history"]) == 1 and fork["thread_type"] == "fork"
    assert (
        run.json("show", "Copy", "--json")["history"]
        == run.json("show", "Renamed", "--json")["history"]
    )
    assert run("delete", "Copy", "--yes")[0] == 0
    names = sorted(s["name"] for s in run.json("list", "--json"))
    assert names == ["Fork", "Renamed"]


def test_delete_asks_and_keeps_session_on_no(run: Run) -> None:
    """delete without --yes asks; answering no keeps the session."""
    run("new", "coordinator", "--name", "Keep me")
    code, _, _ = run("delete", "Keep me", input="n\n")
    assert code == 1
    assert [s["name"] for s in run.json("list", "--json")] == ["Keep me"]


def test_errors_are_one_line_with_exit_1(run: Run) -> None:
    """Unknown refs, path-like refs and bad names give one `Error:` line and exit 1."""
    run("new", "coordinator", "--name", "Real")
    for args in (
        ["show", "missing"],
        ["show", "../../etc/passwd"],
        ["rename", "Real", " "],
        ["export", "Real", "--format", "nope"],
    ):
        code, out, err = run(*args)
        assert code == 1, args
        assert err.startswith("Error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err


def test_unknown_format_lists_known_ones(run: Run) -> None:
    """An unknown export format names the formats that exist."""
    run("new", "coordinator", "--name", "Real")
    _, _, err = run("export", "Real", "--format", "pdf")
    assert "json" in err and "markdown" in err


def test_usage_errors_exit_2(run: Run) -> None:
    """A missing argument is a usage error (exit 2)."""
    code, _, err = run("rename", "only-one-arg")
    assert code == 2
    assert "Usage" in err


def test_ambiguous_ref_lists_candidates(run: Run) -> None:
    """A name prefix matching two sessions is refused, naming both."""
    run("new", "coordinator", "--name", "Plan A")
    run("new", "coordinator", "--name", "Plan B")
    code, _, err = run("show", "Plan")
    assert code == 1 and "Plan A" in err and "Plan B" in err


def test_export_import_round_trip(run: Run, tmp_path: Path) -> None:
    """A json export re-imports as a new session with the same messages and an (imported) name."""
    run("new", "coordinator", "--name", "Trip")
    run("send", "coordinator", "hello")
    out_file = tmp_path / "trip.json"
    assert run("export", "Trip", "--format", "json", "-o", str(out_file))[0] == 0
    imported = run.json("import", str(out_file), "--json")
    assert len(imported) == 1 and imported[0]["name"] == "Trip (imported)"
    assert imported[0]["message_count"] == 2


def test_import_bad_file_leaves_store_unchanged(run: Run, tmp_path: Path) -> None:
    """Importing garbage fails with exit 1 and writes nothing."""
    bad = tmp_path / "bad.json"
    bad.write_text("[" * 100_000)
    before = run.json("list", "--json")
    code, _, err = run("import", str(bad), "--format", "json")
    assert code == 1 and "nested" in err
    assert run.json("list", "--json") == before


def test_markdown_export_to_stdout(run: Run) -> None:
    """export defaults to markdown on stdout, labelled with the PO's name."""
    run("new", "researcher", "--name", "Notes")
    run("send", "researcher", "find sources")
    code, out, _ = run("export", "Notes")
    assert code == 0
    assert out.startswith("# Notes") and "## researcher" in out and "## User" in out


def test_search_json_hits_have_snippet_and_index(run: Run) -> None:
    """search --json returns summaries plus snippet and message_index."""
    run("new", "coordinator", "--name", "Finder")
    run("send", "coordinator", "the quick brown fox")
    hits = run.json("search", "BROWN", "--json")
    assert hits and all("snippet" in h and "message_index" in h for h in hits)
    assert any("brown" in h["snippet"] for h in hits)


def test_list_filters_and_archive(run: Run) -> None:
    """--po filters; archived sessions hide unless --all."""
    run("new", "coordinator", "--name", "C")
    run("new", "writer", "--name", "W")
    assert [s["name"] for s in run.json("list", "--po", "writer", "--json")] == ["W"]
    run("archive", "W")
    assert [s["name"] for s in run.json("list", "--json")] == ["C"]
    assert sorted(s["name"] for s in run.json("list", "--all", "--json")) == ["C", "W"]


def test_list_skips_damaged_session_with_warning(run: Run) -> None:
    """A corrupt session file is skipped with a warning; the others still list."""
    run("new", "coordinator", "--name", "Good")
    bad_id = "0f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
    (run.store / "sessions" / f"{bad_id}.json").write_text("{not json")
    code, out, err = run("list", "--json")
    assert code == 0
    assert [s["name"] for s in json.loads(out)] == ["Good"]
    assert bad_id in err and "Warning" in err


def test_doctor_reports_and_repairs(run: Run) -> None:
    """doctor exits 1 on damage and keeps the file; --repair moves it aside and exits 0."""
    run("new", "coordinator", "--name", "Good")
    bad_id = "0f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
    bad = run.store / "sessions" / f"{bad_id}.json"
    bad.write_text("{not json")
    code, out, _ = run("doctor")
    assert code == 1 and bad_id in out and bad.exists()
    code, out, _ = run("doctor", "--repair")
    assert code == 0 and not bad.exists()
    assert list((run.store / "sessions" / "damaged").iterdir())
    assert run("doctor")[0] == 0


def test_config_set_and_get(run: Run) -> None:
    """config set writes TOML values that config get reads back."""
    assert run("config", "set", "responders.echo.chunk_delay_ms", "7")[0] == 0
    code, out, _ = run("config", "get", "responders.echo.chunk_delay_ms")
    assert code == 0 and out.strip() == "7"
    code, _, err = run("config", "get", "no.such.key")
    assert code == 1 and "unknown config key 'no.such.key'" in err


def test_formats_and_plugins_list_builtins(run: Run) -> None:
    """formats lists built-in exporters; plugins --all --json lists built-ins with their hooks."""
    code, out, _ = run("formats")
    assert "markdown" in out and "json" in out
    infos = run.json("plugins", "--all", "--json")
    exporters = [i for i in infos if "register_exporters" in i["hooks"]]
    assert exporters and all(i["builtin"] for i in exporters)


def test_formats_columns_line_up_for_every_name(run: Run) -> None:
    """formats pads each name to the longest one, so the plugin column of the import formats
    (``prompt-objects`` is 14 characters) lines up under the others."""
    code, out, _ = run("formats")
    imports = out.split("Import formats:\n", 1)[1].splitlines()
    assert code == 0 and any("prompt-objects" in line for line in imports)
    assert len({line.index("(") for line in imports}) == 1


def test_files_are_private(run: Run) -> None:
    """Session files are 0600 and the store folders 0700."""
    created = run.json("new", "coordinator", "--json")
    sessions = run.store / "sessions"
    assert (os.stat(sessions).st_mode & 0o777) == 0o700
    assert (os.stat(sessions / f"{created['id']}.json").st_mode & 0o777) == 0o600


def test_import_is_all_or_nothing_when_a_write_fails(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing the second of two imported sessions fails, the first is taken back."""
    from prompt_sessions.errors import StorageError
    from prompt_sessions.storage.json_backend import JsonBackend

    run("new", "coordinator", "--name", "One")
    run("new", "coordinator", "--name", "Two")
    export = tmp_path / "two.json"
    one = run.json("show", "One", "--json")
    two = run.json("show", "Two", "--json")
    export.write_text(json.dumps({"sessions": [one, two]}))
    original = JsonBackend.create
    calls = {"n": 0}

    def failing_create(self: JsonBackend, session: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise StorageError("disk full (simulated)")
        return original(self, session)  # type: ignore[arg-type]

    monkeypatch.setattr(JsonBackend, "create", failing_create)
    code, _, err = run("import", str(export))
    assert code == 1 and "disk full" in err
    monkeypatch.setattr(JsonBackend, "create", original)
    assert sorted(s["name"] for s in run.json("list", "--json")) == ["One", "Two"]


def test_show_json_has_the_session_file_shape(run: Run) -> None:
    """show --json prints every field of the file, history and metadata included when empty."""
    run("new", "coordinator", "--name", "Empty")
    shown = run.json("show", "Empty", "--json")
    assert shown["history"] == [] and shown["metadata"] == {} and shown["format_version"] == 1
    on_disk = json.loads((run.store / "sessions" / f"{shown['id']}.json").read_text())
    assert shown == on_disk


def test_search_language_limit_and_archived_mark(run: Run) -> None:
    """search takes the query as several words, ranks and limits the hits, marks archived
    sessions and gives a name hit a null message_index."""
    run("new", "coordinator", "--name", "Crème Brûlée")
    run("send", "coordinator", "creme brulee recipe")
    run("archive", "Crème Brûlée")
    hits = run.json("search", "creme", "brulee", "--json")
    assert hits[0]["message_index"] is None  # the short name is the best match
    assert {h["message_index"] for h in hits[1:]} == {0, 1}  # the message and its echo
    assert all(h["name"] == "Crème Brûlée" and h["archived"] is True for h in hits)
    assert len(run.json("search", "creme", "--limit", "1", "--json")) == 1
    assert run.json("search", "--json", "--", "creme", "-recipe") == [hits[0]]
    code, out, _ = run("search", "brulee", "in:name")
    assert code == 0 and "(name, " in out and ", archived)" in out


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"unclosed', "unclosed quote"),
        ("x colour:red", "unknown filter colour:"),
        ("x after:2025-99-01", "after:2025-99-01 is not a real date"),
    ],
)
def test_search_refuses_a_malformed_query_in_one_line(run: Run, query: str, message: str) -> None:
    """A malformed query exits 1 with one 'Error: ...' line on stderr and nothing on stdout."""
    code, out, err = run("search", query)
    assert (code, out) == (1, "")
    assert err.startswith("Error: ") and message in err and err.count("\n") == 1


def test_search_limit_must_be_positive(run: Run) -> None:
    """--limit 0 is a usage error."""
    code, _, err = run("search", "x", "--limit", "0")
    assert code == 2 and "--limit" in err


def test_search_draws_a_progress_bar_on_a_terminal_while_indexing(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With stderr a terminal, a search that builds the index shows a progress bar there; a
    search with nothing to index shows none. Without a terminal nothing is drawn."""
    import shutil
    import sys

    for i in range(3):
        run("new", "coordinator", "--name", f"Walrus {i}")
    code, _, err = run("search", "walrus")
    assert code == 0 and err == ""  # not a terminal: no bar (and the index is now built)
    run("new", "coordinator", "--name", "Walrus 4")  # the write keeps the index in step
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert "Indexing sessions" not in run("search", "walrus")[2]
    shutil.rmtree(run.store / "cache")  # deleting the cache loses nothing
    code, out, err = run("search", "walrus")
    assert code == 0 and "Indexing sessions" in err and "Walrus 4" in out
    code, _, err = run("search", "walrus")
    assert code == 0 and "Indexing sessions" not in err


def test_show_json_of_a_long_session_is_its_file_byte_for_byte(run: Run) -> None:
    """show --json writes the session out piece by piece in the file's own layout (so a long
    session is never held twice over): the output is the file's bytes, and parses the same."""
    run("new", "coordinator", "--name", "Talk")
    for text in ("first", 'quote " and\nnewline', "émoji 🎉"):
        run("send", "coordinator", text)
    code, out, _ = run("show", "Talk", "--json")
    assert code == 0
    sid = json.loads(out)["id"]
    on_disk = (run.store / "sessions" / f"{sid}.json").read_text(encoding="utf-8")
    assert out == on_disk + "\n"
    assert [m["content"] for m in json.loads(out)["history"]][:3] == [
        "first",
        "You said: first",
        'quote " and\nnewline',
    ]
