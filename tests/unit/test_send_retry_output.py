"""``send`` when its reply is retried (DESIGN sections 6 and 11): text printed before a
transient failure cannot be taken back, so the retried reply starts on a line of its own and
stderr says a retry happened; the stored reply is the retried one alone."""

from __future__ import annotations

from cli_runner import Run


def test_a_retry_after_some_text_starts_a_new_line_and_says_so(run: Run) -> None:
    """Echo fails once after two chunks: stdout holds the cut text, then the whole reply on a
    new line; stderr notes the retry and that the text above was cut short."""
    (run.store / "config.toml").write_text(
        "[responders.echo]\nchunk_delay_ms = 0\nfail_times = 1\nfail_after_chunks = 2\n"
        "[runtime]\nretry_base_ms = 1\n"
    )
    code, out, err = run("send", "coordinator", "one two three four")
    assert code == 0, err
    cut, whole, end = out.split("\n")
    assert (whole, end) == ("You said: one two three four", "")
    assert cut and whole.startswith(cut)
    assert err == "(retry 1 after a transient error; the text above was cut short)\n"
    (stored,) = run.json("list", "--json")
    assert stored["message_count"] == 2


def test_a_retry_before_any_text_is_noted_on_stderr_only(run: Run) -> None:
    """A failure before the first chunk: stdout is the reply alone, stderr notes the retry."""
    (run.store / "config.toml").write_text(
        "[responders.echo]\nchunk_delay_ms = 0\nfail_times = 1\n[runtime]\nretry_base_ms = 1\n"
    )
    code, out, err = run("send", "coordinator", "hello")
    assert code == 0, err
    assert out == "You said: hello\n"
    assert err == "(retry 1 after a transient error)\n"
