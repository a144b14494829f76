"""The escape sequence of a terminal notification (DESIGN section 15, "Attention").

OSC 777 (``notify;title;body``) where the terminal is known to show it (foot, urxvt, WezTerm,
Ghostty); OSC 9 (one line of text) everywhere else that shows notifications (iTerm2, kitty,
WezTerm, Windows Terminal ignores it). Inside tmux the sequence is wrapped so that tmux passes
it through to the outer terminal. Text is stripped of control characters: a session name must
never end the sequence early or start another one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

TEXT_MAX = 200  # characters of title or body: notifications show one or two lines
OSC777_TERMS = ("foot", "rxvt", "xterm-ghostty")  # $TERM prefixes
OSC777_PROGRAMS = ("WezTerm", "ghostty")  # $TERM_PROGRAM values


def supports_osc777(environ: Mapping[str, str]) -> bool:
    """Whether the terminal (judged by ``$TERM`` and ``$TERM_PROGRAM``) shows OSC 777."""
    term = environ.get("TERM", "")
    return term.startswith(OSC777_TERMS) or environ.get("TERM_PROGRAM", "") in OSC777_PROGRAMS


def _clean(text: str, *, fields: bool = False) -> str:
    shown = "".join(c if c.isprintable() else " " for c in text)[:TEXT_MAX].strip()
    return shown.replace(";", ",") if fields else shown  # ";" separates OSC 777's fields


def notification(title: str, body: str, environ: Mapping[str, str] | None = None) -> str:
    """The bytes (as text) that ask the terminal to show ``title`` and ``body``.

    Args:
        title: a short heading (``prompt-sessions``).
        body: one line saying what happened.
        environ: the environment to judge the terminal by (default: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    if supports_osc777(env):
        sequence = f"\x1b]777;notify;{_clean(title, fields=True)};{_clean(body, fields=True)}\x07"
    else:
        sequence = f"\x1b]9;{_clean(title)}: {_clean(body)}\x07"
    if env.get("TMUX"):
        # tmux passes a DCS "tmux;" sequence on, with each ESC inside doubled.
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence
