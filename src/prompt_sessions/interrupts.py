"""Ctrl-C held while the program loads: imports, plugins, opening the store.

Python raises ``KeyboardInterrupt`` between any two bytecodes. Raised inside an import it
leaves a traceback through the import machinery; raised inside msgspec while it compiles a
type (the first check of config.toml) it can crash the interpreter. So while the program only
loads, SIGINT is blocked: the kernel keeps it pending, and it arrives, as
``KeyboardInterrupt``, once loading is done, where the command line turns it into one line and
exit status 130 (DESIGN section 6). Nothing is written while loading, so nothing is left
half-done. Where threads cannot block signals (not POSIX), Ctrl-C is not held.

This module imports only the C ``_signal`` and ``_thread`` modules (``signal`` imports ``enum``, and
``typing`` costs as much): the console script holds Ctrl-C before it imports anything else.
"""

import _signal
import _thread

_SIGINT = {_signal.SIGINT}
_holder: int | None = None  # the thread that holds (signal masks are per thread)


def hold() -> bool:
    """Block SIGINT until :func:`release`.

    Returns:
        Whether this call started holding: False when already holding, off the main thread,
        without ``pthread_sigmask``, or when SIGINT has a handler other than Python's own (a
        test runner's, an embedding program's), which is left alone.
    """
    global _holder
    if _holder is not None or not hasattr(_signal, "pthread_sigmask"):
        return False
    handler = _signal.getsignal(_signal.SIGINT)
    if handler is not _signal.default_int_handler:
        return False
    try:
        _signal.signal(_signal.SIGINT, handler)  # changes nothing; refused off the main thread
    except ValueError:
        return False
    _signal.pthread_sigmask(_signal.SIG_BLOCK, _SIGINT)
    _holder = _thread.get_ident()
    return True


def release() -> None:
    """Stop holding. A SIGINT that came meanwhile is delivered now: Python raises it as
    ``KeyboardInterrupt`` within the next few bytecodes. Does nothing unless this thread
    holds."""
    global _holder
    if _holder is None or _holder != _thread.get_ident():
        return
    _holder = None
    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, _SIGINT)


class held:  # noqa: N801 (used as a function: ``with held():``)
    """Hold SIGINT for a ``with`` block (a block inside another hold changes nothing); a
    SIGINT that came meanwhile is raised as ``KeyboardInterrupt`` as the block ends."""

    def __enter__(self) -> None:
        self._started = hold()

    def __exit__(self, *exc_info: object) -> None:
        if self._started:
            release()
