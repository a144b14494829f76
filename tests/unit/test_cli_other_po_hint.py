"""A session ref given with a PO (send --session, --po) that names a session of another PO says
whose session it is, on both built-in stores, instead of only "no session matches"."""

from __future__ import annotations

import pytest
from cli_runner import Run

BACKENDS = ["json", "sqlite"]


def _use(run: Run, backend: str) -> None:
    if backend == "sqlite":
        config = run.store / "config.toml"
        config.write_text(config.read_text() + '\n[storage]\nbackend = "sqlite"\n')


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_ref_to_another_pos_session_names_its_po(run: Run, backend: str) -> None:
    """send writer --session REF, show REF --po writer and rename REF --po writer, where REF is
    researcher's session by name, id or id prefix: one Error line naming researcher; nothing is
    stored or changed."""
    _use(run, backend)
    sid = str(run.json("new", "researcher", "--name", "Sources", "--json")["id"])
    hint = f"'Sources' ({sid[:8]}) is a session of PO 'researcher'"
    for ref in ("Sources", sid, sid[:8]):
        said = f"Error: no session matches '{ref}' for PO 'writer'; {hint}\n"
        assert run("send", "writer", "hi", "--session", ref) == (1, "", said)
        assert run("show", ref, "--po", "writer") == (1, "", said)
        assert run("rename", ref, "Other", "--po", "writer") == (1, "", said)
    (only,) = run.json("list", "--json")
    assert (only["name"], only["message_count"]) == ("Sources", 0)


def test_a_ref_matching_nothing_or_several_keeps_the_plain_error(run: Run) -> None:
    """A ref that matches no session of any PO, or sessions of several other POs, is the plain
    "no session matches" error."""
    run("new", "researcher", "--name", "Twin")
    run("new", "reviewer", "--name", "Twin")
    for ref in ("Nothing like it", "Twin"):
        assert run("show", ref, "--po", "writer") == (
            1,
            "",
            f"Error: no session matches '{ref}' for PO 'writer'\n",
        )
