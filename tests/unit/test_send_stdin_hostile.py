"""``send PO -`` with text as editors and shells really write it (DESIGN section 6): a byte
order mark is not part of the message, and UTF-16 with one (PowerShell's ``Out-File``) is read
as text, as an import reads it."""

from __future__ import annotations

import io
import sys

import pytest
from cli_runner import Run


def _send(run: Run, monkeypatch: pytest.MonkeyPatch, piped: bytes) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(piped)))
    code, _, err = run("send", "coordinator", "-")
    return code, err


@pytest.mark.parametrize(
    "piped",
    ["\ufeffhello ✓\r\n".encode(), "hello ✓\r\n".encode("utf-16"), "hello ✓".encode("utf-32")],
    ids=["utf-8-bom", "utf-16", "utf-32"],
)
def test_a_byte_order_mark_is_dropped_and_utf16_read(
    run: Run, monkeypatch: pytest.MonkeyPatch, piped: bytes
) -> None:
    """UTF-8 with a BOM, and UTF-16 text with its BOM, are sent as the text they hold."""
    code, err = _send(run, monkeypatch, piped)
    assert code == 0, err
    history = run.json("show", "hello", "--po", "coordinator", "--json")["history"]
    assert history[0]["content"] == "hello ✓"
