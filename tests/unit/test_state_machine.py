"""Two SessionManagers on one folder, driven by hypothesis against a simple in-memory model."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from prompt_sessions import Message, SessionManager
from prompt_sessions.organise.names import is_placeholder, title_from
from prompt_sessions.plugins import PluginHost

POS = ["coordinator", "writer"]
names = st.text(alphabet="ab ÄΩ-_.1", min_size=1, max_size=12).filter(lambda s: s.strip())
contents = st.text(min_size=0, max_size=40)


@dataclass
class Model:
    """What a session should look like; ``touched`` orders the list (newest first)."""

    name: str
    po: str
    history: list[tuple[str, str]] = field(default_factory=list)
    touched: int = 0
    parent: str | None = None
    fork_point: int | None = None
    auto: bool = False  # auto-named: the first user message names it (DESIGN section 14)


class TwoManagers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="ps-state-"))
        self.root = self.tmp / ".prompt_objects"
        self.managers = [self._open(), self._open()]
        self.model: dict[str, Model] = {}
        self.current: dict[str, str] = {}
        self.clock = 0

    def _open(self) -> SessionManager:
        return SessionManager.open(self.root, host=PluginHost.create(entry_points=False))

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def teardown(self) -> None:
        for mgr in self.managers:
            mgr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _pick(self, data: st.DataObject) -> str:
        # Ids are random uuids: pick by creation order so replays draw the same way.
        return data.draw(st.sampled_from(list(self.model)), label="session")

    def _mgr(self, which: int) -> SessionManager:
        return self.managers[which]

    # ------------------------------------------------------------------ rules

    @rule(which=st.integers(0, 1), po=st.sampled_from(POS), name=st.none() | names)
    def create(self, which: int, po: str, name: str | None) -> None:
        s = self._mgr(which).create(po, name)
        expected = "New Session" if name is None else name.strip()
        assert s.name == expected
        self.model[s.id] = Model(name=expected, po=po, touched=self._tick(), auto=name is None)

    @precondition(lambda self: self.model)
    @rule(
        which=st.integers(0, 1),
        role=st.sampled_from(["user", "assistant"]),
        content=contents,
        data=st.data(),
    )
    def append(self, which: int, role: str, content: str, data: st.DataObject) -> None:
        sid = self._pick(data)
        self._mgr(which).append(sid, Message(role=role, content=content))  # type: ignore[arg-type]
        model = self.model[sid]
        if role == "user" and model.auto and is_placeholder(model.name):
            model.name = title_from(content) or model.name
        model.history.append((role, content))
        self.model[sid].touched = self._tick()

    @precondition(lambda self: self.model)
    @rule(which=st.integers(0, 1), name=names, data=st.data())
    def rename(self, which: int, name: str, data: st.DataObject) -> None:
        sid = self._pick(data)
        self._mgr(which).rename(sid, name)
        self.model[sid].name = name.strip()
        self.model[sid].auto = False

    @precondition(lambda self: self.model)
    @rule(which=st.integers(0, 1), data=st.data())
    def delete(self, which: int, data: st.DataObject) -> None:
        sid = self._pick(data)
        self._mgr(which).delete(sid)
        gone = self.model.pop(sid)
        if self.current.get(gone.po) == sid:
            del self.current[gone.po]

    @precondition(lambda self: self.model)
    @rule(which=st.integers(0, 1), data=st.data())
    def fork(self, which: int, data: st.DataObject) -> None:
        sid = self._pick(data)
        source = self.model[sid]
        at = data.draw(st.integers(0, len(source.history)), label="at")
        f = self._mgr(which).fork(sid, at=at)
        assert (f.parent_id, f.parent_message_index) == (sid, at)
        self.model[f.id] = Model(
            name=f.name,
            po=source.po,
            history=list(source.history[:at]),
            touched=self._tick(),
            parent=sid,
            fork_point=at,
        )

    @precondition(lambda self: self.model)
    @rule(which=st.integers(0, 1), data=st.data())
    def duplicate(self, which: int, data: st.DataObject) -> None:
        sid = self._pick(data)
        source = self.model[sid]
        d = self._mgr(which).duplicate(sid)
        taken = {m.name for m in self.model.values() if m.po == source.po}
        base, number = source.name, 1
        # A copy of "X (copy)" or "X (copy N)" is numbered on from it; the mark never stacks.
        marked = re.search(r" \(copy(?: ([0-9]+))?\)\Z", base)
        if marked is not None and marked.start() > 0:
            base, number = base[: marked.start()], int(marked[1] or 1) + 1
        while True:  # "X (copy)", then "X (copy 2)", ...: the first its PO does not hold
            mark = " (copy)" if number == 1 else f" (copy {number})"
            expected = (base[: 80 - len(mark)].rstrip() or "Session") + mark
            if expected not in taken:
                break
            number += 1
        assert d.name == expected
        self.model[d.id] = Model(
            name=d.name, po=source.po, history=list(source.history), touched=self._tick()
        )

    @precondition(lambda self: self.model)
    @rule(which=st.integers(0, 1), data=st.data())
    def switch(self, which: int, data: st.DataObject) -> None:
        sid = self._pick(data)
        po = self.model[sid].po
        self._mgr(which).switch(po, sid)
        self.current[po] = sid

    @rule(which=st.integers(0, 1))
    def reopen(self, which: int) -> None:
        """A manager goes away (process exit) and a fresh one takes its place."""
        self.managers[which].close()
        self.managers[which] = self._open()

    # ------------------------------------------------------------------ invariants

    @invariant()
    def both_managers_list_the_model(self) -> None:
        expected = sorted(self.model, key=lambda sid: self.model[sid].touched, reverse=True)
        for mgr in self.managers:
            listed = mgr.list()
            assert [s.id for s in listed] == expected
            for s in listed:
                m = self.model[s.id]
                assert (s.name, s.po_name, s.message_count) == (m.name, m.po, len(m.history))
                assert s.parent_id == m.parent
            for po in POS:
                assert [s.id for s in mgr.list(po)] == [
                    sid for sid in expected if self.model[sid].po == po
                ]
            assert mgr.problems() == {}

    @invariant()
    def both_managers_get_the_model(self) -> None:
        for sid, m in self.model.items():
            for mgr in self.managers:
                s = mgr.get(sid)
                assert (s.name, s.po_name) == (m.name, m.po)
                assert [(x.role, x.content) for x in s.history] == m.history
                assert s.parent_message_index == m.fork_point

    @invariant()
    def current_session_is_shared(self) -> None:
        for po, sid in self.current.items():
            for mgr in self.managers:
                found = mgr.peek_current(po)
                assert found is not None and found.id == sid


TwoManagers.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_two_managers_agree_with_the_model = TwoManagers.TestCase
test_two_managers_agree_with_the_model.__doc__ = (
    "Random create/append/rename/delete/fork/duplicate/switch/reopen sequences through two managers "
    "on one folder: list, get and the current session always agree with the model from both."
)
