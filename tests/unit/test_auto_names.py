"""Auto-names (DESIGN section 14): a session no person named takes its name from its first user
message, the session_title hook may refine it after the first reply, and a person's rename is
never overwritten. Old files without the field keep their names."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from prompt_sessions import hookimpl
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message, Session
from prompt_sessions.organise.names import is_placeholder, title_from
from prompt_sessions.plugins import PluginHost

BACKENDS = ["json", "sqlite"]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("  How do I\n\tdeploy   the app? ", "How do I deploy the app?"),
        ("x" * 60, "x" * 50),  # one long word: cut between characters
        ("word " * 20, "word word word word word word word word word word"),  # 49: cut at a word
        ("a" * 50 + " tail", "a" * 50),  # exactly 50 then a space: the word fits
        ("bell\x07and\x1b[2Jescape", "bell and [2Jescape"),
        (" \n\t ", None),
        ("é" * 49 + " 👍🏽 more", "é" * 49),  # the emoji would not fit whole
    ],
)
def test_title_from_a_message(text: str, title: str | None) -> None:
    """Whitespace and control characters collapse to single spaces; at most 50 characters, cut
    before a word that does not fit; no visible text gives no title."""
    assert title_from(text) == title
    if title:
        assert len(title) <= 50


def test_placeholders() -> None:
    """Only the names a session gets before its first message are placeholders."""
    assert is_placeholder("New Session") and is_placeholder("New Session 12")
    assert not is_placeholder("New Session plan") and not is_placeholder("Plan")
    # Another script's digits make a name a person chose, never a numbered placeholder.
    assert not is_placeholder("New Session \u0663") and not is_placeholder("New Session \uff11")


def _open(root: Path, backend: str, plugins: list[object] = ()) -> SessionManager:
    host = PluginHost.create(entry_points=False, plugins=list(plugins))
    return SessionManager.open(root, host=host, backend=backend, config={})


@pytest.mark.parametrize("backend", BACKENDS)
def test_first_user_message_names_an_unnamed_session(tmp_path: Path, backend: str) -> None:
    """An unnamed session is named after its first user message at once (list shows it), not
    by later ones; a session created with a name keeps it."""
    with _open(tmp_path, backend) as mgr:
        s = mgr.create("po")
        assert (s.name, s.auto_named) == ("New Session", True)
        mgr.append(s.id, Message(role="user", content="Plan the  release\nfor Friday"))
        assert [x.name for x in mgr.list()] == ["Plan the release for Friday"]
        mgr.append(s.id, Message(role="assistant", content="ok"))
        mgr.append(s.id, Message(role="user", content="something else"))
        assert mgr.get(s.id).name == "Plan the release for Friday"
        named = mgr.create("po", "Chosen")
        mgr.append(named.id, Message(role="user", content="hello"))
        assert (mgr.get(named.id).name, mgr.get(named.id).auto_named) == ("Chosen", False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_person_rename_is_never_overwritten(tmp_path: Path, backend: str) -> None:
    """Renamed before its first message, or after it, the person's name stays through later
    messages and replies, and the title hook is not asked."""
    asked: list[str] = []

    class Titles:
        @hookimpl
        def session_title(self, session: Session, manager: object) -> str:
            asked.append(session.id)
            return "From the plugin"

    with _open(tmp_path, backend, [Titles()]) as mgr:
        s = mgr.create("po")
        mgr.rename(s.id, "Mine")
        mgr.append(s.id, Message(role="user", content="first words"))
        mgr.append(s.id, Message(role="assistant", content="reply"))
        assert (mgr.get(s.id).name, mgr.get(s.id).auto_named) == ("Mine", False)
        assert asked == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_session_title_hook_refines_after_the_first_reply(tmp_path: Path, backend: str) -> None:
    """After the first reply the hook's answer (cleaned, at most 50 characters) names the
    session, which stays auto-named; it is asked once, not after later replies."""
    asked: list[int] = []

    class Titles:
        @hookimpl
        def session_title(self, session: Session, manager: object) -> str:
            asked.append(len(session.history))
            return "  Release\nplanning " + "x" * 60

    with _open(tmp_path, backend, [Titles()]) as mgr:
        s = mgr.create("po")
        mgr.append(s.id, Message(role="user", content="plan the release"))
        assert mgr.get(s.id).name == "plan the release"
        mgr.append(s.id, Message(role="assistant", content="sure"))
        got = mgr.get(s.id)
        assert (got.name, got.auto_named) == ("Release planning", True)
        mgr.append(s.id, Message(role="user", content="more"))
        mgr.append(s.id, Message(role="assistant", content="again"))
        assert asked == [2]


def test_a_failing_or_empty_title_hook_keeps_the_name(tmp_path: Path) -> None:
    """A plugin that raises is reported and skipped; one that answers None or a blank name
    changes nothing; the reply is stored either way."""
    seen: list[str] = []

    class Broken:
        @hookimpl
        def session_title(self, session: Session, manager: object) -> str:
            raise RuntimeError("model down")

    class Blank:
        @hookimpl
        def session_title(self, session: Session, manager: object) -> str:
            return "   "

    host = PluginHost.create(entry_points=False, plugins=[Blank(), Broken()], warn=seen.append)
    with SessionManager.open(tmp_path, host=host, config={}) as mgr:
        s = mgr.create("po")
        mgr.append(s.id, Message(role="user", content="keep this name"))
        mgr.append(s.id, Message(role="assistant", content="reply"))
        got = mgr.get(s.id)
        assert (got.name, len(got.history)) == ("keep this name", 2)
    assert any("model down" in w for w in seen)


def test_an_old_file_keeps_its_name(tmp_path: Path) -> None:
    """A session file written before auto-names (no auto_named key) decodes, and its first
    user message does not rename it, even when it is called New Session."""
    with _open(tmp_path, "json") as mgr:
        s = mgr.create("po", "New Session")
        path = mgr.session_path(s.id)
        assert path is not None
    data = msgspec.json.decode(path.read_bytes())
    assert "auto_named" not in data
    with _open(tmp_path, "json") as mgr:
        mgr.append(s.id, Message(role="user", content="hello"))
        assert mgr.get(s.id).name == "New Session"


def test_cli_new_then_send_names_the_session(tmp_path: Path, run: object) -> None:
    """`send` to a PO with no session creates one named after the message; `new --name` does
    not; `show --json` records auto_named only for the first."""
    from cli_runner import Run

    assert isinstance(run, Run)
    assert run("send", "coordinator", "Summarise the meeting notes please")[0] == 0
    shown = run.json("show", "Summarise the meeting notes please", "--json")
    assert shown["auto_named"] is True
    run("new", "coordinator", "--name", "Mine")
    assert "auto_named" not in run.json("show", "Mine", "--json")
