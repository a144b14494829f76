"""Enforce the coverage floors of issue 3 on a finished ``coverage`` data file.

    python -m pytest tests/reliability --cov=prompt_sessions --cov-branch --cov-report=
    python tests/reliability/check_coverage.py            # storage core 100%, package 90%

The storage core (atomic writes, locking, catalog, session files and their recovery, the JSON
backend, id validation) must be fully branch-covered; the package as a whole at least 90%, a
figure that only the whole suite (unit, plugins, TUI and reliability tests) reaches.
"""

from __future__ import annotations

import argparse
import sys

import coverage

CORE = (
    "storage/files.py",
    "storage/kept_file.py",
    "storage/in_step.py",
    "storage/json_write_hold.py",
    "storage/locking.py",
    "storage/catalog.py",
    "storage/catalog_layout.py",
    "storage/catalog_lookup.py",
    "storage/session_codec.py",
    "storage/json_backend.py",
    "storage/json_store_base.py",
    "storage/json_reading.py",
    "storage/json_catalog_view.py",
    "storage/json_health.py",
    "storage/json_replace.py",
    "storage/json_trash.py",
    "ids.py",
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--core", type=float, default=100.0, help="floor for the storage core")
    parser.add_argument("--package", type=float, default=90.0, help="floor for the whole package")
    args = parser.parse_args()
    cov = coverage.Coverage()
    cov.load()
    core = [f for f in cov.get_data().measured_files() if f.replace("\\", "/").endswith(CORE)]
    failed = False
    core_pct = cov.report(include=core, show_missing=True, file=sys.stdout)
    if core_pct < args.core:
        print(f"storage core branch coverage {core_pct:.1f}% is below {args.core}%")
        failed = True
    total = cov.report(file=open("/dev/null", "w"))  # noqa: SIM115 - a sink for the table
    print(f"storage core: {core_pct:.1f}%  package: {total:.1f}%")
    if total < args.package:
        print(f"package coverage {total:.1f}% is below {args.package}%")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
