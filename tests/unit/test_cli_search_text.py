"""search's text output names what its time is."""

from __future__ import annotations

from cli_runner import Run


def test_search_text_says_the_time_is_the_sessions(run: Run) -> None:
    """A hit's line gives the session's last update and says so (a hit does not carry the
    message's own time, and "message 1, <time>" read as the time of message 1)."""
    run("new", "coordinator", "--name", "Walrus")
    run("send", "coordinator", "the walrus sings")
    code, out, _ = run("search", "walrus", "role:user")
    assert code == 0 and "coordinator: Walrus  (message 1, session updated 20" in out
