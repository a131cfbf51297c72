"""The project's own exceptions, raised at the boundary with a message that says what to do."""
from __future__ import annotations


class SongjiangMapError(Exception):
    """Base class of every error the project raises on purpose.

    ``key``/``params``: when set, the page shows ``layers.core.i18n.t(key, lang, **params)`` (the page's
    language) instead of the English message, which stays for the command line and the log.
    """

    key: str | None = None
    params: dict[str, str] = {}  # noqa: RUF012 — never mutated; instances set their own


class CatalogError(SongjiangMapError):
    """The layer catalogue is malformed; the message names the layer and the key."""


class LayerLoadError(SongjiangMapError):
    """A built layer file is missing, unreadable, in the wrong CRS or lacks fields."""


class BuildError(SongjiangMapError):
    """The geodata build could not produce a valid layer from its sources."""


class PartitionError(SongjiangMapError):
    """The schematic partition could not meet its area or containment constraints."""


class AssetError(SongjiangMapError):
    """A map asset (JS/CSS) has no vendored local copy; the message names the URL."""


class UnknownTownError(SongjiangMapError):
    """A town code or name does not name one of the 17 towns and subdistricts."""


class ClassificationError(SongjiangMapError):
    """An unknown classification scheme or an impossible number of classes."""


class SceneError(SongjiangMapError):
    """A meeting scene is unknown or badly defined (layers/scenes.toml), or asked for an unknown town."""


class FontMissingError(SongjiangMapError):
    """The CJK font needed for printed maps is not installed, or lacks a glyph that would be drawn."""


class FilterError(SongjiangMapError):
    """A layer filter names a key or value the data does not have (command line: exit 2)."""


class ExportError(SongjiangMapError):
    """An export was asked for an unsupported format/CRS combination or could not be written."""


class TownImportError(SongjiangMapError):
    """A boundary file cannot be imported (unreadable, too large, unsafe, wrong CRS or content); nothing written.

    ``key``: the kind of failure, worded in the dictionaries (``upl_*``, with ``params`` such as the file's name);
    the English message keeps the technical detail (GDAL's or PROJ's own words) for the command line, the log and
    the page's folded "technical details"."""

    def __init__(self, message: str, *, key: str | None = None, **params: object):
        super().__init__(message)
        if key:  # kept when pickled from a worker process: BaseException pickles the instance's __dict__
            self.key, self.params = key, {k: str(v) for k, v in params.items()}


class OsmRefreshError(SongjiangMapError):
    """The OpenStreetMap refresh could not fetch or read the boundaries (offline?); nothing was changed."""


class UserLayerError(SongjiangMapError):
    """An uploaded overlay file cannot be shown (unreadable, too large, unsafe or without drawable features)."""


class AppStartError(SongjiangMapError):
    """The app did not start as a subprocess (it exited, or never answered); the message ends with its log."""


class MapSpecError(SongjiangMapError):
    """A folium map holds an element the in-page map does not draw (folium's own document is shown instead)."""


class WorkerCancelledError(SongjiangMapError):
    """Untrusted work was stopped because nobody waits for it any more (the visitor closed or left the page)."""

    def __init__(self) -> None:
        super().__init__("The page that asked for this work was closed; the work was stopped.")
        self.key, self.params = "err_cancelled", {}

    def __reduce__(self):
        return (type(self), ())


class WorkerLimitError(SongjiangMapError):
    """Untrusted work (reading an upload, planning an import) hit a limit of its worker and was stopped.

    ``kind`` is "time", "cpu" or "memory"; ``limit`` the limit in s or MB. The page shows ``i18n`` key
    ``err_limit_<kind>``.
    """

    def __init__(self, kind: str, limit: float):
        super().__init__(f"The file needed more than the {limit:g} {'MB of memory' if kind == 'memory' else 's'} "
                         f"allowed for reading and checking it ({kind} limit); it was stopped. Simplify the file "
                         f"(fewer features or vertices) and try again.")
        self.kind, self.limit = kind, limit
        self.key, self.params = f"err_limit_{kind}", {"limit": f"{limit:g}"}

    def __reduce__(self):
        return (type(self), (self.kind, self.limit))


class UnexpectedError(SongjiangMapError):
    """Something went wrong that no check foresaw; the details are in the server's log under ``incident``."""

    def __init__(self, incident: str):
        super().__init__(f"Something unexpected went wrong (incident {incident}, logged on the server). Nothing was "
                         f"changed. Tell the administrator this id.")
        self.incident = incident
        self.key, self.params = "err_unexpected", {"id": incident}

    def __reduce__(self):
        return (type(self), (self.incident,))


class DiskError(SongjiangMapError, OSError):
    """The data folder could not be written (read-only, full, or without permission); nothing was changed.

    Also an OSError, so callers that handle the disk's own errors keep working."""

    def __init__(self, reason: str):
        super().__init__(f"The data could not be written ({reason}); nothing was changed. Tell the administrator.")
        self.reason = reason
        self.key, self.params = "err_disk", {"reason": reason}

    def __reduce__(self):
        return (type(self), (self.reason,))


class StoreError(SongjiangMapError):
    """The workspace store (SQLite file or PostgreSQL) could not be read or written; nothing was changed."""

    def __init__(self, reason: str):
        super().__init__(f"The workspace store could not be used ({reason}); nothing was changed. Tell the "
                         f"administrator.")
        self.reason = reason
        self.key, self.params = "err_store", {"reason": reason}

    def __reduce__(self):
        return (type(self), (self.reason,))


class ImportBusyError(SongjiangMapError):
    """Another import or revert is being applied right now; this one was not applied."""

    def __init__(self, changed: bool = False):
        super().__init__("The data changed since this report was made (another import or revert was applied); "
                          "this one was not applied. Check the file again, then apply." if changed else
                          "Another import or revert is being applied right now; this one was not applied. Reload "
                          "the page to see the current data, then try again.")
        self.changed = changed
        self.key, self.params = ("err_changed" if changed else "err_busy"), {}

    def __reduce__(self):
        return (type(self), (self.changed,))
