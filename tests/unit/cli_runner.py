"""The command line run in-process through its real entry point, ``main``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.cli import main


class Run:
    """Call as ``run(*args, input=...)`` for ``(exit code, stdout, stderr)``."""

    def __init__(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store: Path
    ) -> None:
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.store = store

    def __call__(self, *args: str, input: str | None = None) -> tuple[int, str, str]:
        if input is not None:
            self.monkeypatch.setattr(sys, "stdin", io.StringIO(input))
        try:
            main(["--dir", str(self.store), *args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:
            code = 0
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args)
        assert code == 0, err
        return json.loads(out)
