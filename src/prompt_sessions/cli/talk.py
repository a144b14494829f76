"""search and send."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import click

from ..reply_lease import DEFAULT_WAIT, MAX_WAIT, reply_lease
from ..text import quoted, visible
from .output import TEXT, print_json, warn_problems, when
from .po_note import note_unknown_po
from .state import CliState

pass_state = click.make_pass_decorator(CliState)


@click.command()
@click.argument("query", nargs=-1, required=True, type=TEXT)
@click.option("--po", help="Only search this PO's sessions.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show at most N hits.",
)
@click.option("--json", "as_json", is_flag=True, help="Print an array of hits.")
@pass_state
def search(
    state: CliState, query: tuple[str, ...], po: str | None, limit: int, as_json: bool
) -> None:
    """Find messages and session names matching QUERY, best first.

    Every word must match, as a whole word, in any order; case and accents are ignored.
    Also: "exact phrase", -word, prefix*, po:NAME, role:user|assistant|tool, tag:TAG,
    is:archived|pinned|fork|delegation, after:YYYY-MM-DD, before:YYYY-MM-DD, in:name.
    Put -word after -- (or quote the whole query) so it is not read as an option.
    """
    state.manager.recheck()  # files edited in place by another program are searched as they are
    with _progress_bar() as progress:
        hits = state.manager.search(" ".join(query), po, limit=limit, progress=progress)
    warn_problems(state.manager.problems())  # a damaged session was not searched: say so
    if as_json:
        print_json([hit.to_json() for hit in hits])
        return
    if not hits:
        from ..search_query import operator_hint

        hint = operator_hint(" ".join(query))
        click.echo(f"No matches. {hint}." if hint else "No matches.")
        return
    for hit in hits:
        where = "name" if hit.message_index is None else f"message {hit.message_index + 1}"
        po, name = hit.session.po_name, hit.session.name
        mark = ", archived" if hit.session.archived else ""
        click.echo(
            f"{hit.session.id[:8]}  {visible(po, one_line=True)}: {visible(name, one_line=True)}"
            f"  ({where}, session updated {when(hit.session.updated_at)}{mark})"
        )
        click.echo(f"    {visible(hit.snippet, one_line=True)}")


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr while the search index catches up, when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(
                length=total, label="Indexing sessions", file=sys.stderr
            ).__enter__()
        bar.update(done - bar.pos)

    try:
        yield progress
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


@click.command()
@click.argument("po", type=TEXT)
@click.argument("message", type=TEXT)
@click.option("--session", "ref", help="Session to talk in (default: the PO's current session).")
@click.option(
    "--wait",
    type=click.FloatRange(min=0, max=MAX_WAIT),
    default=DEFAULT_WAIT,
    show_default=True,
    callback=lambda _ctx, _param, value: _finite_wait(value),
    help="Seconds to wait while another process replies in the session.",
)
@pass_state
def send(state: CliState, po: str, message: str, ref: str | None, wait: float) -> None:
    """Add MESSAGE to a session of PO, run the PO's responder and print the reply as it streams.
    A MESSAGE of - is read from standard input (UTF-8; its final line end is dropped).

    The reply runs through the same loop as the TUI's: transient errors are retried with
    backoff, and tools and delegations run (each delegation is noted on stderr). Sends to one
    session take turns: each waits up to --wait seconds for the one before it to store its
    reply, and stores nothing if it gives up.
    """
    from ..errors import ResponderError
    from ..models import Message
    from ..responders import check_ready
    from ..runtime.responder_pool import ResponderPool

    message = _message_from_stdin() if message == "-" else message
    if not message.strip():  # before a PO's first session is made for it
        raise click.UsageError("MESSAGE is empty")
    ctx = state.app_context()
    mgr = ctx.manager
    # A bad responder setup (an unknown responder or model, a missing key) fails before
    # anything is written: a send run again after the fix does not repeat the message.
    check_ready(ResponderPool(ctx).for_po(po)[0])
    if ref is None:
        note_unknown_po(mgr, po)  # a mistyped PO is about to get its first session
    # An empty --session is a bad ref, not "the current session".
    target = mgr.get(mgr.resolve(po, ref).id) if ref is not None else mgr.current(po, source="cli")
    with reply_lease(mgr.root, target.id, target.name, wait=wait):
        mgr.append(target.id, Message(role="user", content=message, source="cli"))
        try:
            _reply(ctx, target.id)
        except ResponderError as exc:
            # The message is stored already: say so, and how it gets its reply.
            raise ResponderError(
                f"{str(exc).rstrip('. ')}; the message is kept in {quoted(target.name)} "
                "without a reply "
                "(ctrl+r in the TUI answers it)"
            ) from exc


def _message_from_stdin() -> str:
    """Standard input as one message, as ``-`` means for most command-line tools: UTF-8 text
    (or UTF-16 with its byte order mark) of at most ``limits.MAX_IMPORT_BYTES``, without a
    byte order mark or the line end that ends its last line.

    Raises:
        click.UsageError: more than the limit, or bytes that are not UTF-8 (nothing is sent).
    """
    from ..limits import MAX_IMPORT_BYTES

    if sys.stdin.isatty():  # a person at a terminal: say how the message ends
        click.echo("Type the message; end it with Ctrl-D on a line of its own.", err=True)
    data = sys.stdin.buffer.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise click.UsageError(
            f"standard input holds more than {MAX_IMPORT_BYTES // 2**20} MiB; nothing was sent"
        )
    from ..importing import text_bytes

    try:
        # As for an import: a byte order mark (an editor's UTF-8, PowerShell's UTF-16) is not
        # part of the message.
        text = text_bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise click.UsageError(
            f"standard input is not UTF-8 text (byte {exc.start}); nothing was sent"
        ) from None
    return text.removesuffix("\n").removesuffix("\r")


def _finite_wait(value: float) -> float:
    # FloatRange lets NaN through (it compares false with both bounds); a wait is a number.
    if value != value:
        raise click.BadParameter("not a number of seconds", param_hint="'--wait'")
    return value


def _reply(ctx: Any, session_id: str) -> None:
    """Run the reply to the session's last message, streaming it to stdout."""
    from ..reply import run_reply
    from ..runtime.events import MessageAdded, StatusChanged
    from ..runtime.status import Status

    cut = [False]  # text of the current attempt is on stdout: a retry starts a new line
    unread = [sys.stdout is None]  # stdout closed, or its reader went away (``| head -c1``)

    def on_chunk(text: str) -> None:
        cut[0] = True
        if unread[0]:
            return
        try:
            sys.stdout.write(visible(text))  # stored text too: it never drives the terminal
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            # Nobody reads the reply any more: it goes on and is saved whole, as it would be
            # with a reader, and the process ends quietly as `list` does (``_reader_gone``).
            unread[0] = True
            _reader_gone()

    def on_event(event: object) -> None:
        if (
            isinstance(event, StatusChanged)
            and event.session_id == session_id
            and event.status is Status.RETRYING
        ):
            # Printed text cannot be taken back: the retried reply starts on a line of its own
            # and stderr says that what stands above it was cut short.
            if cut[0] and not unread[0]:
                on_chunk("\n")
            note = "; the text above was cut short" if cut[0] else ""
            click.echo(f"(retry {event.retry_attempt} after a transient error{note})", err=True)
            cut[0] = False
        added = getattr(event, "message", None)
        if isinstance(event, MessageAdded) and added is not None and added.from_po:
            called = ctx.manager.get(event.session_id).po_name
            # What one PO asked another is a model's text: shown, never obeyed by the terminal.
            line = f"-> {visible(called, one_line=True)}: {visible(added.content, one_line=True)}"
            click.echo(line, err=True)

    _run_until_stopped(run_reply(ctx, session_id, on_chunk=on_chunk, on_event=on_event))
    if not unread[0]:
        try:
            sys.stdout.write("\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            _reader_gone()


def _reader_gone() -> None:
    """Point stdout at the null device once its reader went away, so that the text still
    buffered is not written again (and refused) as the interpreter ends."""
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _run_until_stopped(reply: Coroutine[Any, Any, object]) -> None:
    """Run ``reply`` in an event loop of its own until it ends or a signal stops it: Ctrl-C
    (SIGINT) or SIGTERM (``timeout``, a service manager) cancels it, and the reply keeps the
    text that arrived as incomplete instead of losing it with the process. Only the first
    signal counts: more of them while that text is saved would break the save off and fill
    stderr with asyncio's complaints.

    Raises:
        KeyboardInterrupt: after Ctrl-C (the CLI says "Interrupted." and exits 130).
        SystemExit: 143 (128 + SIGTERM, as a shell reports a process it ended) after SIGTERM,
            once "Terminated." is on stderr.
    """
    import asyncio
    import contextlib
    import signal
    import threading

    stopped_by: list[int] = []  # the signal that stopped the reply
    main_thread = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def stop(signum: int) -> None:
            if not stopped_by and task is not None:
                stopped_by.append(signum)
                loop.call_soon_threadsafe(task.cancel)

        if main_thread:
            signal.signal(signal.SIGINT, lambda signum, _frame: stop(signum))
        # no loop signal handlers on Windows, nor outside the main thread
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, stop, signal.SIGTERM)
        try:
            await reply
        finally:
            # The loop closes its wake-up pipe before it forgets it: a signal in between (a
            # second Ctrl-C) is written to a closed pipe, which Python reports on stderr.
            if main_thread:
                with contextlib.suppress(ValueError):
                    signal.set_wakeup_fd(-1)

    ending = False
    try:
        asyncio.run(run())
    except asyncio.CancelledError:
        ending = True
        if stopped_by == [signal.SIGINT]:
            raise KeyboardInterrupt from None
        click.echo("Terminated.", err=True)
        sys.exit(143)
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, signal.SIG_IGN if ending else before)
            if ending:  # a process ending on a signal ignores more: they would only add noise
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
