"""Which environment folder: --dir > $PROMPT_OBJECTS_DIR > nearest .prompt_objects/ > ./.prompt_objects/."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_sessions.envdir import find_env_dir


def test_explicit_dir_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--dir beats the environment variable and any folder found by walking up."""
    (tmp_path / ".prompt_objects").mkdir()
    monkeypatch.setenv("PROMPT_OBJECTS_DIR", str(tmp_path / "from-env"))
    assert find_env_dir(tmp_path / "explicit", cwd=tmp_path) == tmp_path / "explicit"


def test_env_var_beats_walking_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$PROMPT_OBJECTS_DIR is used when no --dir is given."""
    (tmp_path / ".prompt_objects").mkdir()
    monkeypatch.setenv("PROMPT_OBJECTS_DIR", str(tmp_path / "from-env"))
    assert find_env_dir(None, cwd=tmp_path) == tmp_path / "from-env"


def test_nearest_parent_folder_is_found(tmp_path: Path) -> None:
    """The nearest .prompt_objects/ in the current folder or a parent is used."""
    outer = tmp_path / ".prompt_objects"
    outer.mkdir()
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_env_dir(None, cwd=deep) == outer
    inner = tmp_path / "a" / ".prompt_objects"
    inner.mkdir()
    assert find_env_dir(None, cwd=deep) == inner


def test_a_file_named_like_the_folder_is_not_a_store(tmp_path: Path) -> None:
    """Only a folder counts; a stray file with that name is skipped."""
    (tmp_path / ".prompt_objects").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".prompt_objects").write_text("not a folder")
    assert find_env_dir(None, cwd=tmp_path / "a") == tmp_path / ".prompt_objects"


def test_default_is_in_the_current_folder_and_not_created(tmp_path: Path) -> None:
    """Without any store around, ./.prompt_objects is chosen but not created by looking."""
    here = tmp_path / "empty"
    here.mkdir()
    found = find_env_dir(None, cwd=here)
    assert found == here / ".prompt_objects"
    assert not found.exists()


def test_relative_and_home_paths_become_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative --dir values are made absolute and ~ is expanded."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert find_env_dir("rel") == tmp_path / "rel"
    assert find_env_dir("~/store") == tmp_path / "home" / "store"
