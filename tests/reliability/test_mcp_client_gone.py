"""An MCP client that goes away while ``send_message`` runs (DESIGN section 15).

The server finds its output closed when it answers. It keeps what it stored (the user's
message, the reply as far as it got, marked incomplete), frees the session for the next
sender, and ends as quietly as when a client leaves between calls: exit 0, no "unexpected"
error and no traceback on stderr.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from mcp_raw_client import initialized

from prompt_sessions import SessionManager
from prompt_sessions.plugins import PluginHost

WORDS = " ".join(["word"] * 400)


def _history(store: Path) -> list[dict]:
    folder = store / "sessions"
    for path in folder.glob("*.json") if folder.exists() else []:
        if path.name != "index.json":
            try:
                return json.loads(path.read_text(encoding="utf-8"))["history"]
            except ValueError:
                return []  # caught between two writes: asked again
    return []


def test_a_client_gone_mid_reply_ends_the_server_quietly(tmp_path: Path) -> None:
    """The client closes both pipes while the reply streams: the server exits 0 without an
    error, the user's message and the partial reply (incomplete) are kept, and the next send
    into the session is served."""
    store = tmp_path / ".prompt_objects"
    (store / "objects").mkdir(parents=True, mode=0o700)
    store.chmod(0o700)
    po = store / "objects" / "coordinator.md"
    po.write_text("---\nname: coordinator\n---\nYou plan.\n")
    config = store / "config.toml"
    config.write_text("[responders.echo]\nchunk_delay_ms = 200\n")
    for path in (po, config):
        path.chmod(0o600)
    errors = tmp_path / "server-stderr.txt"
    with errors.open("wb") as stderr:
        client = initialized(store, stderr)
        client.write(
            '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"send_message",'
            f'"arguments":{{"po":"coordinator","message":"{WORDS}"}}}}}}'
        )
        deadline = time.monotonic() + 30
        while not any(m["role"] == "assistant" for m in _history(store)):
            assert time.monotonic() < deadline, "the reply never started"
            time.sleep(0.05)
        assert client.proc.stdin is not None and client.proc.stdout is not None
        client.proc.stdout.close()  # gone: the answer meets a closed pipe
        client.proc.stdin.close()
        code = client.proc.wait(timeout=60)
    said = errors.read_text(errors="replace")
    assert code == 0, said
    assert "unexpected" not in said and "Traceback" not in said, said
    history = _history(store)
    assert history[0] == history[0] | {"role": "user", "content": WORDS}
    assert history[-1]["role"] == "assistant"
    config.write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    mgr = SessionManager.open(store, host=PluginHost.create(entry_points=False))
    try:
        assert mgr.check().healthy
    finally:
        mgr.close()
    again = initialized(store)
    try:
        answer = again.call("send_message", '{"po":"coordinator","message":"after"}')
        assert answer["result"]["isError"] is False, answer
    finally:
        again.close()
    assert [m["content"] for m in _history(store)][-2:] == ["after", "You said: after"]
