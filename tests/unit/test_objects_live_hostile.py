"""PO files read again while a frontend runs, under hostile changes (DESIGN section 3: bad PO
files are reported, not fatal): a FIFO or a folder named like a PO file, two files naming one
PO, a file broken between a send's check and its reply, a rewrite that keeps the file's size
and time, a file removed as it is listed, the ``objects/`` folder replaced by a file. Never a
hang or a traceback, and never a PO answering without the prompt it has on disk."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cli_runner import Run

from prompt_sessions import context as context_module
from prompt_sessions.context import AppContext
from prompt_sessions.objects import PromptObjectError
from prompt_sessions.plugins import PluginHost
from prompt_sessions.runtime import Coordinator, Status
from prompt_sessions.runtime.events import ReplyFailed, ReplyFinished, RuntimeEvent


def write_po(root: Path, file: str, text: str) -> Path:
    path = root / "objects" / f"{file}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def objects_within(ctx: AppContext, seconds: float = 10.0) -> dict:
    """``ctx.objects`` read in a thread, so that a read that blocks fails the test instead of
    hanging it."""
    found: dict = {}
    reader = threading.Thread(target=lambda: found.update(ctx.objects), daemon=True)
    reader.start()
    reader.join(seconds)
    assert not reader.is_alive(), "reading the PO files blocked"
    return found


def test_a_fifo_named_like_a_po_file_is_refused_never_read(run: Run) -> None:
    """A FIFO at objects/critic.md (a read would wait for a writer forever; it also stands in
    for a file that cannot be opened, which root can always open) is refused in one line:
    the other POs load, send to critic fails naming the file, send to writer works."""
    write_po(run.store, "writer", "---\nname: writer\n---\nYou write.\n")
    fifo = run.store / "objects" / "critic.md"
    os.mkfifo(fifo)
    ctx = AppContext.open(run.store)
    assert list(objects_within(ctx)) == ["writer"]
    problem = ctx.po_file_problem("critic")
    assert problem is not None and str(fifo) in problem and "not a regular file" in problem
    ctx.manager.close()
    code, _, err = run("send", "critic", "hello")
    assert code == 1 and len(err.strip().splitlines()) == 1 and str(fifo) in err
    assert run("send", "writer", "hello")[0] == 0


def test_a_folder_named_like_a_po_file_is_one_clear_line(tmp_path: Path) -> None:
    """A folder objects/critic.md is refused as not a regular file, without repeating the
    path in an OS error."""
    root = tmp_path / ".prompt_objects"
    (root / "objects" / "critic.md").mkdir(parents=True)
    ctx = AppContext.open(root)
    assert ctx.objects == {}
    problem = ctx.po_file_problem("critic") or ""
    assert "not a regular file" in problem and problem.count("critic.md") == 1
    ctx.manager.close()


def test_two_files_naming_one_po_are_both_refused(run: Run) -> None:
    """a.md and b.md both with ``name: critic``: neither answers for critic (which prompt it
    used would depend on file order); send fails in one line naming both files, doctor says
    it once, and renaming one file's PO makes critic answer again."""
    a = write_po(run.store, "a", "---\nname: critic\n---\nPrompt A.\n")
    b = write_po(run.store, "b", "---\nname: critic\n---\nPrompt B.\n")
    ctx = AppContext.open(run.store)
    assert "critic" not in ctx.objects
    try:
        ctx.po_for_reply("critic")
    except PromptObjectError as exc:
        assert str(a) in str(exc) and str(b) in str(exc)
    else:
        raise AssertionError("critic answered with one of two prompts")
    ctx.manager.close()
    code, _, err = run("send", "critic", "hello")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert str(a) in err and str(b) in err
    _, out, _ = run("doctor")
    assert sum(line.startswith("BAD PO FILE") for line in out.splitlines()) == 1
    b.write_text("---\nname: reviewer\n---\nPrompt B.\n", encoding="utf-8")
    assert run("send", "critic", "hello")[0] == 0


async def test_a_file_broken_after_the_send_fails_the_reply_not_a_bare_answer(
    tmp_path: Path,
) -> None:
    """The PO file breaks after send() checked it and before the reply starts: the reply
    fails naming the file (the message stays, to retry after the fix) instead of the PO
    answering as a bare PO without its prompt."""
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text("[responders.echo]\nchunk_delay_ms = 0\n")
    path = write_po(root, "critic", "---\nname: critic\n---\nFind faults.\n")
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False))
    coord = Coordinator(ctx)
    events: list[RuntimeEvent] = []
    coord.subscribe(events.append)
    try:
        sid = ctx.manager.create("critic", "Review").id
        await coord.send(sid, "hello")
        path.write_text("---\nname: [critic\n---\nFind faults.\n", encoding="utf-8")
        await coord.wait_idle()
        assert not [e for e in events if isinstance(e, ReplyFinished)]
        failed = [e for e in events if isinstance(e, ReplyFailed)]
        assert len(failed) == 1 and str(path) in failed[0].error and "retry" in failed[0].error
        assert coord.get(sid).status is Status.ERROR
        assert [m.role for m in ctx.manager.get(sid).history] == ["user"]
    finally:
        await coord.shutdown()
        ctx.manager.close()


def test_a_rewrite_keeping_size_and_time_is_read_again(tmp_path: Path) -> None:
    """A PO file rewritten in place within one tick of the file clock (same size, same
    modification time) right after it was read is not kept stale: a file that recent is read
    again at the next use."""
    root = tmp_path / ".prompt_objects"
    path = write_po(root, "writer", "---\nname: writer\n---\nBe brief.\n")
    ctx = AppContext.open(root)
    assert ctx.prompt_object("writer").system_prompt == "Be brief.\n"
    before = path.stat()
    path.write_text("---\nname: writer\n---\nBe terse.\n", encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_ino == before.st_ino and path.stat().st_size == before.st_size
    assert ctx.prompt_object("writer").system_prompt == "Be terse.\n"
    ctx.manager.close()


def test_a_file_removed_as_it_is_listed_is_no_problem(tmp_path: Path, monkeypatch) -> None:
    """critic.md removed between the listing of objects/ and its reading: critic has no file
    (no 'cannot read' problem, no traceback), and the next use lists the folder again."""
    root = tmp_path / ".prompt_objects"
    write_po(root, "writer", "---\nname: writer\n---\nYou write.\n")
    critic = write_po(root, "critic", "---\nname: critic\n---\nFind faults.\n")
    ctx = AppContext.open(root)
    real = context_module.objects_stamp

    def listing_then_removal(folder: Path):
        stamp = real(folder)
        critic.unlink(missing_ok=True)
        return stamp

    monkeypatch.setattr(context_module, "objects_stamp", listing_then_removal)
    assert list(ctx.objects) == ["writer"]
    assert ctx.po_file_problem("critic") is None and ctx.po_file_problems() == {}
    assert ctx.po_for_reply("critic").bare
    write_po(root, "critic", "---\nname: critic\n---\nFind faults.\n")
    monkeypatch.setattr(context_module, "objects_stamp", real)
    assert sorted(ctx.objects) == ["critic", "writer"]
    ctx.manager.close()


def test_the_objects_folder_replaced_by_a_file_leaves_no_po(tmp_path: Path) -> None:
    """objects/ removed and a file put in its place while a frontend runs: no PO has a file
    any more and nothing raises; a folder put back is read again."""
    root = tmp_path / ".prompt_objects"
    path = write_po(root, "writer", "---\nname: writer\n---\nYou write.\n")
    ctx = AppContext.open(root)
    assert list(ctx.objects) == ["writer"]
    path.unlink()
    path.parent.rmdir()
    path.parent.write_text("not a folder")
    assert ctx.objects == {} and ctx.po_file_problems() == {}
    assert ctx.po_for_reply("writer").bare
    path.parent.unlink()
    write_po(root, "writer", "---\nname: writer\n---\nYou write.\n")
    assert ctx.po_for_reply("writer").system_prompt == "You write.\n"
    ctx.manager.close()


def test_a_file_name_with_a_newline_is_named_on_one_line(run: Run) -> None:
    """objects/'a<newline>b<escape>[31m.md' (its name is no PO name): send to that PO fails in
    one line, the newline and the escape shown as \\n and \\x1b; doctor's line shows them so."""
    write_po(run.store, "writer", "---\nname: writer\n---\nYou write.\n")
    write_po(run.store, "a\nb\x1b[31m", "You are odd.\n")
    code, _, err = run("send", "a\nb\x1b[31m", "hello")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "a\\nb\\x1b[31m.md" in err
    _, out, _ = run("doctor")
    bad = [line for line in out.splitlines() if line.startswith("BAD PO FILE")]
    assert len(bad) == 1 and "a\\nb\\x1b[31m.md" in bad[0]
