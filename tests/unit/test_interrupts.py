"""Ctrl-C held while the program loads (``prompt_sessions.interrupts``): a SIGINT that comes
while held raises nothing until the hold ends, then arrives as one ``KeyboardInterrupt``; a
nested hold changes nothing, and a handler of someone else's is left alone."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest

from prompt_sessions import interrupts


@pytest.fixture
def python_handler() -> Iterator[None]:
    """SIGINT handled by Python's own handler, as in the console script."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        interrupts.release()
        signal.signal(signal.SIGINT, before)


def _sigint_now() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(1000):  # bytecodes, so that Python runs a pending handler
        pass


@pytest.mark.usefixtures("python_handler")
def test_a_held_sigint_arrives_when_the_hold_ends() -> None:
    """While held, SIGINT raises nothing (not even inside the nested block); once the outer
    hold ends it is raised, once."""
    with pytest.raises(KeyboardInterrupt), interrupts.held():
        with interrupts.held():
            _sigint_now()
        _sigint_now()
        reached = True
    assert reached


@pytest.mark.usefixtures("python_handler")
def test_without_a_sigint_the_hold_ends_quietly() -> None:
    """A hold without a SIGINT ends without a word, and Ctrl-C raises again afterwards."""
    with interrupts.held():
        pass
    with pytest.raises(KeyboardInterrupt):
        _sigint_now()


def test_another_handler_is_left_alone() -> None:
    """With a handler of someone else's (a test runner's), hold does nothing, and off the
    main thread it does nothing either."""
    got: list[int] = []
    before = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    try:
        assert interrupts.hold() is False
        _sigint_now()
        assert got == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, before)
    answers: list[bool] = []
    thread = threading.Thread(target=lambda: answers.append(interrupts.hold()))
    thread.start()
    thread.join()
    assert answers == [False]
