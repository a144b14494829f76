"""A ``click.Path`` that names a symbolic link loop or a link to nothing for what it is.

click's own checks say "does not exist" for both, and "is a file" for a link to nothing given
where a folder is asked (``--dir``); this one says "<path> is a symbolic link loop" (or "... is
a symbolic link to <target>, which does not exist") as the same usage error (``path_links``).
"""

from __future__ import annotations

import os
from typing import Any

import click

from ..path_links import link_problem


class LinkedPath(click.Path):
    """``click.Path`` with the symbolic links on the value checked first. ``dangling_ok``: a
    link to nothing is a file about to be written through it."""

    def __init__(self, *args: Any, dangling_ok: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dangling_ok = dangling_ok

    def convert(
        self,
        value: str | os.PathLike[str],
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> Any:
        if str(value) != "-" and (problem := link_problem(value, dangling_ok=self.dangling_ok)):
            self.fail(problem, param, ctx)
        return super().convert(value, param, ctx)
