"""pin, tag, archive and the list filters (DESIGN section 14), on both built-in stores."""

from __future__ import annotations

import pytest

from cli_runner import Run
from prompt_sessions import SessionManager
from prompt_sessions.errors import UsageError
from prompt_sessions.organise.labels import changed_tags, clean_tag

BACKENDS = ["json", "sqlite"]


def _use(run: Run, backend: str) -> None:
    if backend == "sqlite":
        config = run.store / "config.toml"
        config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')


def _new(run: Run, name: str) -> str:
    return str(run.json("new", "coordinator", "--name", name, "--json")["id"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_pinned_sessions_come_first_and_filter(run: Run, backend: str) -> None:
    """A pinned session is listed first though older; list --pinned shows only pinned ones;
    pin --undo puts it back in time order; pinning twice says so instead of claiming a change."""
    _use(run, backend)
    old = _new(run, "Old")
    new = _new(run, "New")
    assert run("pin", "Old") == (0, "Pinned 'Old'\n", "")
    assert run("pin", "Old") == (0, "'Old' is already pinned\n", "")
    assert [s["id"] for s in run.json("list", "--json")] == [old, new]
    assert [s["id"] for s in run.json("list", "--pinned", "--json")] == [old]
    code, out, _ = run("list")
    assert code == 0 and "Old" in out.splitlines()[1] and "(pinned)" in out
    assert "pinned" not in run.json("pin", "Old", "--undo", "--json")  # false: omitted
    assert [s["id"] for s in run.json("list", "--json")] == [new, old]


@pytest.mark.parametrize("backend", BACKENDS)
def test_tags_add_remove_and_filter(run: Run, backend: str) -> None:
    """tag adds words once each (any case), --remove takes them off, list --tag filters without
    regard to case, and the search language's tag: filter sees them."""
    _use(run, backend)
    a = _new(run, "Alpha")
    _new(run, "Beta")
    assert run("tag", "Alpha", "ops", "Urgent") == (0, "'Alpha': #ops #Urgent\n", "")
    assert run.json("tag", "Alpha", "OPS", "--json")["tags"] == ["ops", "Urgent"]
    assert [s["id"] for s in run.json("list", "--tag", "urgent", "--json")] == [a]
    assert run.json("list", "--tag", "urgent", "--tag", "missing", "--json") == []
    assert {h["id"] for h in run.json("search", "alpha tag:ops", "--json")} == {a}
    assert "#ops #Urgent" in run("list")[1]
    assert run("tag", "Alpha", "urgent", "--remove") == (0, "'Alpha': #ops\n", "")
    assert run("tag", "Alpha", "ops", "--remove") == (0, "'Alpha': no tags\n", "")
    assert run.json("show", "Alpha", "--json").get("tags") is None


@pytest.mark.parametrize("bad", ["two words", "", "x" * 41, "bell\x07"])
def test_bad_tags_are_one_line_errors_and_change_nothing(run: Run, bad: str) -> None:
    """A tag with a space or control character, empty or too long is refused in one line and
    the session's tags stay as they were."""
    _new(run, "Alpha")
    run("tag", "Alpha", "keep")
    code, _, err = run("tag", "Alpha", "fine", bad)
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1
    assert run.json("show", "Alpha", "--json")["tags"] == ["keep"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_tags_typed_with_commas_or_hashes_are_the_words(run: Run, backend: str) -> None:
    """tag reads "release, plan" and "a,b" as separate tags and drops a leading # (the way tags
    are shown), so list --tag finds each word; --remove takes them the same way, and also
    removes a tag stored with a leading # by its word."""
    _use(run, backend)
    a = _new(run, "Alpha")
    assert run("tag", "Alpha", "release,", "plan", "#ops", "x,y") == (
        0,
        "'Alpha': #release #plan #ops #x #y\n",
        "",
    )
    assert [s["id"] for s in run.json("list", "--tag", "release", "--json")] == [a]
    assert [s["id"] for s in run.json("list", "--tag", "#release", "--json")] == [a]
    assert {h["id"] for h in run.json("search", "alpha tag:#release", "--json")} == {a}
    assert run("tag", "Alpha", "--remove", "#ops", "x,y") == (0, "'Alpha': #release #plan\n", "")
    run.json("tag", "Alpha", "--remove", "release,plan", "--json")
    with SessionManager.open(run.store) as mgr:
        mgr.update(a, tags=["#hash"])  # as an earlier version stored it
    assert run("tag", "Alpha", "--remove", "hash") == (0, "'Alpha': no tags\n", "")


@pytest.mark.parametrize("bad", [",", "#", "fine, two words"])
def test_tag_arguments_without_a_word_are_refused(run: Run, bad: str) -> None:
    """An argument holding only commas or #, or a comma-separated piece with a space, is a
    one-line error that changes nothing."""
    _new(run, "Alpha")
    run("tag", "Alpha", "keep")
    code, _, err = run("tag", "Alpha", bad)
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1
    assert run.json("show", "Alpha", "--json")["tags"] == ["keep"]


def test_archive_json_and_list_all(run: Run) -> None:
    """archive --json prints the summary; archived sessions need --all in list."""
    _new(run, "Alpha")
    assert run.json("archive", "Alpha", "--json")["archived"] is True
    assert run.json("list", "--json") == []
    assert [s["name"] for s in run.json("list", "--all", "--json")] == ["Alpha"]
    assert "archived" not in run.json("archive", "Alpha", "--undo", "--json")


def test_changed_tags_rules() -> None:
    """Tags keep their first spelling, compare without case, and an empty set is None."""
    assert changed_tags(["Ops"], add=["ops", "new"]) == ["Ops", "new"]
    assert changed_tags(["Ops", "new"], remove=["OPS", "NEW"]) is None
    assert clean_tag("  padded ") == "padded"
    with pytest.raises(UsageError):
        clean_tag("a b")


@pytest.mark.parametrize("backend", BACKENDS)
def test_list_tag_compares_as_search_does(run: Run, backend: str) -> None:
    """``list --tag unicode`` finds a session tagged ``Ünïcode``, as ``tag:unicode`` does in a
    search (without case or accents: one meaning for both)."""
    _use(run, backend)
    sid = _new(run, "Accents")
    _new(run, "Plain")
    assert run("tag", "Accents", "Ünïcode")[0] == 0
    assert [s["id"] for s in run.json("list", "--tag", "unicode", "--json")] == [sid]
    assert [s["id"] for s in run.json("list", "--tag", "#UNICODE", "--json")] == [sid]


@pytest.mark.parametrize("backend", BACKENDS)
def test_removing_a_tag_the_session_lacks_says_so(run: Run, backend: str) -> None:
    """tag --remove of a tag the session does not carry (a typo) names it; the others are
    taken off as asked."""
    _use(run, backend)
    _new(run, "Notes")
    run("tag", "Notes", "ops", "draft")
    assert run("tag", "Notes", "drft", "ops", "--remove") == (
        0,
        "'Notes': #draft (it had no #drft)\n",
        "",
    )
    assert run("tag", "Notes", "draft", "--remove") == (0, "'Notes': no tags\n", "")
