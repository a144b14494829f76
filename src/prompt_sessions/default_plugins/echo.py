"""The offline ``echo`` responder: deterministic, streamed in chunks, with usage.

Options (``[responders.echo]`` in config.toml): ``chunk_delay_ms`` (default 20), ``fail_times``
(fail the first N replies, then succeed) and ``fail_always``; demos and tests use them to slow it
down or make it fail. ``transient`` (default true) says whether those failures are worth
retrying; ``fail_after_chunks`` makes a failing reply stream that many chunks before it fails;
``awaiting_input`` ends every reply as one that waits for the user's answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from ..config import check_table
from ..config_schema import EchoOptions
from ..errors import ResponderError
from ..hookspecs import hookimpl
from ..models import Usage

if TYPE_CHECKING:
    from ..protocols import ResponderFactory
    from ..responders import ReplyEnd, ReplyRequest

WORDS_PER_CHUNK = 3


def echo_text(user_text: str, po_name: str) -> str:
    said = user_text.strip() or "(nothing)"
    return f"You said: {said}"


def chunks(text: str, words: int = WORDS_PER_CHUNK) -> list[str]:
    parts = text.split(" ")
    return [
        " ".join(parts[i : i + words]) + (" " if i + words < len(parts) else "")
        for i in range(0, len(parts), words)
    ]


class EchoResponder:
    """The ``echo`` responder; ``config_schema`` declares what ``[responders.echo]`` may say."""

    name = "echo"
    config_schema = EchoOptions

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        """Build it from ``[responders.echo]`` merged with a PO's front matter options.

        Raises:
            ConfigError: an echo option has the wrong type (other front matter keys are the
                PO's, not echo's, and are left alone).
        """
        known = EchoOptions.__struct_fields__
        given = {k: v for k, v in (options or {}).items() if k in known}
        checked: EchoOptions = check_table(given, EchoOptions, "responders.echo")
        self.chunk_delay = checked.chunk_delay_ms / 1000
        self.fail_times = checked.fail_times
        self.fail_always = checked.fail_always
        self.transient = checked.transient
        self.fail_after_chunks = checked.fail_after_chunks
        self.awaiting_input = checked.awaiting_input
        self.calls = 0

    async def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd]:
        self.calls += 1
        call = self.calls
        failing = self.fail_always or call <= self.fail_times
        if failing and not self.fail_after_chunks:
            raise ResponderError(f"echo failed on purpose (call {call})", transient=self.transient)
        last = request.last_user_message
        text = echo_text(last.content if last else "", request.po.name)
        # Imported here so loading the built-ins stays cheap for `list` (DESIGN section 10).
        import asyncio

        from ..responders import ReplyEnd

        for sent, piece in enumerate(chunks(text)):
            if failing and sent == self.fail_after_chunks:
                raise ResponderError(
                    f"echo failed on purpose (call {call})", transient=self.transient
                )
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            yield piece
        if failing:  # a reply shorter than fail_after_chunks still fails, at its end
            raise ResponderError(f"echo failed on purpose (call {call})", transient=self.transient)
        usage = Usage(
            input_tokens=len((last.content if last else "").split()),
            output_tokens=len(text.split()),
        )
        yield ReplyEnd(model="echo", usage=usage, awaiting_input=self.awaiting_input)


@hookimpl
def register_responders(register: Callable[[str, ResponderFactory], None]) -> None:
    register("echo", EchoResponder)
