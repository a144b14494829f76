"""``session_title`` through llm: ``[responders.llm] title_model`` names an auto-named session
after its first reply, with a model from a test llm plugin (``fake_model.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fake_model
import llm
import prompt_sessions_llm
import pytest

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost


@pytest.fixture
def fake_llm(llm_home: Path) -> Iterator[None]:
    llm.get_plugins()
    llm.plugins.pm.register(fake_model, name="fake_model")
    fake_model.SCRIPT.clear()
    fake_model.PROMPTS.clear()
    yield
    llm.plugins.pm.unregister(name="fake_model")


def _manager(tmp_path: Path, config: dict) -> SessionManager:
    host = PluginHost.create(entry_points=False, plugins=[prompt_sessions_llm])
    return SessionManager.open(tmp_path / ".prompt_objects", host=host, config=config)


def test_title_model_names_the_session_after_the_first_reply(
    tmp_path: Path, fake_llm: None
) -> None:
    """The title model sees the first message and reply; its answer, without quotes or a full
    stop, becomes the name; the session stays auto-named."""
    fake_model.SCRIPT.append({"chunks": ['"Release ', 'planning for Friday."']})
    with _manager(tmp_path, {"responders": {"llm": {"title_model": "fake"}}}) as mgr:
        s = mgr.create("po")
        mgr.append(s.id, Message(role="user", content="help me plan the release"))
        assert mgr.get(s.id).name == "help me plan the release"
        mgr.append(s.id, Message(role="assistant", content="Sure: first, the date."))
        got = mgr.get(s.id)
        assert (got.name, got.auto_named) == ("Release planning for Friday", True)
    (prompt,) = fake_model.PROMPTS
    asked = prompt.prompt
    assert "help me plan the release" in asked and "Sure: first, the date." in asked


def test_without_title_model_the_first_message_name_stays(tmp_path: Path, fake_llm: None) -> None:
    """No title_model: no model is asked and the first-message name stays."""
    with _manager(tmp_path, {}) as mgr:
        s = mgr.create("po")
        mgr.append(s.id, Message(role="user", content="hello there"))
        mgr.append(s.id, Message(role="assistant", content="hi"))
        assert mgr.get(s.id).name == "hello there"
    assert fake_model.PROMPTS == []


def test_a_failing_title_model_keeps_the_name(tmp_path: Path, fake_llm: None) -> None:
    """A model error is a warning naming the plugin; the reply and the name are kept."""
    fake_model.SCRIPT.append({"chunks": [], "fail": RuntimeError("quota")})
    seen: list[str] = []
    host = PluginHost.create(entry_points=False, plugins=[prompt_sessions_llm], warn=seen.append)
    config = {"responders": {"llm": {"title_model": "fake"}}}
    with SessionManager.open(tmp_path / ".prompt_objects", host=host, config=config) as mgr:
        s = mgr.create("po")
        mgr.append(s.id, Message(role="user", content="keep me"))
        mgr.append(s.id, Message(role="assistant", content="ok"))
        assert (mgr.get(s.id).name, len(mgr.get(s.id).history)) == ("keep me", 2)
    assert any("quota" in w for w in seen)
