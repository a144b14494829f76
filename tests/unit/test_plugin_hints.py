"""A name that one of the plugins shipped in ``plugins/`` registers, asked for before that
plugin is installed, is refused with the way to install it; other unknown names are not."""

from __future__ import annotations

from cli_runner import Run


def test_shipped_plugin_names_say_how_to_install_them(run: Run) -> None:
    """html (export), chatgpt (import) and postgres (backend) name their plugin; a made-up
    format names none."""
    run("new", "po", "--name", "A")
    code, _, err = run("export", "A", "--format", "html")
    assert code == 1 and "the prompt-sessions-html plugin adds it" in err
    code, _, err = run("import", "--from", "chatgpt")
    assert code == 1 and "pip install prompt-sessions-chatgpt" in err
    code, _, err = run("migrate", "--to", "postgres")
    assert code == 1 and "prompt-sessions-postgres plugin" in err
    code, _, err = run("export", "A", "--format", "nosuch")
    assert code == 1 and "plugin" not in err and err.count("\n") == 1
