"""Keys typed at once reach a text box in the order typed.

A text box inserts a letter as its key event arrives, but its editing keys (Backspace, the
arrows, ctrl+u ...) are bindings, which Textual runs only once the key has bubbled up to the
app: under keys typed at once (a fast typist, a slow link, a loaded machine) the letters typed
after Backspace were inserted first and then deleted by it. Running the box's own binding as
its key arrives keeps the order; the same binding wins as before, since the focused widget's
bindings come first among the non-priority ones (priority bindings were checked before the key
reached the box).
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run ``widget``'s own non-priority binding for ``event`` now, as the app would run it
    later, and stop the event. Returns whether a binding took the key (False: none, or its
    action declined it, and the key goes on as before)."""
    for key in event.aliases:  # backspace also arrives as ctrl+h
        for binding in widget._bindings.key_to_bindings.get(key, ()):
            if binding.priority:
                continue
            if await widget.app.run_action(binding.action, widget):
                event.stop()
                event.prevent_default()
                return True
    return False
