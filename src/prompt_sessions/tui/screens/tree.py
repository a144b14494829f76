"""The lineage of a session as a tree (``/tree``, DESIGN section 14): its oldest ancestor, every
fork and delegation under it; the shown session is selected, Enter opens the one under the
cursor, Esc closes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Region
from textual.widgets import Label, Tree
from textual.widgets.tree import TreeNode

from ...models import SessionSummary
from ...rewind import Node
from ...text import counted, visible
from ..widgets.hint_line import HintLine
from .landing import LandingModal

Choice = tuple[str, str]  # (po_name, session_id)
KINDS = {"fork": "fork", "delegation": "delegated", "continuation": "continued"}


def label(summary: SessionSummary, shown: str) -> Text:
    """One line: name, PO, message count and the kind of thread; the shown one bold with *."""
    text = Text("* " if summary.id == shown else "", style="bold")
    text.append(visible(summary.name, one_line=True), style="bold" if summary.id == shown else "")
    kind = KINDS.get(summary.thread_type or "")
    details = (
        f"  {visible(summary.po_name, one_line=True)} · {counted(summary.message_count, 'msg')}"
    )
    text.append(details + (f" · {kind}" if kind else ""), style="dim")
    return text


class TreeScreen(LandingModal[Choice | None]):
    """``root`` is the lineage (``rewind.lineage``); ``shown`` the session on screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close"),
        # a priority key: the choice is made before the keys typed right after it are handled,
        # so they reach the chosen conversation's message box (``LandingModal``)
        Binding("enter", "choose", "Show", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    TreeScreen { align: center middle; }
    TreeScreen > Vertical {
        width: 80; max-width: 100%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    TreeScreen Tree { height: auto; max-height: 30; }
    """

    def __init__(self, root: Node, shown: str) -> None:
        super().__init__()
        self.root_node = root
        self.shown = shown

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Lineage: forks and delegations")
            tree: Tree[SessionSummary] = Tree(
                label(self.root_node.summary, self.shown), data=self.root_node.summary
            )
            tree.show_root = True
            tree.guide_depth = 3
            tree.auto_expand = False  # Enter opens a session; it does not fold the tree
            self._add(tree.root, self.root_node)
            tree.root.expand_all()
            yield tree
            yield HintLine(("Enter opens", "Esc closes"), classes="hint")

    def _add(self, parent: TreeNode[SessionSummary], node: Node) -> None:
        for child in node.children:
            text = label(child.summary, self.shown)
            if child.children:
                self._add(parent.add(text, data=child.summary), child)
            else:
                parent.add_leaf(text, data=child.summary)

    def on_mount(self) -> None:
        tree = self.query_one(Tree)
        tree.focus()

        def to_shown() -> None:
            for line in range(tree.last_line + 1):
                node = tree.get_node_at_line(line)
                if node is not None and node.data is not None and node.data.id == self.shown:
                    tree.cursor_line = line
                    # moving the cursor does not scroll a Tree: a long lineage would open
                    # with the shown session below the modal's edge
                    tree.scroll_to_region(
                        Region(0, line, 1, 1), center=True, animate=False, immediate=True
                    )
                    return

        self.call_after_refresh(to_shown)

    def on_tree_node_selected(self, event: Tree.NodeSelected[SessionSummary]) -> None:
        event.stop()
        summary = event.node.data
        if summary is not None:
            self.dismiss((summary.po_name, summary.id))

    def action_choose(self) -> None:
        """Enter: show the session under the cursor."""
        node = self.query_one(Tree).cursor_node
        if node is None or node.data is None:
            raise SkipAction()
        self.dismiss((node.data.po_name, node.data.id))

    def action_cancel(self) -> None:
        self.dismiss(None)
