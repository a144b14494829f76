"""The runtime's small parts: reply buffer, retry policy, settings, generation slots, statuses."""

from __future__ import annotations

import asyncio

import pytest

from prompt_sessions.config import ConfigError
from prompt_sessions.runtime import RetryPolicy, RuntimeSettings, Status, ViewState, status_label
from prompt_sessions.runtime.buffer import ReplyBuffer
from prompt_sessions.runtime.slots import GenerationSlots
from prompt_sessions.runtime.watcher import relevant


def test_buffer_keeps_everything_under_the_cap() -> None:
    """Chunks below the cap are kept whole and in order."""
    buffer = ReplyBuffer(100)
    for piece in ("one ", "two ", "three"):
        buffer.add(piece)
    assert buffer.text == "one two three"
    assert buffer.size == 13
    assert buffer.dropped_bytes == 0


def test_buffer_drops_the_oldest_text_past_the_cap() -> None:
    """Past the cap the oldest bytes go first, the newest are kept, and the drop is counted."""
    buffer = ReplyBuffer(10)
    buffer.add("abcdef")
    buffer.add("ghijkl")
    assert buffer.text == "cdefghijkl"
    assert buffer.size == 10
    assert buffer.dropped_bytes == 2


def test_buffer_cuts_a_chunk_larger_than_the_cap_to_its_tail() -> None:
    """A single chunk bigger than the cap keeps only its last bytes."""
    buffer = ReplyBuffer(4)
    buffer.add("0123456789")
    assert buffer.text == "6789"
    assert buffer.dropped_bytes == 6


def test_buffer_never_splits_a_character() -> None:
    """Cutting inside a multi-byte character drops that character whole: the text stays valid."""
    buffer = ReplyBuffer(5)
    buffer.add("ééé")  # 6 bytes; the cap falls inside the first é
    assert buffer.text == "éé"
    assert buffer.size == 4
    assert buffer.size <= buffer.limit


def test_buffer_tail_reads_only_the_end() -> None:
    """tail(n) gives the last n characters across chunk boundaries."""
    buffer = ReplyBuffer(1000)
    for piece in ("alpha ", "beta ", "gamma"):
        buffer.add(piece)
    assert buffer.tail(8) == "ta gamma"
    buffer.clear()
    assert buffer.text == "" and not buffer


def test_retry_delays_double_and_are_capped() -> None:
    """Without jitter, waits are base, 2x, 4x ... up to the maximum."""
    policy = RetryPolicy(attempts=5, base_ms=100, max_ms=500, jitter=0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.1, 0.2, 0.4, 0.5, 0.5]


def test_retry_jitter_scales_each_wait_down_by_at_most_the_jitter() -> None:
    """Jitter multiplies the wait by 1 - jitter * random: it stays in [ceiling*(1-j), ceiling]."""
    low = RetryPolicy(base_ms=1000, jitter=0.5, random=lambda: 1.0)
    high = RetryPolicy(base_ms=1000, jitter=0.5, random=lambda: 0.0)
    assert low.delay(1) == pytest.approx(0.5)
    assert high.delay(1) == pytest.approx(1.0)
    assert low.delay(2) == pytest.approx(1.0)


def test_retry_counts_attempts() -> None:
    """Only the configured number of retries is allowed."""
    policy = RetryPolicy(attempts=2)
    assert [policy.should_retry(n) for n in (1, 2, 3)] == [True, True, False]


def test_settings_defaults_and_overrides() -> None:
    """[runtime] in config.toml overrides the defaults; missing keys keep them."""
    assert RuntimeSettings.from_config({}) == RuntimeSettings()
    settings = RuntimeSettings.from_config({"runtime": {"max_generating": 2, "retry_base_ms": 5}})
    assert settings.max_generating == 2
    assert settings.retry_base_ms == 5.0
    assert settings.max_loaded == 10
    assert settings.buffer_limit_bytes == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"max_generating": 0}, "max_generating: expected a whole number >= 1, not 0$"),
        ({"max_loaded": "ten"}, 'max_loaded: expected a whole number, got text "ten"$'),
        ({"max_loaded": 2.5}, "max_loaded: expected a whole number, got 2.5$"),
        ({"retry_jitter": 2}, r"retry_jitter: expected a number <= 1\.0, not 2$"),
        ({"retry_attempts": -1}, "retry_attempts: expected a whole number >= 0, not -1$"),
        ({"buffer_limit_bytes": True}, "buffer_limit_bytes: expected a whole number, got true$"),
        ({"retry_base_ms": "5"}, 'retry_base_ms: expected a number, got text "5"$'),
        ({"max_generatin": 2}, "max_generatin: unknown key; did you mean 'max_generating'\\?$"),
    ],
)
def test_settings_refuse_bad_values_with_a_clear_message(
    table: dict[str, object], words: str
) -> None:
    """A bad [runtime] value is a ConfigError naming the key, never a crash later."""
    with pytest.raises(ConfigError, match=words) as info:
        RuntimeSettings.from_config({"runtime": table})
    assert next(iter(table)) in str(info.value)


async def test_slots_queue_first_come_first_served() -> None:
    """Past the limit, waiters get slots in the order they asked, one per release."""
    slots = GenerationSlots(1)
    assert slots.try_acquire()
    order: list[int] = []

    async def wait(n: int) -> None:
        await slots.acquire()
        order.append(n)

    tasks = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert slots.queued == 3 and order == []
    for expected in ([0], [0, 1], [0, 1, 2]):
        slots.release()
        await asyncio.sleep(0)
        assert order == expected
    await asyncio.gather(*tasks)
    slots.release()
    assert slots.active == 0


async def test_slots_a_cancelled_waiter_gives_up_its_place() -> None:
    """Cancelling a queued waiter removes it; the next waiter gets the slot instead."""
    slots = GenerationSlots(1)
    assert slots.try_acquire()
    first = asyncio.create_task(slots.acquire())
    second = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    assert slots.queued == 1
    slots.release()
    await second
    assert slots.active == 1
    assert not slots.try_acquire()


def test_status_labels() -> None:
    """A sidebar shows the status word, and the attempt number while retrying."""
    assert status_label(Status.STREAMING) == "streaming"
    assert status_label(Status.RETRYING, 2) == "retrying (2)"
    assert Status.QUEUED.busy and Status.RETRYING.busy and not Status.ERROR.busy


def test_view_state_round_trip_and_bad_input() -> None:
    """View state survives to_dict/from_dict; wrong types in a saved file fall back to defaults."""
    view = ViewState(scroll_y=12.5, draft="half a thought", filter="user", search="bug")
    assert ViewState.from_dict(view.to_dict()) == view
    assert ViewState().to_dict() == {}
    assert ViewState.from_dict({"scroll_y": "far", "draft": 3, "search": "ok"}) == ViewState(
        search="ok"
    )
    assert ViewState.from_dict(["not", "a", "dict"]) == ViewState()


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("/x/sessions/6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11.json", True),
        ("/x/sessions/index.json", True),
        ("/x/sessions/index.journal", True),
        ("/x/sessions/.lock", False),
        ("/x/sessions/.index.json.3fa2.tmp", False),
    ],
)
def test_watcher_ignores_locks_and_temp_files(path: str, wanted: bool) -> None:
    """Only session files and the catalog wake the watcher."""
    assert relevant(path) is wanted
