"""Two instances against a model (issue 3, suite 4), with crashes and restarts.

Two managers share one folder, as two processes would; either may be "killed" (dropped without
close or fold, like SIGKILL) and reopened at any step. Hypothesis drives random steps against an
in-memory model; after every step both managers must agree with the model. The unit suite's
state machine checks the API; this one checks that a crash of either side never diverges.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from prompt_sessions.errors import SessionNotFound
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from reliability_support import abandon, assert_at_rest, open_manager, scaled

names = st.text(
    # Names may hold no control character: C0, DEL and C1 (category Cc) are refused.
    st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_categories=("Cc",)),
    min_size=1,
    max_size=12,
).filter(str.strip)
side = st.integers(0, 1)


class TwoProcesses(RuleBasedStateMachine):
    sessions = Bundle("sessions")

    def __init__(self) -> None:
        super().__init__()
        self.base = Path(tempfile.mkdtemp(prefix="two-managers-"))
        self.root = self.base / ".prompt_objects"
        self.mgrs: list[SessionManager] = [self._open(), self._open()]
        self.model: dict[str, tuple[str, list[str]]] = {}
        self.counter = 0

    def _open(self) -> SessionManager:
        return open_manager(self.root, fold_after_lines=7)

    @rule(target=sessions, who=side, name=names)
    def create(self, who: int, name: str) -> str:
        sid = self.mgrs[who].create("po", name).id
        self.model[sid] = (name.strip(), [])
        return sid

    @rule(who=side, sid=sessions)
    def append(self, who: int, sid: str) -> None:
        self.counter += 1
        content = f"message {self.counter}"
        try:
            self.mgrs[who].append(sid, Message(role="user", content=content))
        except SessionNotFound:
            assert sid not in self.model
            return
        self.model[sid][1].append(content)

    @rule(who=side, sid=sessions, name=names)
    def rename(self, who: int, sid: str, name: str) -> None:
        try:
            self.mgrs[who].rename(sid, name)
        except SessionNotFound:
            assert sid not in self.model
            return
        self.model[sid] = (name.strip(), self.model[sid][1])

    @rule(who=side, sid=sessions)
    def delete(self, who: int, sid: str) -> None:
        try:
            self.mgrs[who].delete(sid)
        except SessionNotFound:
            assert sid not in self.model
            return
        del self.model[sid]

    @rule(target=sessions, who=side, sid=sessions)
    def fork(self, who: int, sid: str) -> str:
        if sid not in self.model:
            return sid
        new = self.mgrs[who].fork(sid, at=len(self.model[sid][1]) // 2, name="forked").id
        self.model[new] = ("forked", self.model[sid][1][: len(self.model[sid][1]) // 2])
        return new

    @rule(who=side)
    def flush(self, who: int) -> None:
        self.mgrs[who].flush()

    @rule(who=side)
    def crash_and_restart(self, who: int) -> None:
        abandon(self.mgrs[who])
        self.mgrs[who] = self._open()

    @rule(who=side)
    def close_and_reopen(self, who: int) -> None:
        self.mgrs[who].close()
        self.mgrs[who] = self._open()

    @invariant()
    def both_agree_with_the_model(self) -> None:
        for mgr in self.mgrs:
            listed = {s.id: (s.name, s.message_count) for s in mgr.list()}
            assert listed == {sid: (name, len(msgs)) for sid, (name, msgs) in self.model.items()}
        for sid, (name, msgs) in self.model.items():
            session = self.mgrs[self.counter % 2].get(sid)
            assert (session.name, [m.content for m in session.history]) == (name, msgs)

    def teardown(self) -> None:
        for mgr in self.mgrs:
            mgr.close()
        if (self.root / "sessions").exists():
            assert_at_rest(self.root)
        shutil.rmtree(self.base)


TwoProcesses.TestCase.settings = settings(
    max_examples=scaled(500),
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_two_managers_with_crashes_match_the_model = TwoProcesses.TestCase
