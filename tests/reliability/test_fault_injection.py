"""Fault injection at every I/O step of every mutating operation (issue 3, suite 2).

For each operation the calls it makes are first recorded on a fault-free run; then for every N up
to that count, for ENOSPC, EIO and EACCES, once and persistently, the Nth call fails. Every case
must end in an error of the project's family (never a bare OSError, never a false success after
a failed fsync), leave each session file byte-identical to before or exactly the fault-free
result, keep the manager usable, and leave a clean folder after the next open.
"""

from __future__ import annotations

import errno
import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

import prompt_sessions.importing as importing_module
import prompt_sessions.checks as checks_module
from faults import FaultPlan, injected
from prompt_sessions.errors import PromptSessionsError, StorageError
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message, Session
from prompt_sessions.storage import session_codec
from reliability_support import (
    abandon,
    assert_at_rest,
    by_id,
    hygiene_problems,
    open_manager,
    rebuilt_summaries,
    snapshot,
)

ERRNOS = (errno.ENOSPC, errno.EIO, errno.EACCES)
PO = "coordinator"


def message(i: int, role: str = "user") -> Message:
    return Message(
        role=role,
        content=f"message {i} " + "word " * (i % 7),
        created_at=f"2025-01-03T10:00:{i:02d}.000Z",
    )


@pytest.fixture(autouse=True)
def deterministic(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Ids and clock of the manager become counters, so two runs write identical bytes."""
    counter = itertools.count(1)
    ticks = itertools.count(1)

    def reset() -> None:
        # Cases start after the ids and times the base store used.
        nonlocal counter, ticks
        counter = itertools.count(1000)
        ticks = itertools.count(1000)

    def clock() -> str:
        tick = next(ticks)
        return f"2025-02-01T{tick // 3600:02d}:{tick // 60 % 60:02d}:{tick % 60:02d}.000Z"

    for module in (checks_module, importing_module):  # the import path makes its own copies
        monkeypatch.setattr(module, "new_id", lambda: str(uuid.UUID(int=next(counter), version=4)))
        monkeypatch.setattr(module, "now_iso", clock)
    yield reset


@dataclass
class Ids:
    full: str
    empty: str
    other: str


def build_base(root: Path) -> Ids:
    """Three sessions at rest: one with history, one empty, one with a single message."""
    mgr = open_manager(root)
    full = mgr.create(PO, "Full", history=[message(i) for i in range(3)]).id
    empty = mgr.create(PO, "Empty").id
    other = mgr.create("writer", "Other", history=[message(9, "assistant")]).id
    mgr.switch(PO, full)
    mgr.close()
    return Ids(full, empty, other)


def import_payload(ids: Ids) -> bytes:
    docs = [
        Session(
            id=str(uuid.UUID(int=900 + i, version=4)),
            name=f"Imported {i}",
            po_name=PO,
            created_at="2024-12-01T00:00:00.000Z",
            updated_at="2024-12-01T00:00:00.000Z",
            history=[message(i)],
        )
        for i in range(2)
    ]
    return msgspec.json.encode(docs)


def _prepare_foreign_layout(root: Path, ids: Ids, mgr: SessionManager) -> None:
    # A hand-edited (pretty-printed) file: the next append must rewrite it whole.
    path = root / "sessions" / f"{ids.full}.json"
    doc = msgspec.json.decode(path.read_bytes())
    path.write_bytes(msgspec.json.format(msgspec.json.encode(doc), indent=2))


def _replace_file(path: Path, data: bytes) -> None:
    """A file that arrives behind the store's back (restored, synced): a new file renamed over
    the old one, which list notices (an edit in place is for doctor and get)."""
    new = path.with_name(path.name + ".new")
    new.write_bytes(data)
    os.chmod(new, 0o600)
    os.replace(new, path)


def _prepare_torn(root: Path, ids: Ids, mgr: SessionManager) -> None:
    # A copy whose last append power loss cut short: the next read repairs the tail.
    path = root / "sessions" / f"{ids.full}.json"
    _replace_file(path, path.read_bytes()[:-20])


def _prepare_damage(root: Path, ids: Ids, mgr: SessionManager) -> None:
    _replace_file(root / "sessions" / f"{ids.other}.json", b'{"format_version": 1, "id": ')


def _prepare_pending_fold(root: Path, ids: Ids, mgr: SessionManager) -> None:
    mgr.append(ids.empty, message(20))


@dataclass
class Case:
    name: str
    run: Callable[[SessionManager, Ids], Any]
    prepare: Callable[[Path, Ids, SessionManager], None] | None = None
    # A read whose write is only a tidy-up: it succeeds when the tidy-up cannot be done, as long
    # as every file is old or new (reading never needs to write).
    read: bool = False


CASES = [
    Case("create", lambda m, i: m.create(PO, "New one")),
    Case(
        "create_with_history",
        lambda m, i: m.create(PO, "Seeded", history=[message(30), message(31)]),
    ),
    Case("append", lambda m, i: m.append(i.full, message(40))),
    Case("append_first_message", lambda m, i: m.append(i.empty, message(41))),
    Case(
        "append_rewrites_foreign_layout",
        lambda m, i: m.append(i.full, message(42)),
        _prepare_foreign_layout,
    ),
    Case("rename", lambda m, i: m.rename(i.full, "Renamed")),
    Case("update", lambda m, i: m.update(i.full, archived=True, tags=["a", "b"])),
    Case("delete", lambda m, i: m.delete(i.other)),
    Case("delete_current", lambda m, i: m.delete(i.full)),
    Case("duplicate", lambda m, i: m.duplicate(i.full)),
    Case("fork", lambda m, i: m.fork(i.full, at=2)),
    Case("import", lambda m, i: m.import_sessions(import_payload(i))),
    Case("switch", lambda m, i: m.switch(PO, i.empty)),
    Case("fold", lambda m, i: m.flush(), _prepare_pending_fold),
    Case("repair_torn_tail", lambda m, i: m.get(i.full), _prepare_torn, read=True),
    Case("doctor_repair", lambda m, i: _doctor_repair(m), _prepare_damage),
]


def _doctor_repair(mgr: SessionManager) -> Any:
    """doctor --repair as the CLI judges it: a session it could not open is reported (exit 1),
    not a success; the rest of the store is still checked."""
    report = mgr.check(repair=True)
    if report.unreadable:
        raise StorageError("; ".join(report.unreadable.values()))
    return report


def run_case(
    base: Path, work: Path, case: Case, ids: Ids, plan: FaultPlan, reset: Callable[[], None]
) -> tuple[dict[str, bytes], BaseException | None, SessionManager]:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(base, work)
    reset()
    mgr = open_manager(work, lock_timeout=0.5)
    if case.prepare is not None:
        case.prepare(work, ids, mgr)
    before = snapshot(work)
    error: BaseException | None = None
    with injected(plan):
        try:
            case.run(mgr, ids)
        except BaseException as exc:  # noqa: BLE001 - every escape is judged below
            error = exc
    return before, error, mgr


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_io_step_fails_cleanly(
    case: Case, tmp_path: Path, deterministic: Callable[[], None]
) -> None:
    """Each failing call gives a typed error, old-or-new files, a usable manager and a clean reopen."""
    base = tmp_path / "base"
    ids = build_base(base)

    reference = FaultPlan()
    _, error, mgr = run_case(base, tmp_path / "reference", case, ids, reference, deterministic)
    assert error is None, f"fault-free run failed: {error!r}"
    mgr.close()
    after = snapshot(tmp_path / "reference")
    assert reference.calls, "the operation made no intercepted calls"

    failures: list[str] = []
    work = tmp_path / "work"
    for n, err, persistent in itertools.product(
        range(1, len(reference.calls) + 1), ERRNOS, (False, True)
    ):
        plan = FaultPlan(fail_at=n, err=err, persistent=persistent)
        label = f"{case.name}: call {n} ({reference.calls[n - 1]}) {errno.errorcode[err]} {'always' if persistent else 'once'}"
        before, error, mgr = run_case(base, work, case, ids, plan, deterministic)
        failures += judge(label, work, before, after, plan, error, mgr, read=case.read)
        if len(failures) > 20:
            break
    assert not failures, "\n".join(failures)


def judge(
    label: str,
    work: Path,
    before: dict[str, bytes],
    after: dict[str, bytes],
    plan: FaultPlan,
    error: BaseException | None,
    mgr: SessionManager,
    *,
    read: bool = False,
) -> list[str]:
    problems: list[str] = []
    if error is not None and not isinstance(error, PromptSessionsError):
        problems.append(f"{label}: {type(error).__name__} escaped: {error}")
    if error is None and "fsync" in plan.injected and not read:
        problems.append(f"{label}: an fsync failed but the operation reported success")

    def files_are_old_or_new(when: str) -> None:
        now = snapshot(work)
        for sid in before.keys() | after.keys() | now.keys():
            state = now.get(sid)
            if state != before.get(sid) and state != after.get(sid):
                problems.append(f"{label}: {when}, session {sid[:8]} is neither old nor new")
        if error is None and now != after and not (read and now == before):
            problems.append(f"{label}: reported success but the files are not the new state")

    files_are_old_or_new("after the failure")
    try:
        mgr.list()
        if mgr.backend.lock.held:  # type: ignore[attr-defined]
            problems.append(f"{label}: the store lock is still held after the error")
    except Exception as exc:  # noqa: BLE001
        problems.append(f"{label}: manager unusable after the fault: {exc!r}")
    abandon(mgr)
    damaged = {sid for sid, data in before.items() if not _parses(sid, data)}
    try:
        fresh = open_manager(work)
        listed = by_id(fresh.list())
        if listed != rebuilt_summaries(work, damaged):
            problems.append(f"{label}: after reopening, list() differs from a rebuild")
        fresh.close()
        assert_at_rest(work, damaged)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"{label}: not clean after the next open: {exc!r}")
    files_are_old_or_new("after the next open")
    problems += [f"{label}: {p}" for p in hygiene_problems(work)]
    return problems


def _parses(sid: str, data: bytes) -> bool:
    """Readable as it lies, or after the torn-tail repair every open may apply."""
    try:
        session_codec.decode_session(data, sid)
    except PromptSessionsError:
        return session_codec.repair_torn_tail(data, sid) is not None
    return True
