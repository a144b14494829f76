"""A corpus of path-like and odd session refs, and a script that runs them with an audit hook.

Run as ``python hostile_refs.py STORE_ROOT``: builds a store there, runs every ref through every
manager call and CLI command that takes one, with a ``sys.addaudithook`` hook recording every
file the process opens, creates, renames or removes. Prints a JSON report on stdout. The hook
cannot be removed once added, which is why this runs in its own process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

MISSING = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"  # well-formed, but no such session


def corpus(store: Path) -> list[Any]:
    """At least 100 refs that must never reach a file outside the store nor crash a command."""
    base: list[Any] = [
        "..",
        "../",
        "../..",
        "../../etc/passwd",
        "/etc/passwd",
        "/",
        "//",
        "~",
        "~/.ssh/id_rsa",
        "./",
        ".",
        "...",
        "sessions/../index",
        "index",
        "index.json",
        "index.journal",
        ".lock",
        "damaged",
        "objects/x.md",
        "config.toml",
        "",
        " ",
        "\t",
        "\x00",
        "a\x00b",
        f"{MISSING}\x00",
        "\n",
        "line\nbreak",
        "\r\n",
        f"{MISSING}\n",
        "\x1b[31mred",
        "\x7f",
        "CON",
        "PRN",
        "AUX",
        "NUL",
        "COM1",
        "LPT1",
        "con.json",
        "nul.txt",
        "C:\\Windows\\system32",
        "C:",
        "\\\\server\\share",
        "..\\..\\x",
        "file:///etc/passwd",
        "%2e%2e%2f",
        "..%2f..%2f",
        "..%c0%af",
        "${HOME}",
        "$(id)",
        "`id`",
        "*",
        "?",
        "[a-z]*",
        "'; DROP TABLE sessions; --",
        "<script>alert(1)</script>",
        "\u202eevil",
        "\ufeff",
        "é",
        "🙂" * 10,
        "a" * 300,
        "a" * 5000,
        "../" * 100,
        "-",
        "--",
        "-rf",
        "--help",
        MISSING.upper(),
        "{" + MISSING + "}",
        "urn:uuid:" + MISSING,
        MISSING.replace("-", ""),
        MISSING + ".json",
        "../" + MISSING,
        MISSING + "/../../x",
        " " + MISSING,
        MISSING + " ",
        MISSING[:-1] + "G",
        MISSING + MISSING,
        str(uuid.UUID(MISSING).int),
        MISSING.replace("-", "_"),
        MISSING[:8] + "/" + MISSING[9:],
        str(store),
        str(store / "sessions"),
        str(store / "sessions" / "index.json"),
        str(store.parent),
        "/proc/self/environ",
        "/dev/zero",
        "/dev/stdin",
    ]
    derived: list[Any] = []
    for ref in ("../x", "/tmp/x", "x/../../y", "CON"):
        derived += [ref + ".json", ref.upper(), ref + "\x00.json", "./" + ref]
    found = []
    for ref in base + derived:
        if ref not in found:
            found.append(ref)
    return found


class Recorder:
    """Audit hook: remember every path-taking file event whose path lies outside ``allowed``."""

    EVENTS = (
        "open",
        "os.mkdir",
        "os.rename",
        "os.remove",
        "os.rmdir",
        "os.symlink",
        "os.link",
        "os.chmod",
        "os.truncate",
        "os.utime",
        "os.listdir",
        "os.scandir",
        "shutil.",
    )

    def __init__(self, allowed: Path) -> None:
        self.allowed = os.path.realpath(allowed)
        # Python's own files (lazily imported modules, installed distributions' metadata read
        # when plugins are looked up) are not the store's business; anything else is.
        roots = {sys.prefix, sys.base_prefix, *(p for p in sys.path if p)}
        self.python = tuple(os.path.realpath(p) + os.sep for p in roots)
        self.outside: list[str] = []
        self.active = False

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or not event.startswith(self.EVENTS):
            return
        two_paths = event in ("os.rename", "os.symlink", "os.link")
        for arg in args[: 2 if two_paths else 1]:
            if isinstance(arg, (str, bytes, os.PathLike)):
                path = os.fsdecode(arg)
                real = os.path.realpath(path)
                if real == self.allowed or real.startswith((self.allowed + os.sep, *self.python)):
                    continue
                self.outside.append(f"{event} {path!r}")


def main() -> None:
    from prompt_sessions.cli import main as cli_main
    from prompt_sessions.errors import PromptSessionsError
    from prompt_sessions.models import Message
    from reliability_support import open_manager

    store = Path(sys.argv[1])
    mgr = open_manager(store)
    real = mgr.create("po", "alpha", history=[Message(role="user", content="hi")])
    mgr.create("po", "beta")

    api = {
        "get": lambda r: mgr.get(r),
        "rename": lambda r: mgr.rename(r, "renamed"),
        "delete": lambda r: mgr.delete(r),
        "duplicate": lambda r: mgr.duplicate(r),
        "fork": lambda r: mgr.fork(r),
        "export": lambda r: mgr.export(r, "markdown"),
        "export_json": lambda r: mgr.export(r, "json"),
        "switch": lambda r: mgr.switch("po", r),
        "append": lambda r: mgr.append(r, Message(role="user", content="x")),
        "update": lambda r: mgr.update(r, archived=True),
        "resolve_po": lambda r: mgr.resolve("po", r),
        "resolve_any": lambda r: mgr.resolve(None, r),
        "session_path": lambda r: mgr.session_path(r),
        "undo_rewind": lambda r: mgr.undo_rewind(r),
    }
    d = str(store)
    cli = {
        "show": lambda r: ["--dir", d, "show", r],
        "show_json": lambda r: ["--dir", d, "show", r, "--json"],
        "rename": lambda r: ["--dir", d, "rename", r, "renamed"],
        "delete": lambda r: ["--dir", d, "delete", r, "--yes"],
        "duplicate": lambda r: ["--dir", d, "duplicate", r],
        "fork": lambda r: ["--dir", d, "fork", r],
        "archive": lambda r: ["--dir", d, "archive", r],
        "export": lambda r: ["--dir", d, "export", r],
        "send": lambda r: ["--dir", d, "send", "po", "hello", "--session", r],
        "rewind": lambda r: ["--dir", d, "rewind", r, "--undo"],
    }

    def run_cli(argv: list[str]) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli_main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return code, err.getvalue()

    # Warm up with a real ref, so lazily imported modules are loaded before the hook watches.
    for name, call in api.items():
        if name not in ("delete", "rename", "update", "undo_rewind"):
            call(real.id)
    for name, argv in cli.items():
        if name not in ("delete", "rename", "archive"):
            run_cli(argv(real.id))

    recorder = Recorder(store)
    sys.addaudithook(recorder)
    refs = corpus(store)
    failures: list[str] = []
    recorder.active = True
    for ref in refs + [None, 42, b"../x", ["x"]]:
        for name, call in api.items():
            try:
                call(ref)
                failures.append(f"api {name} accepted {ref!r}")
            except PromptSessionsError as exc:
                if not str(exc).strip() or "\n" in str(exc):
                    failures.append(f"api {name} {ref!r}: unclear error {str(exc)!r}")
            except Exception as exc:  # noqa: BLE001
                failures.append(f"api {name} {ref!r}: {type(exc).__name__}: {exc}")
        if not isinstance(ref, str) or ref in ("--help", "-h"):
            continue  # click answers these with the command's help, which is right
        for name, argv in cli.items():
            code, err = run_cli(argv(ref))
            lines = err.strip().splitlines()
            if code not in (1, 2) or "Traceback" in err or "unexpected" in err:
                failures.append(f"cli {name} {ref!r}: exit {code}: {err.strip()[:200]}")
            elif code == 1 and (len(lines) != 1 or not lines[0].startswith("Error: ")):
                failures.append(f"cli {name} {ref!r}: not one clear line: {err.strip()[:200]}")
    outside = sorted(set(recorder.outside))
    # The canary proves the hook sees what it should: this open is outside the store.
    with open(os.devnull, "rb"):
        pass
    canary = any(os.devnull in line for line in recorder.outside)
    recorder.active = False
    mgr.close()
    print(
        json.dumps({"refs": len(refs), "failures": failures, "outside": outside, "canary": canary})
    )


if __name__ == "__main__":
    main()
