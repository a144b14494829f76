"""``migrate``: copy every session to another backend (DESIGN section 13)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from ..errors import UsageError
from .output import print_json
from .path_type import LinkedPath
from .state import CliState

pass_state = click.make_pass_decorator(CliState)
DSN_VARIABLE = "PROMPT_SESSIONS_PG_DSN"


@click.command()
@click.option("--to", "to_backend", required=True, help="Target backend: json, sqlite, postgres...")
@click.option("--dsn", help="Target server's connection string (server backends).")
@click.option(
    "--to-dir",
    type=LinkedPath(file_okay=False),
    help="Target environment folder (default: this one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_state
def migrate(
    state: CliState, to_backend: str, dsn: str | None, to_dir: str | None, as_json: bool
) -> None:
    """Copy every session to another backend; the source is never changed.

    Re-running skips sessions already copied and brings earlier copies up to date. Each copy is
    read back and compared with the source. Exit 1 if any session conflicts or failed.
    """
    from ..manager import SessionManager
    from ..migrate import migrate as run_migration
    from ..migrate_trash import trash_size

    source = state.manager
    root = Path(to_dir).resolve() if to_dir else source.root
    storage = {k: v for k, v in source.config.get("storage", {}).items() if k != "backend"}
    same_folder = root == source.root.resolve()
    if to_backend == source.backend.name and same_folder and not dsn:
        raise UsageError(
            f"the target is the store itself ({to_backend} in {root}); name another backend, "
            "--to-dir or --dsn"
        )
    saved = os.environ.get(DSN_VARIABLE)
    if dsn:  # read by the server backend when it is built, like any environment's dsn
        os.environ[DSN_VARIABLE] = dsn
    try:
        target = SessionManager.open(
            root, host=state.host, backend=to_backend, config={"storage": storage}
        )
    finally:
        if dsn:
            if saved is None:
                os.environ.pop(DSN_VARIABLE, None)
            else:
                os.environ[DSN_VARIABLE] = saved
    with target:
        total = len(source.backend.list()) + trash_size(source.backend)
        if sys.stderr.isatty() and not as_json:
            with click.progressbar(length=total, label="Copying", file=sys.stderr) as bar:
                report = run_migration(source.backend, target.backend, progress=bar.update)
        else:
            report = run_migration(source.backend, target.backend)
    if as_json:
        print_json(report.as_dict())
    else:
        noun = "session" if report.source_count == 1 else "sessions"
        click.echo(
            f"{report.source_count} {noun} in {source.backend.name}: {len(report.copied)} copied, "
            f"{len(report.extended)} brought up to date, {len(report.skipped)} already there"
        )
        if report.trash_count:
            click.echo(
                f"{report.trash_count} in the trash: {len(report.trash_copied)} copied to the "
                f"trash, {len(report.trash_skipped)} already there"
            )
        for sid, why in sorted(report.conflicts.items()):
            click.echo(f"CONFLICT {sid}: {why}")
        if report.conflicts:
            click.echo(
                "To keep both copies of a conflicting session: prompt-sessions export ID "
                "--format json -o FILE here, then import FILE --as-new into the target store."
            )
        for sid, why in sorted(report.failed.items()):
            click.echo(f"FAILED {sid}: {why}")
        if report.ok and to_backend != source.backend.name and same_folder:
            click.echo(f"To use it: prompt-sessions config set storage.backend {to_backend}")
        elif report.ok and not same_folder and not dsn:
            # The new folder has no config.toml of its own yet: without it the folder reads as
            # an empty JSON store.
            folder = shlex.quote(str(root))
            click.echo(
                f"To use it: prompt-sessions --dir {folder} config set storage.backend {to_backend}"
            )
    if not report.ok:
        sys.exit(1)
