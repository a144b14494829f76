"""The llm responder against a model server that misbehaves: a real local OpenAI-compatible
server (``fake_openai.py``) that cuts connections, sends broken data or odd tool calls, and
``prompt-sessions send`` in its own process. Every case ends in one clear line or a stored
reply, never a traceback, and leaves the session able to answer again."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import prompt_sessions_llm
import pytest
from llm_support import write_po

from prompt_sessions.context import AppContext
from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost
from prompt_sessions.reply import run_reply

CLI = shutil.which("prompt-sessions", path=os.path.dirname(sys.executable)) or "prompt-sessions"
FAST = "[runtime]\nretry_base_ms = 1\n"
ONE_RETRY = "[runtime]\nretry_base_ms = 1\nretry_attempts = 1\n"
# how the one-line error names a setting and where it was read
IN_FRONT = "Error: setting '%s' in objects/coordinator.md front matter"
IN_CONFIG = "Error: setting '%s' in config.toml [responders.llm]"


def send(store: Path, po: str, message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "--dir", str(store), "send", po, message],
        capture_output=True,
        text=True,
        timeout=120,
    )


def history(store: Path, po: str) -> list[tuple[str, str, bool]]:
    """(role, content, incomplete) of each message of the PO's newest session."""
    with SessionManager.open(store, host=PluginHost.create(entry_points=False)) as mgr:
        summary = next(s for s in mgr.list() if s.po_name == po)
        return [(m.role, m.content, bool(m.incomplete)) for m in mgr.get(summary.id).history]


def reply_again(store: Path, po: str) -> str:
    """Run the reply of the PO's newest session in-process, as ctrl+r in the TUI does."""
    host = PluginHost.create(entry_points=False, plugins=[prompt_sessions_llm])
    ctx = AppContext.open(store, host=host)
    try:
        sid = next(s for s in ctx.manager.list() if s.po_name == po).id
        return asyncio.run(run_reply(ctx, sid)).content
    finally:
        ctx.manager.close()


def start_send(store: Path, po: str, message: str) -> subprocess.Popen[str]:
    """``send`` started in its own process (text pipes), for a test that signals it."""
    return subprocess.Popen(
        [CLI, "--dir", str(store), "send", po, message],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """The store's folder (made by the first PO written into it)."""
    return tmp_path / ".prompt_objects"


def with_backend(backend: str) -> str:
    """config.toml: the storage ``backend`` (json or sqlite) and fast retries."""
    return f'[storage]\nbackend = "{backend}"\n{FAST}'


def llm_coordinator(store: Path, front: str = "model: local\n", config: str | None = FAST) -> None:
    """PO ``coordinator`` answered by llm (``front``: its other front matter lines) and
    config.toml holding ``config`` (None: no config.toml)."""
    write_po(store, "coordinator", f"responder: llm\n{front}")
    if config is not None:
        (store / "config.toml").write_text(config)


def delegating_pos(store: Path, config: str = FAST) -> None:
    """``coordinator`` may call ``researcher``; both are answered by llm's model ``local``."""
    llm_coordinator(store, "model: local\ncapabilities: [researcher]\n", config)
    write_po(store, "researcher", "description: Finds\nresponder: llm\nmodel: local\n")


def assert_answered(done: subprocess.CompletedProcess[str], stdout: str) -> None:
    """``send`` succeeded (exit 0) and printed ``stdout``."""
    assert done.returncode == 0, done.stderr
    assert done.stdout == stdout


def assert_one_line(done: subprocess.CompletedProcess[str], start: str) -> None:
    """``send`` failed (exit 1) saying one line on stderr, beginning with ``start``."""
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(start), done.stderr


def assert_last_line(done: subprocess.CompletedProcess[str], start: str) -> str:
    """``send`` failed (exit 1) with a last stderr line beginning with ``start``; that line."""
    assert done.returncode == 1
    last = done.stderr.splitlines()[-1]
    assert last.startswith(start), last
    return last


def assert_store_sound(store: Path) -> None:
    """``doctor`` finds nothing wrong with the store."""
    doctor = subprocess.run(
        [CLI, "--dir", str(store), "doctor"], capture_output=True, text=True, timeout=60
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_a_failure_after_the_tool_results_can_be_answered_again(store, local_server, backend):
    """The model's request after a delegation fails for good: one line, the call and its
    result stay stored, and replying again goes on from the tool results (as the error line
    promises) instead of refusing the session as answered."""
    server = local_server(
        script=[
            {"tool_calls": [{"name": "researcher", "arguments": {"message": "tides"}}]},
            {"text": "high at noon"},
            {"status": 400},
        ]
    )
    delegating_pos(store, with_backend(backend))
    done = send(store, "coordinator", "when is high tide")
    assert_last_line(done, "Error: model 'local': BadRequestError")
    assert "without a reply" in done.stderr
    assert [m[0] for m in history(store, "coordinator")] == ["user", "assistant", "tool"]
    assert (store / "sessions.sqlite3").exists() == (backend == "sqlite")
    assert reply_again(store, "coordinator") == "Done: high at noon"
    assert server.requests()[-1]["messages"][-1] == {
        "role": "tool",
        "content": "high at noon",
        "tool_call_id": "call_1_0",
    }
    assert [m[0] for m in history(store, "coordinator")] == [
        "user",
        "assistant",
        "tool",
        "assistant",
    ]


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_ctrl_c_during_a_delegation_leaves_a_turn_that_answers_again(store, local_server, backend):
    """SIGINT to `send` while the delegate streams: exit 130, the delegate's text is kept as
    incomplete, the store is sound, and replying again answers the person's message (the call
    left without a result is not sent to the model)."""
    server = local_server(delay_ms=300)
    delegating_pos(store, with_backend(backend))
    process = start_send(store, "coordinator", "one two three four five six")
    deadline = time.monotonic() + 60
    while len(server.requests()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # a few words of the delegate's reply arrive (one every 0.3 s)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert history(store, "coordinator")[-1][0] == "assistant"
    researcher = history(store, "researcher")
    assert researcher[-1][0] == "assistant" and researcher[-1][2] is True
    assert_store_sound(store)
    asked = len(server.requests())
    reply_again(store, "coordinator")
    retried = server.requests()[asked]["messages"]
    assert retried[-1] == {"role": "user", "content": "one two three four five six"}


def test_tool_arguments_that_are_not_an_object_go_back_to_the_model(store, local_server):
    """A model that calls a tool with a JSON list for arguments: the tool refuses it to the
    model as a tool error, and the reply goes on (it used to fail with a TypeError)."""
    local_server(script=[{"tool_calls": [{"name": "researcher", "raw_arguments": "[1, 2]"}]}])
    delegating_pos(store)
    done = send(store, "coordinator", "go")
    assert_answered(done, "Done: Error: researcher needs a non-empty 'message'\n")
    with SessionManager.open(store, host=PluginHost.create(entry_points=False)) as mgr:
        sid = next(s for s in mgr.list() if s.po_name == "coordinator").id
        (call,) = mgr.get(sid).history[1].tool_calls or []
    assert call["arguments"] == {"input": [1, 2]}


def test_data_that_is_not_json_is_one_line_naming_it(store, local_server):
    """A stream event that is not JSON, and a tool call whose arguments are not JSON: each is
    one line saying the server sent data that is not valid JSON; the message is kept and the
    next send is answered."""
    local_server(
        script=[
            {"raw": "data: {not json}\n\n"},
            {"tool_calls": [{"name": "researcher", "raw_arguments": "{not json"}]},
        ]
    )
    delegating_pos(store)
    for _ in range(2):
        assert_one_line(
            send(store, "coordinator", "go"),
            "Error: model 'local': the server sent data that is not valid JSON (Expecting",
        )
    assert send(store, "coordinator", "hello").returncode == 0
    stored = history(store, "coordinator")
    assert [m[1] for m in stored if m[0] == "user"] == ["go", "go", "hello"]
    assert stored[-1][0] == "assistant" and not stored[-1][2]


def assert_nothing_sent_or_stored(server, store: Path) -> None:
    """No request reached the server and the store holds no session."""
    assert server.requests() == []
    if (store / "sessions").exists():
        with SessionManager.open(store, host=PluginHost.create(entry_points=False)) as mgr:
            assert mgr.list() == []


@pytest.mark.parametrize(
    ("front", "start"),
    [
        ("chain_limit: ten\n", f"{IN_FRONT % 'chain_limit'} must be a whole number of tool rounds"),
        ("chain_limit: -1\n", f"{IN_FRONT % 'chain_limit'} must be a whole number of tool rounds"),
        ("log: maybe\n", f"{IN_FRONT % 'log'} must be true or false, not 'maybe'"),
        ("model: 5\n", f"{IN_FRONT % 'model'} must be a model id, not 5"),
        (
            "timeout: soon\n",
            f"{IN_FRONT % 'timeout'} must be a number of seconds above 0, not 'soon'",
        ),
        ("options: loud\n", f"{IN_FRONT % 'options'} must be a table of option names and values"),
        (
            "options:\n  temperature: hot\n",
            "Error: model 'local': invalid options: temperature: Input should be a valid number",
        ),
        ("options:\n  colour: blue\n", "Error: model 'local': invalid options: colour"),
    ],
    ids=[
        "limit-text",
        "limit-negative",
        "log-text",
        "model-number",
        "timeout-text",
        "options-text",
        "option-value",
        "option-name",
    ],
)
def test_a_setting_of_the_wrong_type_is_one_line_before_anything_is_stored(
    store, local_server, front, start
):
    """A PO's llm settings or model options of the wrong type or name: one line naming the
    setting and the PO file whose front matter holds it, exit 1, no traceback, no request sent
    and no message stored."""
    server = local_server()
    model = "" if front.startswith("model:") else "model: local\n"
    llm_coordinator(store, f"{model}{front}", config=None)
    assert_one_line(send(store, "coordinator", "hi"), start)
    assert_nothing_sent_or_stored(server, store)


@pytest.mark.parametrize(
    ("table", "start"),
    [
        ('chain_limit = "ten"\n', f"{IN_CONFIG % 'chain_limit'} must be a whole number of tool"),
        ('log = "maybe"\n', f"{IN_CONFIG % 'log'} must be true or false, not 'maybe'"),
        ("model = 5\n", f"{IN_CONFIG % 'model'} must be a model id, not 5"),
        ('timeout = "soon"\n', f"{IN_CONFIG % 'timeout'} must be a number of seconds above 0"),
        ('options = "loud"\n', f"{IN_CONFIG % 'options'} must be a table of option names"),
    ],
    ids=["limit-text", "log-text", "model-number", "timeout-text", "options-text"],
)
def test_a_bad_setting_in_config_is_named_with_its_place(store, local_server, table, start):
    """The same settings of the wrong type in config.toml's ``[responders.llm]``: the one line
    says the setting is there, not in the PO's file; nothing is sent or stored."""
    server = local_server()
    model = "" if "model" in table else "model: local\n"
    llm_coordinator(store, model, f"{FAST}\n[responders.llm]\n{table}")
    assert_one_line(send(store, "coordinator", "hi"), start)
    assert_nothing_sent_or_stored(server, store)


def test_a_setting_in_front_matter_is_named_there_even_when_config_has_it_too(store, local_server):
    """A bad ``timeout`` in the PO's front matter over a good one in config.toml: the error
    names the front matter, where the value that counts came from."""
    local_server()
    llm_coordinator(
        store, "model: local\ntimeout: soon\n", f"{FAST}\n[responders.llm]\ntimeout = 30\n"
    )
    assert_one_line(send(store, "coordinator", "hi"), f"{IN_FRONT % 'timeout'} must be a number")


def test_a_model_that_calls_tools_forever_stops_at_the_chain_limit(store, local_server):
    """A model that answers every tool result with another call: the reply stops after
    ``chain_limit`` rounds with one line, the rounds made are stored, and the next send works."""
    server = local_server(
        script=[{"tool_calls": [{"name": "researcher", "arguments": {"message": "again"}}]}] * 3
    )
    llm_coordinator(store, "model: local\ncapabilities: [researcher]\nchain_limit: 2\n")
    write_po(store, "researcher", "description: Finds\n")  # echo answers, not the server
    done = send(store, "coordinator", "loop")
    assert_last_line(done, "Error: more than 2 rounds of tool calls in one reply")
    assert len(server.requests()) == 3
    assert [m[0] for m in history(store, "coordinator")] == ["user"] + ["assistant", "tool"] * 3
    again = send(store, "coordinator", "stop now")
    assert again.returncode == 0, again.stderr


def test_a_server_that_stalls_is_given_up_on_and_retried(store, local_server):
    """A server that takes the request and then says nothing: after the PO's ``timeout`` the
    attempt is dropped as transient and retried; the retry's reply is stored once. The
    timeout leaves the retry, answered at once, room on a loaded machine."""
    server = local_server(script=[{"stall": 12}])
    llm_coordinator(store, "model: local\ntimeout: 2\n")
    done = send(store, "coordinator", "are you there")
    assert_answered(done, "local-model heard: are you there\n")
    assert done.stderr == "(retry 1 after a transient error)\n"
    assert len(server.requests()) == 2
    assert history(store, "coordinator") == [
        ("user", "are you there", False),
        ("assistant", "local-model heard: are you there", False),
    ]


def test_a_server_that_always_stalls_ends_in_one_line_naming_the_setting(store, local_server):
    """Every attempt stalls: once the retries are used up, `send` ends with one line naming
    the wait and the `timeout` setting; the message is kept for a later reply."""
    local_server(script=[{"stall": 8}] * 3)
    llm_coordinator(store, "model: local\ntimeout: 0.5\n", ONE_RETRY)
    done = send(store, "coordinator", "hello")
    last = assert_last_line(done, "Error: model 'local': nothing came from the model for 0.5 s")
    assert "`timeout`" in last and "without a reply" in last
    assert history(store, "coordinator") == [("user", "hello", False)]


@pytest.mark.parametrize(
    "answer",
    [{"text": ""}, {"raw": "<html>502 Bad Gateway</html>\n"}],
    ids=["empty-stream", "not-an-event-stream"],
)
def test_an_empty_reply_is_an_error_not_a_blank_message(store, local_server, answer):
    """A stream with no text and no tool calls (or a body that is no event stream at all) is
    one line saying the reply was empty; no blank reply is stored, the message waits for one."""
    local_server(script=[answer])
    llm_coordinator(store)
    assert_one_line(send(store, "coordinator", "hello"), "Error: model 'local' sent an empty reply")
    assert history(store, "coordinator") == [("user", "hello", False)]
    assert reply_again(store, "coordinator") == "local-model heard: hello"


def test_an_unreachable_server_is_one_line_naming_its_address(store, llm_home):
    """A model whose api_base nobody listens on: retried as transient, then one line that
    names the address asked, so a wrong ``api_base`` is found; the message is kept."""
    with socket.socket() as probe:  # a port free now, and closed: nobody listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (llm_home / "extra-openai-models.yaml").write_text(
        f"- model_id: local\n  model_name: local-model\n  api_base: http://127.0.0.1:{port}/v1\n"
    )
    llm_coordinator(store, config=ONE_RETRY)
    done = send(store, "coordinator", "hello")
    last = assert_last_line(done, "Error: model 'local': APIConnectionError: Connection error")
    assert f"(http://127.0.0.1:{port}/v1/chat/completions)" in last
    assert history(store, "coordinator") == [("user", "hello", False)]


def test_a_servers_or_models_control_characters_never_reach_the_terminal(store, local_server):
    """A model that delegates a message holding terminal escapes and line breaks, and a
    server whose error message holds them: `send` shows them as visible escapes on one line
    each, never as controls the terminal would obey."""
    local_server(
        script=[
            {
                "tool_calls": [
                    {"name": "researcher", "arguments": {"message": "hi\x1b]0;pwned\x07\nnext"}}
                ]
            },
            {"text": "done"},
            {"status": 400, "body": '{"error": {"message": "bad\\u001b[2J\\u009b thing"}}'},
        ]
    )
    llm_coordinator(store, "model: local\ncapabilities: [researcher]\n")
    write_po(store, "researcher", "description: Finds\n")  # echo answers
    first = send(store, "coordinator", "go")
    assert first.returncode == 0, first.stderr
    assert first.stderr == "-> researcher: hi\\x1b]0;pwned\\x07\\nnext\n"
    second = send(store, "coordinator", "again")
    assert second.returncode == 1
    assert "\x1b" not in second.stderr and "\x9b" not in second.stderr
    assert "400 - bad\\x1b[2J\\x9b thing" in second.stderr


def test_a_connection_cut_mid_stream_is_retried_and_stored_once(store, local_server):
    """The server closes the connection after two words (the body promised more): the cut is
    transient, the retry's whole reply is stored once, and stdout shows the cut text apart."""
    server = local_server(script=[{"text": "one two three four", "drop_after": 2}])
    llm_coordinator(store)
    done = send(store, "coordinator", "count")
    assert_answered(done, "one two \nlocal-model heard: count\n")
    assert done.stderr == "(retry 1 after a transient error; the text above was cut short)\n"
    assert len(server.requests()) == 2
    assert history(store, "coordinator") == [
        ("user", "count", False),
        ("assistant", "local-model heard: count", False),
    ]


@pytest.mark.parametrize("body", [None, "", "not json at all"], ids=["none", "empty", "text"])
def test_a_rate_limit_without_a_json_body_is_retried(store, local_server, body):
    """429 with no body, an empty one or plain text is still a rate limit: retried."""
    server = local_server(script=[{"status": 429, "body": body}] * 3)
    llm_coordinator(store)
    assert_answered(send(store, "coordinator", "hello"), "local-model heard: hello\n")
    assert len(server.requests()) == 4


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_sigterm_mid_reply_keeps_the_text_that_arrived(store, local_server, backend):
    """SIGTERM to `send` while the reply streams (as `timeout` or a service manager sends it)
    stops the reply as Ctrl-C does: exit 143, "Terminated." on stderr, the text that arrived
    stored as incomplete, the store sound, and the next send answered."""
    local_server(delay_ms=300)
    llm_coordinator(store, config=with_backend(backend))
    process = start_send(store, "coordinator", "one two three four five six")
    assert process.stdout is not None
    first = process.stdout.read(len("local-model"))  # the reply has begun
    assert first == "local-model"
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err == "Terminated.\n"
    (user, reply) = history(store, "coordinator")
    assert user == ("user", "one two three four five six", False)
    assert reply[0] == "assistant" and reply[2] is True
    assert reply[1].startswith("local-model") and len(reply[1]) < len(
        "local-model heard: one two three four five six"
    )
    assert_store_sound(store)
    assert send(store, "coordinator", "again").returncode == 0


def test_a_silent_title_model_does_not_hold_the_reply(store, local_server):
    """``title_model`` on a server that stalls: the reply is stored and `send` ends (exit 0)
    once the title's wait runs out, with one warning; the session keeps its first-message
    name. It used to wait for the HTTP client's own ten minutes."""
    server = local_server(script=[{"text": "the reply"}, {"stall": 20}])
    llm_coordinator(store, config=f'{FAST}[responders.llm]\ntitle_model = "local"\ntimeout = 0.5\n')
    done = send(store, "coordinator", "plan the launch")
    assert_answered(done, "the reply\n")
    assert "title model 'local' gave no title within 0.5 s" in done.stderr
    assert len(server.requests()) == 2
    with SessionManager.open(store, host=PluginHost.create(entry_points=False)) as mgr:
        (summary,) = mgr.list()
    assert (summary.name, summary.message_count) == ("plan the launch", 2)


def test_a_logs_db_that_cannot_be_written_does_not_fail_the_reply(store, local_server, llm_home):
    """``log = true`` with llm's logs.db unwritable (a folder in its place): the reply is
    stored whole and `send` succeeds, with one warning that the log was not written. It used
    to fail the reply and keep its text as incomplete."""
    local_server()
    (llm_home / "logs.db").mkdir()
    llm_coordinator(store, config=f"{FAST}[responders.llm]\nlog = true\n")
    done = send(store, "coordinator", "hello")
    assert_answered(done, "local-model heard: hello\n")
    assert done.stderr.startswith("llm's logs.db was not written (OperationalError")
    assert done.stderr.count("\n") == 1
    assert history(store, "coordinator") == [
        ("user", "hello", False),
        ("assistant", "local-model heard: hello", False),
    ]
