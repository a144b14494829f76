"""Live sync: another process's appends, renames, creates and deletes reach an open coordinator
through the file watcher, without any call from the test."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from prompt_sessions.context import AppContext
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.runtime import Coordinator, Status
from prompt_sessions.runtime.events import (
    MessageAdded,
    RuntimeEvent,
    SessionChanged,
    SessionRemoved,
    SessionsChanged,
)

# Generous: this bounds a hang, it does not measure speed (the watcher reacts in ~0.1 s).
PATIENCE = 15.0

OTHER_PROCESS = """
import sys
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost

root, action, *args = sys.argv[1:]
with SessionManager.open(root, host=PluginHost.create(entry_points=False)) as mgr:
    if action == "append":
        sid, *texts = args
        for n, text in enumerate(texts):
            mgr.append(sid, Message(role="user" if n % 2 == 0 else "assistant", content=text))
    elif action == "rename":
        mgr.rename(args[0], args[1])
    elif action == "delete":
        mgr.delete(args[0])
    elif action == "create":
        print(mgr.create(args[0], args[1]).id)
"""


async def other_process(root: Path, *args: str) -> str:
    """Run a separate Python process that changes the store through its own SessionManager."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        OTHER_PROCESS,
        str(root),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode().strip()


class Watch:
    """Collects events and lets a test wait for one that matches."""

    def __init__(self, coord: Coordinator) -> None:
        self.events: list[RuntimeEvent] = []
        self._waiters: list[tuple[Callable[[RuntimeEvent], bool], asyncio.Event]] = []
        coord.subscribe(self._on_event)

    def _on_event(self, event: RuntimeEvent) -> None:
        self.events.append(event)
        for predicate, flag in self._waiters:
            if predicate(event):
                flag.set()

    async def until(self, predicate: Callable[[RuntimeEvent], bool]) -> None:
        if any(predicate(e) for e in self.events):
            return
        flag = asyncio.Event()
        self._waiters.append((predicate, flag))
        await asyncio.wait_for(flag.wait(), PATIENCE)


def open_ctx(root: Path) -> AppContext:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text(
        "[responders.echo]\nchunk_delay_ms = 1\n[runtime]\nwatch_debounce_ms = 50\n"
    )
    return AppContext.open(root, host=PluginHost.create(entry_points=False))


@pytest.fixture
async def ctx(root: Path) -> AsyncIterator[AppContext]:
    context = open_ctx(root)
    yield context
    context.manager.close()


@pytest.fixture
async def coord(ctx: AppContext) -> AsyncIterator[Coordinator]:
    coordinator = Coordinator(ctx)
    yield coordinator
    await coordinator.shutdown()


async def test_another_process_appending_to_an_open_session_shows_up(
    root: Path, ctx: AppContext, coord: Coordinator
) -> None:
    """Messages appended by another process arrive as external MessageAdded events in order, extend
    the open history and count as unread when the session is not shown."""
    s = ctx.manager.create("po", "shared")
    ctx.manager.append(s.id, Message(role="user", content="mine"))
    live = coord.open(s.id)
    watch = Watch(coord)
    await coord.start_watching()
    assert coord.watching
    await other_process(root, "append", s.id, "from the cli", "cli reply")
    await watch.until(lambda e: isinstance(e, MessageAdded) and e.message.content == "cli reply")
    added = [
        (e.index, e.message.content, e.external)
        for e in watch.events
        if isinstance(e, MessageAdded)
    ]
    assert added == [(1, "from the cli", True), (2, "cli reply", True)]
    assert [m.content for m in live.history] == ["mine", "from the cli", "cli reply"]
    assert live.unread == 2
    assert live.preview == "cli reply"


def _edit_in_place(path: Path, sid: str, text: str) -> None:
    """Add a message to a session file as an editor saving in place does: the same file, no
    rename, so the folder's time does not move."""
    from prompt_sessions.storage.session_codec import decode_session, encode_session

    edited = decode_session(path.read_bytes(), sid)
    edited.history.append(Message(role="assistant", content=text))
    with open(path, "r+b") as f:
        f.write(encode_session(edited))
        f.truncate()


async def test_a_file_edited_in_place_by_another_program_shows_up(
    root: Path, ctx: AppContext, coord: Coordinator
) -> None:
    """Another program edits an open session's file in place while the watch runs: the
    watcher's event makes the store look again at that file, and the added message arrives
    and is listed, though lists otherwise trust the catalog while the folder keeps its time."""
    s = ctx.manager.create("po", "shared")
    ctx.manager.append(s.id, Message(role="user", content="mine"))
    ctx.manager.flush()  # at rest: lists trust the catalog while the folder keeps its time
    live = coord.open(s.id)
    watch = Watch(coord)
    await coord.start_watching()
    await other_process(root, "append", s.id, "proof the watch runs")
    await watch.until(lambda e: isinstance(e, MessageAdded) and e.external)
    _edit_in_place(root / "sessions" / f"{s.id}.json", s.id, "typed in an editor")
    await watch.until(
        lambda e: isinstance(e, MessageAdded) and e.message.content == "typed in an editor"
    )
    assert [m.content for m in live.history][-1] == "typed in an editor"
    assert [x.message_count for x in ctx.manager.list() if x.id == s.id] == [3]


async def test_a_file_edited_in_place_before_the_watch_is_in_place_shows_up(
    root: Path, ctx: AppContext, coord: Coordinator
) -> None:
    """An in-place edit made before the folder watch is in place: no event names the file, so
    the catch-up after the watch's first report looks again at every session's file."""
    s = ctx.manager.create("po", "shared")
    ctx.manager.append(s.id, Message(role="user", content="mine"))
    ctx.manager.flush()
    live = coord.open(s.id)
    watch = Watch(coord)
    await coord.start_watching()
    # No await between starting the watch and this edit: the watch task has not run yet.
    _edit_in_place(root / "sessions" / f"{s.id}.json", s.id, "typed in an editor")
    await watch.until(
        lambda e: isinstance(e, MessageAdded) and e.message.content == "typed in an editor"
    )
    assert [m.content for m in live.history] == ["mine", "typed in an editor"]


async def test_our_own_replies_are_not_reported_twice(
    root: Path, ctx: AppContext, coord: Coordinator
) -> None:
    """The watcher sees our own writes too; they must not come back as external messages."""
    s = ctx.manager.create("po")
    watch = Watch(coord)
    await coord.start_watching()
    await coord.send(s.id, "hello")
    await coord.wait_idle()
    other = ctx.manager.create("po", "marker")  # a later change we can wait for
    await watch.until(lambda e: isinstance(e, SessionsChanged))
    await coord.refresh()
    assert [e.external for e in watch.events if isinstance(e, MessageAdded)] == [False, False]
    assert len(coord.get(s.id).history) == 2
    assert other.id not in [live.session_id for live in coord.open_sessions()]


async def test_rename_and_create_elsewhere_are_reported(
    root: Path, ctx: AppContext, coord: Coordinator
) -> None:
    """A rename in another process renames the open session; a session created there changes
    the list of sessions."""
    s = ctx.manager.create("po", "old name")
    live = coord.open(s.id)
    watch = Watch(coord)
    await coord.start_watching()
    await other_process(root, "rename", s.id, "new name")
    await watch.until(lambda e: e == SessionChanged(s.id, "name"))
    assert live.name == "new name"
    watch.events.clear()
    created = await other_process(root, "create", "po", "made elsewhere")
    await watch.until(lambda e: isinstance(e, SessionsChanged))
    assert created in {summary.id for summary in ctx.manager.list()}


async def test_a_session_deleted_elsewhere_is_removed(
    root: Path, ctx: AppContext, coord: Coordinator
) -> None:
    """Deleting an open (and shown) session in another process removes it here with deleted=True."""
    keep = ctx.manager.create("po", "keep")
    gone = ctx.manager.create("po", "gone")
    coord.open(keep.id)
    coord.show(gone.id)
    watch = Watch(coord)
    await coord.start_watching()
    await other_process(root, "delete", gone.id)
    await watch.until(lambda e: isinstance(e, SessionRemoved))
    assert [e for e in watch.events if isinstance(e, SessionRemoved)] == [
        SessionRemoved(gone.id, "gone", "po", deleted=True)
    ]
    assert [live.session_id for live in coord.open_sessions()] == [keep.id]
    assert coord.shown is None


async def test_appends_to_an_unloaded_session_update_its_preview(root: Path) -> None:
    """An unloaded open session gets its preview and unread count from the catalog, and reading
    its history afterwards includes the new messages."""
    root.mkdir(parents=True)
    (root / "config.toml").write_text("[runtime]\nmax_loaded = 1\nwatch_debounce_ms = 50\n")
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
    coord = Coordinator(ctx)
    a = ctx.manager.create("po", "a")
    b = ctx.manager.create("po", "b")
    coord.open(a.id)
    coord.show(b.id)
    assert coord.get(a.id).status is Status.UNLOADED
    watch = Watch(coord)
    await coord.start_watching()
    await other_process(root, "append", a.id, "while you were away")
    await watch.until(lambda e: e == SessionChanged(a.id, "preview"))
    live = coord.get(a.id)
    assert live.preview == "while you were away" and live.unread == 1 and live.message_count == 1
    assert [m.content for m in live.history] == ["while you were away"]
    await coord.shutdown()
    ctx.manager.close()


async def test_interleaved_appends_leave_memory_equal_to_disk(
    root: Path, ctx: AppContext, coord: Coordinator
) -> None:
    """Another process appends while our reply streams: afterwards the open history equals the
    file, with nothing lost or duplicated."""
    s = ctx.manager.create("po")
    live = coord.open(s.id)
    watch = Watch(coord)
    await coord.start_watching()
    await coord.send(s.id, "one two three four five six seven eight nine ten " * 3)
    await other_process(root, "append", s.id, "meanwhile")
    await coord.wait_idle()
    await watch.until(
        lambda e: (
            isinstance(e, MessageAdded | SessionChanged)
            and (getattr(e, "what", None) == "history" or getattr(e, "external", False))
        )
    )
    await coord.refresh()
    on_disk = ctx.manager.get(s.id).history
    assert live.history == on_disk
    assert sorted(m.content[:9] for m in on_disk) == ["You said:", "meanwhile", "one two t"]


async def test_watching_a_store_that_does_not_exist_yet(tmp_path: Path) -> None:
    """Watching starts before the store folder exists; a session created by another process
    later is still reported."""
    root = tmp_path / "later" / ".prompt_objects"
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
    coord = Coordinator(ctx)
    watch = Watch(coord)
    await coord.start_watching()
    assert not root.exists()
    await other_process(root, "create", "po", "first")
    await watch.until(lambda e: isinstance(e, SessionsChanged))
    assert [s.name for s in ctx.manager.list()] == ["first"]
    await coord.shutdown()
    ctx.manager.close()


async def test_live_sync_works_on_a_sqlite_store(root: Path) -> None:
    """With the sqlite backend the watcher follows the database file and its WAL instead."""
    root.mkdir(parents=True)
    (root / "config.toml").write_text(
        '[storage]\nbackend = "sqlite"\n[runtime]\nwatch_debounce_ms = 50\n'
    )
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
    assert ctx.manager.backend.name == "sqlite"
    coord = Coordinator(ctx)
    s = ctx.manager.create("po", "in sqlite")
    live = coord.open(s.id)
    watch = Watch(coord)
    await coord.start_watching()
    await other_process(root, "append", s.id, "from elsewhere")
    await watch.until(lambda e: isinstance(e, MessageAdded) and e.external)
    assert [m.content for m in live.history] == ["from elsewhere"]
    await coord.shutdown()
    ctx.manager.close()


async def test_known_sessions_follow_the_catalog_as_each_sync_reads_it(
    root: Path, ctx: AppContext, coord: Coordinator
) -> None:
    """None before the first reading; then the unarchived sessions of the PO asked for (and the
    one kept, archived or not), brought up to date by the watcher when another process creates
    one."""
    kept = ctx.manager.create("po", "kept")
    archived = ctx.manager.create("po", "old")
    ctx.manager.archive(archived.id)
    ctx.manager.create("other", "elsewhere")
    assert coord.known_sessions() is None
    watch = Watch(coord)
    await coord.start_watching()
    assert [s.id for s in coord.known_sessions("po") or []] == [kept.id]
    assert {s.name for s in coord.known_sessions() or []} == {"kept", "elsewhere"}
    # the session on screen is kept, archived or not
    assert {s.id for s in coord.known_sessions("po", keep=archived.id) or []} == {
        kept.id,
        archived.id,
    }
    created = await other_process(root, "create", "po", "from the cli")
    await watch.until(lambda e: isinstance(e, SessionsChanged))
    assert {s.id for s in coord.known_sessions("po") or []} == {kept.id, created}


@pytest.mark.parametrize("backend", ["json", "sqlite"])
async def test_own_deletions_are_not_reported_as_another_programs(root: Path, backend: str) -> None:
    """A session deleted through this process's manager (not the runtime) is removed when the
    sync runs, with deleted=False; one deleted by another process is deleted=True."""
    root.mkdir(parents=True)
    (root / "config.toml").write_text(f'[storage]\nbackend = "{backend}"\n')
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
    assert ctx.manager.backend.name == backend
    mine = ctx.manager.create("po", "mine")
    theirs = ctx.manager.create("po", "theirs")
    coord = Coordinator(ctx)
    events: list[object] = []
    coord.subscribe(events.append)
    await coord.start_watching()
    try:
        coord.open(mine.id)
        coord.open(theirs.id)
        ctx.manager.delete(mine.id)
        await other_process(root, "delete", theirs.id)
        await coord.refresh()
        removed = [e for e in events if isinstance(e, SessionRemoved)]
        assert sorted(removed, key=lambda e: e.name) == [
            SessionRemoved(mine.id, "mine", "po", deleted=False),
            SessionRemoved(theirs.id, "theirs", "po", deleted=True),
        ]
    finally:
        await coord.shutdown()
        ctx.manager.close()
    assert "OwnChanges" not in " ".join(p.name for p in ctx.host.plugins())


@pytest.mark.parametrize("backend", ["json", "sqlite"])
async def test_a_change_made_before_the_watch_is_in_place_is_caught_up(
    root: Path, backend: str
) -> None:
    """A message another program appends after the coordinator's first reading but before the
    folder watch is in place reaches the open session all the same: the watch's first report
    (changes or none) is followed by a catch-up reading."""
    root.mkdir(parents=True)
    (root / "config.toml").write_text(
        f'[storage]\nbackend = "{backend}"\n[runtime]\nwatch_debounce_ms = 50\n'
    )
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
    coord = Coordinator(ctx)
    s = ctx.manager.create("po", "early")
    live = coord.open(s.id)
    watch = Watch(coord)
    await coord.start_watching()
    # No await between starting the watch and this write: the watch task has not run yet.
    other = SessionManager.open(root, host=PluginHost.create(entry_points=False))
    other.append(s.id, Message(role="user", content="before the watch"))
    other.close()
    await watch.until(lambda e: isinstance(e, MessageAdded) and e.external)
    assert [m.content for m in live.history] == ["before the watch"]
    await coord.shutdown()
    ctx.manager.close()
