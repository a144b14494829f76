"""The POs of the environment; arrows or h/l move between them."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...text import visible


class PoList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "cursor_up", "Previous PO", show=False),
        Binding("l", "cursor_down", "Next PO", show=False),
    ]
    DEFAULT_CSS = """
    PoList { width: 100%; height: 1fr; }
    """

    def set_pos(self, names: list[str], current: str) -> None:
        self.clear_options()
        self.add_options([Option(Text(visible(name, one_line=True)), id=name) for name in names])
        if current in names:
            self.highlighted = names.index(current)

    @property
    def names(self) -> list[str]:
        return [str(self.get_option_at_index(i).id) for i in range(self.option_count)]
