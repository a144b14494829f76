"""A small OpenAI-compatible chat completions server for tests, benchmarks and demos.

Run ``python fake_openai.py [--script FILE] [--log FILE] [--delay-ms N]``: it listens on
127.0.0.1 on a free port and prints ``PORT <n>`` on its first line. Every request body is
appended to the log file as one JSON line. Answers come from the script (a JSON list, served
in order: ``{"status": 429}``, ``{"text": "...", "usage": {...}}`` or
``{"tool_calls": [{"name": ..., "arguments": {...}}]}``) and, once it is used up, from a fixed
rule: offered tools and a last message from the user -> call the first tool with that text;
a last message that is a tool result -> "Done: <result>"; otherwise "<model> heard: <text>".
Replies stream as server-sent events, word by word, and end with a usage chunk.

Misbehaviour, for tests of failures: ``{"status": 500, "body": null}`` answers with no body
(``"body": "text"`` with that text instead of the JSON error); ``{"stall": 5}`` waits that many
seconds before answering; ``{"text": ..., "drop_after": 2}`` closes the connection after two
words; ``{"raw": "..."}`` sends that text as the event stream as it is; a tool call with
``"raw_arguments": "..."`` sends those arguments as they are instead of JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class State:
    def __init__(self, script: list[dict[str, Any]], log: Path | None, delay: float) -> None:
        self.script = script
        self.log = log
        self.delay = delay
        self.lock = threading.Lock()
        self.calls = 0

    def next(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls += 1
            if self.log is not None:
                with self.log.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(body) + "\n")
            if self.script:
                return self.script.pop(0)
        return rule(body)


def rule(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        return {"text": f"Done: {last.get('content', '')}"}
    text = last.get("content") if isinstance(last.get("content"), str) else ""
    tools = body.get("tools") or []
    if tools and last.get("role") == "user":
        name = tools[0]["function"]["name"]
        return {"tool_calls": [{"name": name, "arguments": {"message": text}}]}
    return {"text": f"{body.get('model')} heard: {text}"}


def usage(body: dict[str, Any], answer: dict[str, Any], words: int) -> dict[str, Any]:
    given = answer.get("usage")
    if given:
        return given
    prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages") or [])
    return {
        "prompt_tokens": prompt,
        "completion_tokens": words,
        "total_tokens": prompt + words,
        "prompt_tokens_details": {"cached_tokens": 2},
    }


def make_handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            answer = state.next(body)
            if answer.get("stall"):
                time.sleep(float(answer["stall"]))
            status = int(answer.get("status", 200))
            if status != 200:
                payload = json.dumps({"error": {"message": "slow down", "type": "rate"}}).encode()
                if "body" in answer:
                    payload = (answer["body"] or "").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("retry-after-ms", "1")
                self.end_headers()
                self.wfile.write(payload)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            if "drop_after" in answer:  # promise more than is sent: the client sees a cut
                self.send_header("Content-Length", "1000000")
            self.end_headers()
            model = body.get("model", "fake")
            words = 0
            if "raw" in answer:
                self.wfile.write(answer["raw"].encode())
                self.wfile.flush()
                self.close_connection = True
                return
            if "tool_calls" in answer:
                for n, call in enumerate(answer["tool_calls"]):
                    call_id = call.get("id") or f"call_{state.calls}_{n}"
                    head = {"index": n, "id": call_id, "type": "function"}
                    head["function"] = {"name": call["name"], "arguments": ""}
                    self.event(model, {"tool_calls": [head]})
                    args = call.get("raw_arguments", json.dumps(call.get("arguments") or {}))
                    self.event(
                        model, {"tool_calls": [{"index": n, "function": {"arguments": args}}]}
                    )
                self.event(model, {}, finish="tool_calls")
            else:
                pieces = answer.get("text", "").split(" ")
                words = len(pieces)
                for i, word in enumerate(pieces):
                    if i == answer.get("drop_after"):
                        self.close_connection = True
                        return  # the connection closes without the rest or [DONE]
                    if state.delay:
                        time.sleep(state.delay)
                    self.event(model, {"content": word + (" " if i < len(pieces) - 1 else "")})
                self.event(model, {}, finish="stop")
            self.send(
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": model,
                    "choices": [],
                    "usage": usage(body, answer, words),
                }
            )
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

        def event(self, model: str, delta: dict[str, Any], finish: str | None = None) -> None:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            self.send(
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": model,
                    "choices": [choice],
                }
            )

        def send(self, data: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(data).encode() + b"\n\n")
            self.wfile.flush()

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--script", type=Path)
    parser.add_argument("--log", type=Path)
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    script = json.loads(args.script.read_text()) if args.script else []
    state = State(script, args.log, args.delay_ms / 1000)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    print(f"PORT {server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
