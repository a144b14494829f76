"""Ctrl-C held while the program loads: imports, plugins, opening the store.

Python raises ``KeyboardInterrupt`` between any two bytecodes. Raised inside an import it
leaves a traceback through the import machinery; raised inside msgspec while it compiles a
type (the first check of config.toml) it can crash the interpreter. So while the program only
loads, SIGINT is blocked in the main thread (the kernel keeps it pending) and noted if another
thread lets it through; it arrives, as ``KeyboardInterrupt``, once loading is done, where the
command line turns it into one line and exit status 130 (DESIGN section 6). Nothing is
written while loading, so nothing is left half-done. Where threads cannot block signals (not
POSIX), Ctrl-C is not held.

This module imports only the C modules ``_signal`` and ``_thread`` (``signal`` imports
``enum``, and ``typing`` costs as much): the console script holds Ctrl-C before it imports
anything else.
"""

import _signal  # type: ignore[import-not-found]  # the C module, typeshed has no stub
import _thread

_SIGINT = {_signal.SIGINT}
_holder: int | None = None  # the thread that holds (signal masks are per thread)
_noted: list[int] = []  # SIGINTs that reached Python while held (through another thread)


def _note(signum: int, frame: object) -> None:
    _noted.append(signum)


def hold() -> bool:
    """Hold SIGINT until :func:`release`: blocked in this thread, and noted rather than raised
    should another thread (one the kernel may pick to receive it) let it through.

    Returns:
        Whether this call started holding: False when already holding, off the main thread,
        without ``pthread_sigmask``, or when SIGINT has a handler other than Python's own (a
        test runner's, an embedding program's), which is left alone.
    """
    global _holder
    if _holder is not None or not hasattr(_signal, "pthread_sigmask"):
        return False
    if _signal.getsignal(_signal.SIGINT) is not _signal.default_int_handler:
        return False
    try:
        _signal.signal(_signal.SIGINT, _note)  # refused off the main thread
    except ValueError:
        return False
    _signal.pthread_sigmask(_signal.SIG_BLOCK, _SIGINT)
    _holder = _thread.get_ident()
    return True


def release() -> None:
    """Stop holding. A SIGINT that came meanwhile is raised now, as ``KeyboardInterrupt``
    (one kept pending by the kernel within the next few bytecodes). Does nothing unless this
    thread holds."""
    global _holder
    if _holder is None or _holder != _thread.get_ident():
        return
    _holder = None
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    noted = bool(_noted)
    _noted.clear()
    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, _SIGINT)
    if noted:
        raise KeyboardInterrupt


class held:  # noqa: N801 (used as a function: ``with held():``)
    """Hold SIGINT for a ``with`` block (a block inside another hold changes nothing); a
    SIGINT that came meanwhile is raised as ``KeyboardInterrupt`` as the block ends."""

    def __enter__(self) -> None:
        self._started = hold()

    def __exit__(self, *exc_info: object) -> None:
        if self._started:
            release()
