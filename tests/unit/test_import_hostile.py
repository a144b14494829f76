"""Hostile input to every importer (DESIGN section 16): huge lines, deep nesting, bad UTF-8,
binary and truncated files each give one line per problem, never a traceback, and whatever is
imported reads back whole."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from cli_runner import Run

DATA = Path(__file__).parent / "data" / "import"
HUGE = 8 * 1024 * 1024


def _db(make: Callable[[Path], Path]) -> Callable[[Path], bytes]:
    def build(tmp: Path) -> bytes:
        path = tmp / f"{make.__name__}.db"
        path.unlink(missing_ok=True)
        return make(path).read_bytes()

    return build


def _llm(path: Path) -> Path:
    from test_import_llm import current_db

    return current_db(path)


def _prompt_objects(path: Path) -> Path:
    from test_import_prompt_objects import v4_db

    return v4_db(path)


def _file(relative: str) -> Callable[[Path], bytes]:
    return lambda tmp: next(DATA.glob(relative)).read_bytes()


def _markdown(tmp: Path) -> bytes:
    from test_import_markdown import session

    from prompt_sessions.default_plugins.exporters import MarkdownExporter
    from prompt_sessions.models import Message

    history = [Message(role="user", content="hi", created_at="2025-01-01T00:00:00Z")]
    return MarkdownExporter().export(session(history)).encode()


SAMPLES: dict[str, Callable[[Path], bytes]] = {
    "claude-code": _file("claude-code/*/5b1f*.jsonl"),
    "codex": _file("codex/2025/09/14/rollout-*.jsonl"),
    "gemini-cli": _file("gemini-cli/tmp/*/chats/session-*.json"),
    "open-webui": _file("open-webui/chat-export-current.json"),
    "markdown": _markdown,
    "llm": _db(_llm),
    "prompt-objects": _db(_prompt_objects),
}


def _huge_line(sample: bytes) -> bytes:
    return sample + b"\n" + b"x" * HUGE + b"\n"


def _deep(sample: bytes) -> bytes:
    return b"[" * 100_000 + b"]" * 100_000 + b"\n" + sample


def _bad_utf8(sample: bytes) -> bytes:
    middle = len(sample) // 2
    return sample[:middle] + b"\xff\xfe\xc3" + sample[middle:]


def _binary(sample: bytes) -> bytes:
    return random.Random(7).randbytes(64 * 1024)


def _truncated(sample: bytes) -> bytes:
    return sample[: len(sample) // 2]


MUTATIONS = {
    "huge line": _huge_line,
    "deep nesting": _deep,
    "bad utf-8": _bad_utf8,
    "binary": _binary,
    "truncated": _truncated,
}


def check_import(run: Run, path: Path, *fmt: str) -> tuple[int, str]:
    """Run the import; every stderr line is one Error or Warning line; what came in reads back."""
    code, out, err = run("import", str(path), *fmt)
    assert code in (0, 1), err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert all(line.startswith(("Error: ", "Warning: ")) for line in lines), err
    if code == 1:
        assert len([ln for ln in lines if ln.startswith("Error: ")]) == 1
    for summary in run.json("list", "--json"):
        shown = run.json("show", summary["id"], "--json")
        assert len(shown["history"]) == summary["message_count"]
    return code, out


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("fmt", list(SAMPLES))
def test_hostile_input_with_the_format_named(
    run: Run, tmp_path: Path, fmt: str, mutation: str
) -> None:
    """Each importer given each kind of hostile input, by name: one line per problem, exit 1
    when nothing could be read, and only whole sessions stored."""
    data = MUTATIONS[mutation](SAMPLES[fmt](tmp_path))
    path = tmp_path / f"hostile-{fmt}"
    path.write_bytes(data)
    code, out = check_import(run, path, "--format", fmt)
    if code == 1:
        assert out == "" and run.json("list", "--json") == []


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("fmt", list(SAMPLES))
def test_hostile_input_sniffed(run: Run, tmp_path: Path, fmt: str, mutation: str) -> None:
    """The same inputs without --format: recognised or not, the outcome is one line per
    problem and no broken session."""
    path = tmp_path / f"hostile-{fmt}"
    path.write_bytes(MUTATIONS[mutation](SAMPLES[fmt](tmp_path)))
    check_import(run, path)


def test_a_damaged_database_page_skips_only_what_it_holds(run: Run, tmp_path: Path) -> None:
    """An llm logs.db whose last pages are overwritten imports what can be read or refuses in
    one line."""
    data = bytearray(SAMPLES["llm"](tmp_path))
    data[-2048:] = b"\x00garbage" * 256
    path = tmp_path / "logs.db"
    path.write_bytes(bytes(data))
    check_import(run, path, "--format", "llm")


def test_a_database_with_a_wrong_column_type(run: Run, tmp_path: Path) -> None:
    """Values of unexpected types in a Ruby sessions.db (a number as content, bad JSON tool
    calls) do not stop the import."""
    db = _prompt_objects(tmp_path / "sessions.db")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE messages SET content = 42, tool_calls = '{not json' WHERE id = 1")
    conn.commit()
    conn.close()
    code, _ = check_import(run, db, "--format", "prompt-objects")
    assert code == 0


def test_each_sample_is_recognised_as_its_own_format(tmp_path: Path) -> None:
    """Sniffing picks the right importer for every format's sample, and none of the built-ins
    claims a ChatGPT export (its plugin's format)."""
    from prompt_sessions.manager import SessionManager
    from prompt_sessions.plugins import PluginHost

    chatgpt = (
        Path(__file__).parents[2] / "plugins/prompt-sessions-chatgpt/tests/data/conversations.json"
    ).read_bytes()
    host = PluginHost.create(entry_points=False)
    with SessionManager.open(tmp_path / ".po", host=host, config={}) as mgr:
        from prompt_sessions.importing import ImportRun

        run = ImportRun(mgr)
        for fmt, sample in SAMPLES.items():
            assert run.importer(sample(tmp_path), None, None).name == fmt
        claimed = [i.value.name for i in host.importers().values() if i.value.sniff(chatgpt, None)]
        assert claimed == []
