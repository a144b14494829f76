"""An imported session's token counts are counts (DESIGN sections 11 and 16).

``stats`` adds up every reply's ``usage``; a negative count from an imported file turned the
totals into nonsense ("TOKENS IN -5"). The importers of other tools read such a count as
unknown (0); a session file in this program's own shape (``--format json``) is checked as
strictly as the store reads its fields, so a negative count is refused on one line and
nothing of the file is stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions import SessionManager
from prompt_sessions.errors import ImportFormatError


def _session(usage: dict[str, int]) -> dict:
    return {
        "format_version": 1,
        "id": "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        "name": "Counted",
        "po_name": "coordinator",
        "created_at": "2025-01-03T10:00:00Z",
        "updated_at": "2025-01-03T14:30:00Z",
        "metadata": {},
        "history": [
            {"role": "user", "content": "Hello", "created_at": "2025-01-03T14:29:58Z"},
            {
                "role": "assistant",
                "content": "Hi",
                "created_at": "2025-01-03T14:30:00Z",
                "usage": usage,
            },
        ],
    }


NEGATIVE = [
    {"input_tokens": -5, "output_tokens": 2},
    {"input_tokens": 3, "output_tokens": -1},
    {"input_tokens": 3, "output_tokens": 2, "cached_tokens": -7},
]


@pytest.mark.parametrize("usage", NEGATIVE, ids=["input", "output", "cached"])
def test_cli_refuses_a_negative_token_count(run: Run, tmp_path: Path, usage: dict) -> None:
    """``import --format json`` of a session whose reply has a negative count exits 1 with one
    line naming the field; no session is stored and ``stats`` counts nothing."""
    source = tmp_path / "counted.json"
    source.write_text(json.dumps(_session(usage)))
    code, out, err = run("import", "--format", "json", str(source))
    assert code == 1, out
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    field = next(k for k, v in usage.items() if v < 0)
    assert f"history[1].usage.{field}" in err
    assert run.json("list", "--json", "--all") == []


def test_api_refuses_a_negative_token_count(manager: SessionManager) -> None:
    """``SessionManager.import_session`` raises ImportFormatError for a negative count."""
    data = json.dumps(_session({"input_tokens": -5, "output_tokens": 2})).encode()
    with pytest.raises(ImportFormatError, match="zero or more"):
        manager.import_session(data, format="json")
    assert manager.list() == []


def test_counts_of_zero_and_more_are_kept(run: Run, tmp_path: Path) -> None:
    """Counts of zero and more come in as they are."""
    source = tmp_path / "counted.json"
    source.write_text(json.dumps(_session({"input_tokens": 0, "output_tokens": 12})))
    (summary,) = run.json("import", "--format", "json", "--json", str(source))
    reply = run.json("show", summary["id"], "--json")["history"][1]
    assert reply["usage"] == {"output_tokens": 12}
