"""Reliability suite: shared switches and the hygiene check that runs after every test here.

Every test in this folder touches the store, so the autouse ``hygiene`` fixture checks, after
each one, what DESIGN section 4 promises about the folder: files 0600, folders 0700, no file
descriptor left open by the code under test, at most one lock file.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Its assertions (assert_at_rest) say what they found, as a test's own do.
pytest.register_assert_rewrite("reliability_support")

from reliability_support import LONG_ENV, hygiene_problems  # noqa: E402

PLUGIN_ENV_VARS = (
    "PROMPT_SESSIONS_PLUGINS",
    "PROMPT_SESSIONS_DISABLE_PLUGINS",
    "PROMPT_SESSIONS_TRACE_PLUGINS",
    "PROMPT_OBJECTS_DIR",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    # Only seen when tests/reliability is named on the command line (pytest registers options
    # from initial conftests only); the environment variable works from anywhere.
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help=f"run the reliability suite at release size (10x); same as {LONG_ENV}=1",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "foreign_modes: the test plants files whose modes the store did not choose"
    )
    try:
        if config.getoption("--long"):
            os.environ[LONG_ENV] = "1"
    except ValueError:
        pass


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's shell settings must not change what the tests see.
    for name in PLUGIN_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def _open_fds() -> dict[str, str]:
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass  # the descriptor listdir itself used, closed by now
    return found


@pytest.fixture(autouse=True)
def hygiene(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """After each test: private modes, no leaked descriptors, bounded lock files."""
    before = _open_fds()
    yield
    gc.collect()  # a backend the test dropped without closing gives its lock descriptor back
    leaked = {fd: target for fd, target in _open_fds().items() if before.get(fd) != target}
    assert not leaked, f"file descriptors left open: {leaked}"
    check_modes = request.node.get_closest_marker("foreign_modes") is None
    problems = hygiene_problems(tmp_path, check_modes)
    assert not problems, "\n".join(problems)
