"""An index.json that cannot be read is rebuilt from the session files (DESIGN section 4); the
per-PO current session, which only the catalog records, is kept when the damaged catalog still
says it, and its loss is told in one warning line when it does not (DESIGN section 5)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from reliability_support import open_manager

from prompt_sessions.cli import main
from prompt_sessions.errors import StorageWarning
from prompt_sessions.models import FORMAT_VERSION


def _store(root: Path) -> tuple[str, str]:
    """Two sessions of one PO, the older one chosen as current; returns (chosen, newer)."""
    mgr = open_manager(root)
    chosen = mgr.create("reviewer", "Crème")
    newer = mgr.create("reviewer", "Later")
    mgr.switch("reviewer", chosen.id)
    mgr.close()
    return chosen.id, newer.id


def _index(root: Path) -> Path:
    return root / "sessions" / "index.json"


def _current(root: Path) -> tuple[str, list[str]]:
    """The PO's current session as a new process finds it, and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mgr = open_manager(root)
        try:
            found = mgr.peek_current("reviewer")
        finally:
            mgr.close()
    assert found is not None
    return found.id, [str(w.message) for w in caught if issubclass(w.category, StorageWarning)]


def test_a_damaged_entry_leaves_the_current_choice_readable(tmp_path: Path) -> None:
    """One entry that does not decode makes the catalog unreadable as a whole, but its
    current-session table still stands in its place: the choice is kept, and nothing to warn."""
    chosen, _ = _store(tmp_path)
    index = _index(tmp_path)
    index.write_bytes(index.read_bytes().replace(b'"message_count":', b'"message_count":"x",', 1))
    assert _current(tmp_path) == (chosen, [])
    assert b'"message_count":"x"' not in index.read_bytes()  # rebuilt whole


@pytest.mark.parametrize(
    "damage",
    [
        lambda index: index.write_bytes(b"{garbage"),
        lambda index: index.write_bytes(index.read_bytes()[:-40]),  # cut short
        lambda index: (index.unlink(), index.symlink_to("elsewhere.json")),  # never followed
    ],
    ids=["garbage", "cut short", "a symlink"],
)
def test_a_catalog_with_nothing_left_to_read_says_the_choice_is_lost(
    tmp_path: Path, damage: object
) -> None:
    """When nothing of the catalog can be read, the PO's most recent session becomes its
    current one, and a warning says so, naming the file and what was wrong with it."""
    _, newer = _store(tmp_path)
    damage(_index(tmp_path))  # type: ignore[operator]
    found, said = _current(tmp_path)
    assert found == newer
    assert len(said) == 1
    assert said[0].startswith(f"the catalog {_index(tmp_path)} could not be read (")
    assert said[0].endswith(
        "); it is rebuilt from the session files, and each PO's current session is now its "
        "most recent one"
    )


def test_a_newer_programs_catalog_is_not_called_lost(tmp_path: Path) -> None:
    """A catalog of a newer format version that this one cannot read is that program's, not
    damage: no warning, and it is never written over."""
    _store(tmp_path)
    index = _index(tmp_path)
    newer = b'{"format_version":%d,"sessions":"a shape of the future"}\n' % (FORMAT_VERSION + 1)
    index.write_bytes(newer)
    _, said = _current(tmp_path)
    assert said == []
    assert index.read_bytes() == newer


def test_the_command_line_says_it_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``send`` to the PO after the catalog was lost: the message goes to the most recent
    session, and stderr holds the one ``Warning:`` line."""
    monkeypatch.setenv("PROMPT_SESSIONS_PLUGINS", "")
    root = tmp_path / ".prompt_objects"
    _, newer = _store(root)
    _index(root).write_bytes(b"{garbage")
    with pytest.raises(SystemExit) as done:
        main(["--dir", str(root), "send", "reviewer", "which one?"])
    assert done.value.code == 0
    err = capsys.readouterr().err
    assert err.startswith(f"Warning: the catalog {_index(root)} could not be read (")
    assert err.count("\n") == 1
    mgr = open_manager(root)
    try:
        assert mgr.get(newer).history[0].content == "which one?"
    finally:
        mgr.close()
