"""The main screen, one file per responsibility.

- ``screen.py``: the layout, the keys and start-up;
- ``base.py``: what every part reads (the app, the runtime, the widgets, the shown session);
- ``status_hints.py``: the panel title and the status bar (what is happening, which keys work);
- ``shown_session.py``: which session is on screen, its view state, and catching up after changes;
- ``composer.py``: the message box: sending messages and running slash commands;
- ``find_filter.py``: finding text in the shown session and filtering it;
- ``reply_stream.py``: runtime events: replies streaming, messages arriving, sessions removed;
- ``session_actions.py``: the session keys and modals: picker, new, explorer, step, close, rename;
- ``attention.py``: telling the person a session they do not look at needs them.
"""

from .screen import MainScreen

__all__ = ["MainScreen"]
