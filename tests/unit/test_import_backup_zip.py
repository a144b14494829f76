"""A backup zip given to import (the CLI's import or the TUI's /session import) says that
restore-backup brings a backup back, instead of listing importers that read no zip."""

from __future__ import annotations

import pytest
from cli_runner import Run

from prompt_sessions.errors import ImportFormatError
from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost

SAID = (
    "no importer recognises this zip file; a backup made by `prompt-sessions backup` is brought "
    "back with `prompt-sessions restore-backup FILE`"
)


def test_cli_import_of_a_backup_names_restore_backup(run: Run) -> None:
    """backup, then import of the zip: one Error line naming restore-backup; nothing added."""
    run("new", "coordinator", "--name", "Kept")
    backup = run.store.parent / "b.zip"
    assert run("backup", "-o", str(backup))[0] == 0
    assert run("import", str(backup)) == (1, "", f"Error: {backup}: {SAID}\n")
    assert [s["name"] for s in run.json("list", "--json")] == ["Kept"]


def test_import_api_of_any_zip_says_so(root) -> None:
    """The import the TUI's /session import runs gets the same words for a zip's bytes."""
    host = PluginHost.create(entry_points=False)
    with (
        SessionManager.open(root, host=host) as manager,
        pytest.raises(ImportFormatError, match="restore-backup FILE"),
    ):
        manager.import_session(b"PK\x03\x04 rest of a zip", filename="x.zip")
