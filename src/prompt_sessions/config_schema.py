"""What ``config.toml`` may say: one tree of msgspec Structs, the only declaration of its keys.

Every field carries its description in ``msgspec.Meta(description=...)``; ``docs/configuration.md``
is written from these and a test keeps the two in step. Tables that belong to a plugin
(``[responders.<name>]``, ``[storage.<backend>]``) are checked against the Struct the plugin
declares as ``config_schema`` on its factory; a plugin that declares none gets its table as it is.
The rules come from DESIGN sections 3, 7, 11, 13 and 14.
"""

# No `from __future__ import annotations` here: msgspec would then compile and evaluate every
# field's annotation string when a command first reads the config (about 2 ms).
import sys
from typing import Annotated, Any

import msgspec

MB = 1024 * 1024

# Field types with their constraints; msgspec checks them when a table is converted.
Count = Annotated[int, msgspec.Meta(ge=1)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
# A number of seconds, milliseconds or money is finite: TOML reads `inf` and `1e999` as
# infinity, which would make a wait endless.
FINITE = sys.float_info.max
NonNegative = Annotated[float, msgspec.Meta(ge=0, le=FINITE)]
Name = Annotated[str, msgspec.Meta(min_length=1)]


def _doc(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class Table(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every table: unknown keys are errors (a typo must not pass silently)."""


class StorageConfig(Table):
    """``[storage]``: where sessions live (DESIGN sections 3 and 13)."""

    backend: Annotated[Name, _doc("Storage backend: `json` (default), `sqlite` or a plugin's.")] = (
        "json"
    )
    lock_timeout: Annotated[
        NonNegative, _doc("Seconds a writer waits for the store's lock before giving up.")
    ] = 10.0
    # Filled by the loader from sub-tables such as ``[storage.postgres]``, never a key of its own.
    sections: dict[str, Any] = msgspec.field(default_factory=dict)


class RuntimeConfig(Table):
    """``[runtime]``: limits of the live-sessions runtime (DESIGN section 8)."""

    max_generating: Annotated[Count, _doc("Replies streaming at once; the rest are queued.")] = 5
    max_loaded: Annotated[Count, _doc("Sessions whose history stays in memory.")] = 10
    buffer_limit_bytes: Annotated[
        Count,
        _doc("Bytes of a reply in progress kept for display; the oldest text is dropped past it."),
    ] = 10 * MB
    retry_attempts: Annotated[
        NonNegativeInt, _doc("Retries of a transient responder error after the first try.")
    ] = 3
    retry_base_ms: Annotated[
        NonNegative, _doc("First wait before a retry, in milliseconds; doubles per attempt.")
    ] = 500.0
    retry_max_ms: Annotated[NonNegative, _doc("Longest wait before a retry, in milliseconds.")] = (
        30_000.0
    )
    retry_jitter: Annotated[
        float,
        msgspec.Meta(
            ge=0,
            le=1,
            description="Each wait is scaled by a random factor in [1 - jitter, 1]; 0 to 1.",
        ),
    ] = 0.5
    watch_debounce_ms: Annotated[
        NonNegativeInt,
        _doc("Milliseconds the watcher gathers file changes from other processes before syncing."),
    ] = 100

    checkpoint_ms: Annotated[
        NonNegative,
        _doc(
            "Milliseconds between checkpoints of a streaming reply to the store, so a crash keeps "
            "its text; 0 turns them off."
        ),
    ] = 1000.0


class UiConfig(Table):
    """``[ui]``: which user interface opens when no command is given (DESIGN section 15)."""

    frontend: Annotated[Name, _doc("Frontend to open: `tui` (default) or a plugin's.")] = "tui"


class PriceConfig(Table):
    """``[prices.<model>]``: what a model costs, for ``stats`` (DESIGN section 14)."""

    input: Annotated[NonNegative, _doc("Price of one million input tokens.")] = 0.0
    output: Annotated[NonNegative, _doc("Price of one million output tokens.")] = 0.0


class EchoOptions(Table):
    """``[responders.echo]``: the offline ``echo`` responder (DESIGN section 7)."""

    chunk_delay_ms: Annotated[
        NonNegative, _doc("Pause between chunks of a few words, in milliseconds.")
    ] = 20.0
    fail_times: Annotated[NonNegativeInt, _doc("Fail the first N replies, then succeed.")] = 0
    fail_always: Annotated[bool, _doc("Fail every reply.")] = False
    transient: Annotated[bool, _doc("Whether those failures are worth retrying.")] = True
    fail_after_chunks: Annotated[
        NonNegativeInt, _doc("A failing reply streams this many chunks before it fails.")
    ] = 0
    awaiting_input: Annotated[bool, _doc("End every reply as one that waits for an answer.")] = (
        False
    )


class Config(Table):
    """The whole of ``config.toml``."""

    responder: Annotated[Name, _doc("Responder of POs whose front matter names none.")] = "echo"
    storage: Annotated[StorageConfig, _doc("Where sessions live.")] = msgspec.field(
        default_factory=StorageConfig
    )
    runtime: Annotated[RuntimeConfig, _doc("Limits of the live-sessions runtime.")] = msgspec.field(
        default_factory=RuntimeConfig
    )
    ui: Annotated[UiConfig, _doc("User interface.")] = msgspec.field(default_factory=UiConfig)
    responders: Annotated[
        dict[str, dict[str, Any]],
        _doc("One table per responder, checked by the responder's own schema when it has one."),
    ] = msgspec.field(default_factory=dict)
    prices: Annotated[
        dict[str, PriceConfig], _doc("One table per model id: prices per million tokens.")
    ] = msgspec.field(default_factory=dict)
