"""Which environment folder.

--dir > $PROMPT_OBJECTS_DIR > the nearest .prompt_objects/ > ./.prompt_objects/.
"""

from __future__ import annotations

import os
from pathlib import Path

STORE_DIR_NAME = ".prompt_objects"
ENV_VAR = "PROMPT_OBJECTS_DIR"


def find_env_dir(explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().absolute()
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env).expanduser().absolute()
    here = (cwd or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        candidate = folder / STORE_DIR_NAME
        if candidate.is_dir():
            return candidate
    return here / STORE_DIR_NAME
