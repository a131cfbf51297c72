"""The project's own exceptions, raised at the boundary with a message that says what to do."""
from __future__ import annotations


class SongjiangMapError(Exception):
    """Base class of every error the project raises on purpose."""


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
    """A boundary file cannot be imported (unreadable, too large, unsafe, wrong CRS or content); nothing written."""


class OsmRefreshError(SongjiangMapError):
    """The OpenStreetMap refresh could not fetch or read the boundaries (offline?); nothing was changed."""


class UserLayerError(SongjiangMapError):
    """An uploaded overlay file cannot be shown (unreadable, too large, unsafe or without drawable features)."""


class AppStartError(SongjiangMapError):
    """The app did not start as a subprocess (it exited, or never answered); the message ends with its log."""


class MapSpecError(SongjiangMapError):
    """A folium map holds an element the in-page map does not draw (folium's own document is shown instead)."""
