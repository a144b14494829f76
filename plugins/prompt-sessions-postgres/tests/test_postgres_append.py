"""Append in one statement: the summary the server computes is the model's, and every case the
statement leaves alone is handled step by step, with the same errors as before."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pg_support import open_manager, schema_for, write_config

from prompt_sessions import Message
from prompt_sessions.errors import CorruptSession
from prompt_sessions.models import Usage, summarize


def test_summary_after_appends_equals_the_models(tmp_path: Path, pg_dsn: str) -> None:
    """Appends with token usage, long and empty texts, and a NUL character: each returned
    summary, and the listed one, equal the summary the model computes from the history."""
    root = write_config(tmp_path / "env", pg_dsn)
    messages = [
        Message(role="user", content="short"),
        Message(
            role="assistant",
            content="word " * 200 + "end",
            usage=Usage(input_tokens=12, output_tokens=30),
        ),
        Message(role="user", content=""),
        Message(role="tool", content="nul \x00 inside", usage=Usage(output_tokens=5)),
        Message(role="assistant", content="after the nul", usage=Usage(input_tokens=3)),
    ]
    with open_manager(root) as mgr:
        sid = mgr.create("coordinator", "Counting").id
        for message in messages:
            returned = mgr.backend.append(sid, message)
            assert returned == summarize(mgr.get(sid))
        session = mgr.get(sid)
        assert [m.content for m in session.history] == [m.content for m in messages]
        assert mgr.list() == [summarize(session)]
        assert (session.summary().input_tokens, session.summary().output_tokens) == (15, 35)


def test_a_damaged_summary_refuses_the_append_and_writes_nothing(
    tmp_path: Path, pg_dsn: str
) -> None:
    """A summary whose message count is not a number (edited with SQL): the append fails with
    CorruptSession naming the session, and no message row is added."""
    root = write_config(tmp_path / "env", pg_dsn)
    schema = schema_for(root)
    with open_manager(root) as mgr:
        sid = mgr.create("coordinator", "Damaged").id
        mgr.append(sid, Message(role="user", content="one"))
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(
                f'UPDATE "{schema}".sessions '
                "SET summary = json_build_object('id', id, 'message_count', 'many') WHERE id = %s",
                (sid,),
            )
        with pytest.raises(CorruptSession, match=sid):
            mgr.append(sid, Message(role="user", content="two"))
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            (count,) = conn.execute(
                f'SELECT count(*) FROM "{schema}".messages WHERE session_id = %s', (sid,)
            ).fetchone()
        assert count == 1
