"""``doctor`` for the JSON store: rebuild the catalog from the files, report damage, newer and
unreadable files and loose modes, and with ``repair`` move damaged files aside (DESIGN section 4,
"Damage stays local")."""

from __future__ import annotations

import os
import time
from contextlib import suppress

from ..models import FORMAT_VERSION
from . import catalog, files
from .base import HealthReport, check_private, refuse_repair
from .catalog import Drop, View
from .json_catalog_view import JsonCatalogView


class JsonHealth(JsonCatalogView):
    """The store's health check and repair."""

    def check(self, repair: bool = False) -> HealthReport:
        if repair and any(d.is_dir() and files.folder_unwritable(d) for d in (self.root, self.dir)):
            raise refuse_repair(self.root)  # checking reads only; repairing writes
        report = HealthReport()
        with self._mutex:
            self._folding = True
            # doctor reports loose modes as it finds them; only --repair changes them.
            tightened, self._tightened = self._tightened, True
            try:
                self._check(report, repair)
            finally:
                self._folding = False
                self._tightened = tightened
        return report

    def _check(self, report: HealthReport, repair: bool) -> HealthReport:
        newer = self._newer_catalog()
        if newer is not None:
            report.newer[str(self.index_path)] = (
                f"format_version {newer} is newer than this program ({FORMAT_VERSION}); "
                "the store is read-only and was left as it is"
            )
        if not self._may_write():
            self._current_or_empty()  # the catalog as it was, to compare the files with
            view = self._rebuild_view()
            self._forget_changed(view)
            self._report(report, view)
            if newer is not None:
                view.version = newer  # still read-only after this check
            self._view = view
            self._check_modes(report, repair)
            return report
        with self._writing():
            self._sweep_temp_files()
            # Scan under the lock, so what is moved aside is damaged now, not a moment ago.
            current = self._current_or_empty()
            view = self._rebuild_view()
            self._forget_changed(view)
            self._report(report, view)
            if repair and view.damaged:
                self._move_aside(view, report)
            # A session that could not be opened just now is still there: keep its choice.
            view.current = {
                po: sid
                for po, sid in current.items()
                if sid in view.sessions or sid in self._unreadable
            }
            view.folder = self._folder_stamp() or self._new_folder_stamp()
            # Every file was judged under the lock: the catalog explains the folder.
            self._folder_ok = not self._unreadable
            rebuilt = catalog.encode_catalog(view)
            try:
                same = self.index_path.read_bytes() == rebuilt
            except OSError:
                same = False
            if not same:  # a healthy catalog is left as it is: nothing was fixed
                files.atomic_write(self.index_path, rebuilt)
                report.fixed.append("catalog rebuilt from session files")
            self._drop_journal()
            self._view = View()
        self._dirty = False
        self._check_modes(report, repair)
        return report

    def _forget_changed(self, view: View) -> None:
        """Sessions whose files changed since their catalog entries (an edit in place, which
        a rebuilt catalog would make look as if it had always been so) are forgotten by the
        caches over their messages: a middle message edited leaves the summary the search
        cache stamps a session by as it was."""
        known = self._view.stamps
        for sid, stamp in view.stamps.items():
            before = known.get(sid)
            if sid in view.sessions and before is not None and before != stamp:
                self._changed_behind(sid)

    def _report(self, report: HealthReport, view: View) -> None:
        report.sessions = len(view.sessions)
        report.damaged = {sid: d.error for sid, d in view.damaged.items() if sid not in self._newer}
        report.unreadable = dict(self._unreadable)
        report.newer.update(self._newer)

    def _check_modes(self, report: HealthReport, repair: bool) -> None:
        aside = self.dir / "damaged"
        paths = [self.root, self.dir, *files.entries(self.dir)]
        if aside.is_dir():
            paths += files.entries(aside)
        check_private(report, paths, repair)

    def _current_or_empty(self) -> dict[str, str]:
        with suppress(catalog.CatalogUnreadable):
            catalog.refresh(self._view, self.index_path, self.journal_path)
        return dict(self._view.current)

    def _move_aside(self, view: View, report: HealthReport) -> None:
        aside = self.dir / "damaged"
        files.ensure_dir(aside)
        files.tighten([aside])
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for sid in sorted(view.damaged):
            if sid in self._newer:
                continue  # a newer version's file is not damage: never moved
            source = self.dir / f"{sid}.json"
            target = files.unused_path(aside, f"{sid}.{stamp}", ".json")
            try:
                os.replace(source, target)
            except OSError as exc:
                raise files.describe(exc, "move aside", source) from exc
            files.tighten([target])
            report.moved.append(str(target))
            view.apply(Drop(id=sid))
        self._sync_dir(aside)
        self._sync_dir(self.dir)
