"""Tests for prompt-sessions-upper, using the fixtures prompt-sessions gives plugin authors."""

from prompt_sessions import Message

import prompt_sessions_upper


def test_exports_every_message_in_capitals(session_manager, registered_plugin):
    """The upper format writes the session name, then one ROLE: TEXT line per message."""
    session = session_manager.create("coordinator", name="Plan")
    session_manager.append(session.id, Message(role="user", content="hello there"))
    session_manager.append(session.id, Message(role="assistant", content="Hi!"))
    with registered_plugin(prompt_sessions_upper):
        text = session_manager.export(session.id, format="upper")
    assert text == "PLAN\n\nUSER: HELLO THERE\nASSISTANT: HI!\n"


def test_is_listed_as_a_format(session_manager, registered_plugin):
    """Once registered, upper is one of the export formats."""
    with registered_plugin(prompt_sessions_upper):
        assert "upper" in session_manager.formats()["export"]
