"""A lone UTF-16 surrogate escape (``"\\ud800"``) in a JSON import is legal JSON but no
character: every importer keeps the text with U+FFFD in its place and imports the rest of the
conversation (DESIGN section 16), whether the JSON is the whole file, a line of JSON Lines, a
JSON text inside a field, a JSON block of a Markdown export or a JSON column of a database."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cli_runner import Run
from prompt_sessions.importers.common import decode_json, json_lines, load_json, mended_json
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Session

DATA = Path(__file__).parent / "data" / "import"
LONE = "bad \ud800 here"  # what a writer that escapes every non-ASCII character writes as JSON
MENDED = "bad \ufffd here"


# ---------------------------------------------------------------- the shared helper


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (rb'"a\ud800b"', rb'"a\ufffdb"'),  # a high one alone
        (rb'"a\udc00b"', rb'"a\ufffdb"'),  # a low one alone
        (rb'"\uDBFF"', rb'"\ufffd"'),  # upper-case hex
        (rb'"\ud83d\ude00"', rb'"\ud83d\ude00"'),  # a pair is one character: kept
        (rb'"\ud800\ud83d\ude00"', rb'"\ufffd\ud83d\ude00"'),  # a lone one, then a pair
        (rb'"\ude00\ud83d"', rb'"\ufffd\ufffd"'),  # low before high: no pair
        (rb'"\\ud800"', rb'"\\ud800"'),  # an escaped backslash, then text: not an escape
        (rb'"\\\ud800"', rb'"\\\ufffd"'),  # an escaped backslash, then a lone escape
        (rb'"\u00e9\n"', rb'"\u00e9\n"'),  # other escapes untouched
    ],
)
def test_mended_json_replaces_only_lone_surrogate_escapes(given: bytes, expected: bytes) -> None:
    """Lone escapes become \\ufffd; pairs, escaped backslashes and other escapes stay byte for
    byte, as bytes and as text, and the result decodes to the same text the standard library
    reads with U+FFFD in place of each lone surrogate."""
    assert mended_json(given) == expected
    assert mended_json(given.decode()) == expected.decode()
    assert msgspec.json.decode(mended_json(given)) == re.sub(
        "[\ud800-\udfff]", "\ufffd", json.loads(given)
    )


def test_the_shared_readers_mend_lone_surrogates() -> None:
    """load_json, json_lines and decode_json (a JSON column) all read a lone surrogate escape as
    U+FFFD instead of refusing the document, the line or the column."""
    doc = json.dumps({"content": LONE}).encode()
    assert b"\\ud800" in doc
    assert load_json(doc) == {"content": MENDED}
    lines = list(json_lines(doc + b"\n" + json.dumps({"n": 2}).encode()))
    assert lines == [(1, {"content": MENDED}), (2, {"n": 2})]
    assert decode_json(doc.decode()) == {"content": MENDED}


# ---------------------------------------------------------------- every JSON importer, end to end


def poisoned(value: Any, key: str) -> bool:
    """Put the lone surrogate at the start of the first non-empty ``key`` text in ``value``
    (in place); whether one was found."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key and isinstance(v, str) and v.strip():
                value[k] = LONE + " " + v
                return True
            if poisoned(v, key):
                return True
    elif isinstance(value, list):
        return any(poisoned(item, key) for item in value)
    return False


def write_poisoned(source: Path, target: Path, key: str) -> Path:
    """``source`` written to ``target`` by Python's json (which escapes a lone surrogate as
    ``\\ud800``) with the lone surrogate in the first ``key`` text; JSON Lines line by line."""
    if source.suffix == ".jsonl":
        values = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
        assert any(poisoned(v, key) for v in values)
        target.write_text("\n".join(json.dumps(v) for v in values) + "\n")
    else:
        value = json.loads(source.read_text())
        assert poisoned(value, key)
        target.write_text(json.dumps(value))
    assert "\\ud800" in target.read_text()
    return target


def session_file() -> dict[str, Any]:
    return {
        "id": "0b6e3c1e-2f4a-4d5b-9c8d-7e6f5a4b3c2d",
        "name": "Kept",
        "po_name": "po",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:01Z",
        "history": [
            {"role": "user", "content": "first", "created_at": "2025-01-01T00:00:00Z"},
            {"role": "assistant", "content": "second", "created_at": "2025-01-01T00:00:01Z"},
        ],
    }


GEMINI = DATA / "gemini-cli" / "tmp" / "4f2a9c"
CASES: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "json": (
        "json",
        lambda d: write_poisoned(
            _written(d / "orig.json", session_file()), d / "s.json", "content"
        ),
    ),
    "claude-code": (
        "claude-code",
        lambda d: write_poisoned(
            DATA / "claude-code/-home-ana-garden/9c3d2a1b-7e6f-4a5b-8c9d-0e1f2a3b4c5d.jsonl",
            d / "9c3d2a1b-7e6f-4a5b-8c9d-0e1f2a3b4c5d.jsonl",
            "content",
        ),
    ),
    "codex": (
        "codex",
        lambda d: write_poisoned(
            DATA / "codex/rollout-2025-05-02-5f2a9c1e-3b4d-4e6f-9a8b-7c6d5e4f3a2b.jsonl",
            d / "rollout-2025-05-02-5f2a9c1e-3b4d-4e6f-9a8b-7c6d5e4f3a2b.jsonl",
            "text",
        ),
    ),
    "gemini-cli saved chat": (
        "gemini-cli",
        lambda d: write_poisoned(
            GEMINI / "checkpoint-docs-tour.json", d / "checkpoint-docs-tour.json", "text"
        ),
    ),
    "gemini-cli recorded session": (
        "gemini-cli",
        lambda d: write_poisoned(
            next((GEMINI / "chats").glob("session-*.json")), d / "session-x.json", "content"
        ),
    ),
    "open-webui": (
        "open-webui",
        lambda d: write_poisoned(
            DATA / "open-webui/chat-export-current.json", d / "export.json", "content"
        ),
    ),
}


def _written(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def _stored(open_manager: Callable[[], SessionManager]) -> list[Session]:
    manager = open_manager()
    return sorted(
        (manager.get(s.id) for s in manager.list()), key=lambda s: s.metadata["import"]["source_id"]
    )


def _summaries(out: str) -> list[dict[str, Any]]:
    """Summaries without the new ids (a dry run's are not the ones written)."""
    return [{k: v for k, v in s.items() if k not in ("id", "parent_id")} for s in json.loads(out)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_json_importer_keeps_a_lone_surrogate_as_fffd(
    case: str, run: Run, tmp_path: Path, open_manager: Callable[[], SessionManager]
) -> None:
    """Each importer that reads JSON imports a file holding a lone surrogate escape whole, with
    U+FFFD in its place and nothing skipped: the same sessions and messages as the file without
    it, and --dry-run --json says exactly what the import then does."""
    format, make = CASES[case]
    work = tmp_path / "in"
    work.mkdir()
    path = make(work)
    # The same file without the lone surrogate: what the import must match, warnings included
    # (a fixture may hold an entry skipped for another reason).
    plain = tmp_path / "plain" / path.name
    plain.parent.mkdir()
    plain.write_text(path.read_text().replace("\\ud800", "x"))
    code, baseline, expected_err = run(
        "import", "--format", format, str(plain), "--dry-run", "--json"
    )
    assert code == 0, expected_err

    code, dry, err = run("import", "--format", format, str(path), "--dry-run", "--json")
    assert (code, err) == (0, expected_err.replace(str(plain), str(path)))
    assert _stored(open_manager) == []  # a dry run writes nothing
    code, out, err = run("import", "--format", format, str(path), "--json")
    assert (code, err) == (0, expected_err.replace(str(plain), str(path)))
    assert _summaries(dry) == _summaries(out)
    assert [s["message_count"] for s in json.loads(out)] == [
        s["message_count"] for s in json.loads(baseline)
    ]
    texts = [m.content for s in _stored(open_manager) for m in s.history]
    assert any(t.startswith(MENDED) for t in texts), texts
    assert not any("\ud800" in t for t in texts)


def test_markdown_json_blocks_mend_but_message_text_is_kept_as_written(
    run: Run, tmp_path: Path, open_manager: Callable[[], SessionManager]
) -> None:
    """In a Markdown export, a tool call's JSON block holding a lone surrogate escape reads with
    U+FFFD (the session is not lost to the store's UTF-8 check); a message whose text spells
    ``\\ud800`` is plain text, not JSON, and comes back exactly as written."""
    code, _, err = run("new", "po", "--name", "Tools")
    assert code == 0, err
    manager = open_manager()
    (session,) = manager.list()
    from prompt_sessions.models import Message

    manager.append(session.id, Message(role="user", content=r"the escape \ud800 in JSON"))
    manager.append(
        session.id,
        Message(
            role="assistant",
            content="",
            tool_calls=[{"id": "c1", "name": "look", "arguments": {"q": "x"}}],
        ),
    )
    code, exported, err = run("export", session.id, "--format", "markdown")
    assert code == 0, err
    assert '"q": "x"' in exported
    path = tmp_path / "s.md"
    path.write_text(exported.replace('"q": "x"', '"q": "bad \\ud800 here"'))
    code, dry, err = run("import", str(path), "--as-new", "--dry-run", "--json")
    assert (code, err) == (0, "")
    code, out, err = run("import", str(path), "--as-new", "--json")
    assert (code, err) == (0, "")
    assert _summaries(dry) == _summaries(out)
    copy = manager.get(json.loads(out)[0]["id"])
    assert copy.history[0].content == r"the escape \ud800 in JSON"
    assert copy.history[1].tool_calls == [{"id": "c1", "name": "look", "arguments": {"q": MENDED}}]


def test_codex_arguments_given_as_json_text_mend(tmp_path: Path) -> None:
    """Codex writes a function call's arguments as a JSON text inside the line: a lone
    surrogate escape there reads as U+FFFD and the arguments are kept as data, not a raw text."""
    from prompt_sessions.importers.codex import CodexImporter

    arguments = json.dumps({"path": LONE})
    lines = [
        {"timestamp": "2025-05-02T10:00:00Z", "type": "session_meta", "payload": {"id": "s1"}},
        {
            "timestamp": "2025-05-02T10:00:01Z",
            "type": "response_item",
            "payload": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "read it"}],
            },
        },
        {
            "timestamp": "2025-05-02T10:00:02Z",
            "type": "response_item",
            "payload": {
                "type": "function_call",
                "name": "read",
                "arguments": arguments,
                "call_id": "c1",
            },
        },
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    (session,) = CodexImporter().load(data, str(tmp_path / "rollout-x.jsonl"))
    calls = [c for m in session.history for c in m.tool_calls or []]
    assert calls and calls[0]["arguments"] == {"path": MENDED}


def test_llm_tool_call_arguments_column_mends(tmp_path: Path) -> None:
    """llm's tool_calls.arguments column is JSON text: a lone surrogate escape there reads as
    U+FFFD instead of the arguments being dropped."""
    from test_import_llm import current_db

    from prompt_sessions.importers.llm_logs import LlmImporter

    db = current_db(tmp_path / "logs.db")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE tool_calls SET arguments = ?", (json.dumps({"minutes": LONE}),))
    conn.commit()
    conn.close()
    sessions = [s for s in LlmImporter().load(db.read_bytes(), None) if isinstance(s, Session)]
    calls = [c for s in sessions for m in s.history for c in m.tool_calls or []]
    assert calls and calls[0]["arguments"] == {"minutes": MENDED}


# ---------------------------------------------------------------- SQLite sources


def _set_raw_text(db: Path, sql: str, raw: bytes) -> None:
    """Store ``raw`` (bytes that are not UTF-8) as a text value, as a careless writer does."""
    conn = sqlite3.connect(db)
    conn.execute(sql, (raw,))
    conn.commit()
    conn.close()


def test_an_llm_database_with_a_lone_surrogate_in_a_text_column_imports_whole(
    run: Run, tmp_path: Path, open_manager: Callable[[], SessionManager]
) -> None:
    """A lone surrogate stored in UTF-8's form (ED A0 80) reads as one U+FFFD and a stray
    byte as another, instead of the whole database being refused; the other rows and
    conversations are imported, and --dry-run --json says what the import then does."""
    from test_import_llm import current_db

    db = current_db(tmp_path / "logs.db")
    _set_raw_text(
        db,
        "UPDATE responses SET response = CAST(? AS TEXT) WHERE id = '01jx0r1'",
        b"a\xed\xa0\x80b",
    )
    _set_raw_text(
        db, "UPDATE responses SET prompt = CAST(? AS TEXT) WHERE id = '01jx0r4'", b"herb\xff?"
    )
    code, dry, err = run("import", "--format", "llm", str(db), "--dry-run", "--json")
    assert (code, err) == (0, "")
    code, out, err = run("import", "--format", "llm", str(db), "--json")
    assert (code, err) == (0, "")
    assert _summaries(dry) == _summaries(out)
    texts = [m.content for s in _stored(open_manager) for m in s.history]
    assert "a\ufffdb" in texts and "herb\ufffd?" in texts
    assert len(json.loads(out)) == 2


def test_a_prompt_objects_database_with_a_lone_surrogate_imports_whole(tmp_path: Path) -> None:
    """The same for the Ruby Prompt Objects' sessions.db: the message keeps its text with
    U+FFFD, every session is imported."""
    from test_import_prompt_objects import v4_db

    from prompt_sessions.importers.prompt_objects import PromptObjectsImporter

    db = v4_db(tmp_path / "sessions.db")
    _set_raw_text(
        db, "UPDATE messages SET content = CAST(? AS TEXT) WHERE id = 1", b"Plan \xed\xb0\x80 trip"
    )
    found = list(PromptObjectsImporter().load(db.read_bytes(), None))
    assert [type(s) for s in found] == [Session, Session]
    assert found[0].history[0].content == "Plan \ufffd trip"


def test_the_python_api_given_text_with_a_lone_surrogate_imports_it(
    manager: SessionManager,
) -> None:
    """manager.import_session given text (not bytes) holding a lone surrogate character keeps
    the message with U+FFFD in its place, as a file's escape reads, instead of raising
    UnicodeEncodeError."""
    doc = session_file()
    doc["history"][0]["content"] = LONE
    given = json.dumps(doc, ensure_ascii=False)
    assert "\ud800" in given
    session = manager.import_session(given)
    assert [m.content for m in session.history] == [MENDED, "second"]
