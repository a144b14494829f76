"""The Textual TUI (the ``tui`` frontend). Only this package and its plugin import Textual."""
