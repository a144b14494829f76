"""Which environment folder.

--dir > $PROMPT_OBJECTS_DIR > the nearest .prompt_objects/ > ./.prompt_objects/.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError
from .path_links import link_problem

STORE_DIR_NAME = ".prompt_objects"
ENV_VAR = "PROMPT_OBJECTS_DIR"


def find_env_dir(explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Path:
    """The environment folder, absolute (DESIGN section 3; it need not exist yet).

    :raises UsageError: the folder chosen is a symbolic link loop or a link to nothing
        (``path_links``): it could be neither read nor made.
    """
    if explicit:
        return _checked(Path(explicit).expanduser().absolute())
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return _checked(Path(from_env).expanduser().absolute())
    here = (cwd or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        candidate = folder / STORE_DIR_NAME
        if candidate.is_dir():
            return candidate
    return _checked(here / STORE_DIR_NAME)


def _checked(folder: Path) -> Path:
    if problem := link_problem(folder):
        raise UsageError(problem)
    return folder
