"""Conformance, part two: what persists across reopening, and two instances on one store."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ..models import Session, Usage, summarize
from ..storage.base import StorageBackend
from .conformance_data import make_message, make_session, stamp


class SharingConformance:
    """Mixed into :class:`~prompt_sessions.testing.conformance.BackendConformance`."""

    # ------------------------------------------------------------------ persistence and sharing

    def test_everything_survives_close_and_reopen(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """Sessions, messages, field changes and current choices are all there after reopening."""
        s = make_session(messages=[make_message("one", 1)])
        backend.create(s)
        backend.append(s.id, make_message("two", 2))
        backend.update(s.id, name="Renamed", tags=["kept"])
        backend.set_current(s.po_name, s.id)
        before = backend.get(s.id)
        listed = backend.list()
        backend.close()
        again = open_backend()
        assert again.get(s.id) == before
        assert again.list() == listed
        assert again.get_current(s.po_name) == s.id

    def test_a_second_instance_sees_writes_at_once(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """Two instances on one store (two processes) see each other's writes without closing."""
        other = open_backend()
        s = make_session()
        backend.create(s)
        backend.append(s.id, make_message("from one", 1))
        assert [m.content for m in other.get(s.id).history] == ["from one"]
        assert [x.id for x in other.list()] == [s.id]
        other.append(s.id, make_message("from two", 2))
        other.update(s.id, name="Named by two")
        assert [m.content for m in backend.get(s.id).history] == ["from one", "from two"]
        (summary,) = backend.list()
        assert (summary.name, summary.message_count) == ("Named by two", 2)
        other.delete(s.id)
        assert backend.list() == []

    def test_separate_folders_are_separate_stores(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend], tmp_path: Path
    ) -> None:
        """A backend opened on another folder does not see this folder's sessions."""
        backend.create(make_session())
        elsewhere = open_backend(tmp_path / "elsewhere" / ".prompt_objects")
        assert elsewhere.list() == []

    def test_concurrent_appends_lose_nothing(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """Four writers, each with its own instance, append to one session: every message lands
        once, and each writer's messages keep their order."""
        s = make_session()
        backend.create(s)
        writers = [open_backend() for _ in range(4)]
        errors: list[BaseException] = []

        def write(n: int, store: StorageBackend) -> None:
            try:
                for i in range(15):
                    store.append(s.id, make_message(f"w{n}-{i}", 1 + n, i))
            except BaseException as exc:  # collected: an assert in a thread would be lost
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(n, w)) for n, w in enumerate(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        contents = [m.content for m in backend.get(s.id).history]
        assert sorted(contents) == sorted(f"w{n}-{i}" for n in range(4) for i in range(15))
        for n in range(4):
            mine = [c for c in contents if c.startswith(f"w{n}-")]
            assert mine == [f"w{n}-{i}" for i in range(15)]
        assert backend.list()[0].message_count == 60

    def test_concurrent_creates_are_all_listed(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """Sessions created at once by several instances all appear in every instance's list."""
        writers = [open_backend() for _ in range(3)]
        made: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def create(n: int, store: StorageBackend) -> None:
            try:
                for i in range(8):
                    s = make_session(name=f"s{n}-{i}", minute=n * 8 + i)
                    store.create(s)
                    with lock:
                        made.append(s.id)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(n, w)) for n, w in enumerate(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        for store in [backend, *writers]:
            assert sorted(s.id for s in store.list()) == sorted(made)

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_random_operations_agree_with_a_model(
        self, open_backend: Callable[..., StorageBackend], seed: int
    ) -> None:
        """A reproducible random mix of creates, appends, updates, deletes, current choices and
        reopenings leaves the store equal to a plain in-memory model after every step."""
        rng = random.Random(seed)
        clock = iter(range(1, 10_000))
        model: dict[str, Session] = {}
        current: dict[str, str] = {}
        store = open_backend()
        for _ in range(40):
            op = rng.choice(["create", "append", "append", "update", "delete", "current", "reopen"])
            sid = rng.choice(sorted(model)) if model else None
            if op == "create" or sid is None:
                n = next(clock)
                history = [
                    make_message(f"m{n}-{i}", n // 60, n % 60) for i in range(rng.randint(0, 2))
                ]
                s = make_session(rng.choice(["alpha", "beta"]), f"s{n}", minute=0, messages=history)
                s.created_at = s.updated_at = stamp(n // 60, n % 60)
                store.create(s)
                model[s.id] = s
            elif op == "append":
                n = next(clock)
                m = make_message(
                    f"a{n}", n // 60, n % 60, usage=Usage(input_tokens=n, output_tokens=1)
                )
                store.append(sid, m)
                model[sid].history.append(m)
                model[sid].updated_at = m.created_at
            elif op == "update":
                fields: dict[str, Any] = rng.choice(
                    [
                        {"name": f"renamed {next(clock)}"},
                        {"archived": True},
                        {"pinned": True},
                        {"tags": ["x"]},
                    ]
                )
                store.update(sid, **fields)
                model[sid] = msgspec.structs.replace(model[sid], **fields)
            elif op == "delete":
                store.delete(sid)
                del model[sid]
                current = {po: c for po, c in current.items() if c != sid}
            elif op == "current":
                store.set_current(model[sid].po_name, sid)
                current[model[sid].po_name] = sid
            else:
                store.close()
                store = open_backend()
            expected = sorted(model.values(), key=lambda x: x.updated_at, reverse=True)
            assert store.list() == [summarize(x) for x in expected]
            for x in expected:
                assert store.get(x.id) == x
            for po in ("alpha", "beta"):
                assert store.get_current(po) == current.get(po)
