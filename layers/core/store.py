"""The workspace store: what users change (imported boundaries, their reports, the layers rebuilt from them), kept
apart from the shipped, read-only ``geodata/``; one SQLite file (or PostgreSQL), every change one transaction.

Tables: ``ws_versions`` (append-only history: one row per apply or revert, with file name, SHA-256, time, who, the
report and the overlay in force after it), ``ws_layers`` (the layer files in force when they differ from the
baseline; empty = serve ``geodata/`` as shipped) and ``ws_meta`` (e.g. which ``geodata/imports`` overlay was
migrated). The version number is ``max(version)``: one indexed read, cheap enough to poll on every page run.
On PostgreSQL the same transaction also writes the boundaries as PostGIS geometry (``MultiPolygon``, SRID 4326, GiST
index) for GIS clients: ``ws_towns`` (the towns layer in force, all units) and ``ws_boundaries`` (the imported units
of every version); the app itself reads the GeoJSON text, on both backends."""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layers.core import paths, settings
from layers.core.errors import ImportBusyError, StoreError
from layers.core.files import crash_point

STORE_FILE = "workspace.sqlite"
#: The towns layer's file: on PostgreSQL also kept as PostGIS geometry (``ws_towns``).
TOWNS_FILE = "towns.geojson"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ws_versions (version INTEGER PRIMARY KEY, action TEXT NOT NULL, "
    "created_at TEXT NOT NULL, who TEXT NOT NULL, file_name TEXT, sha256 TEXT, units INTEGER NOT NULL, "
    "reverts_to INTEGER, report TEXT, overlay TEXT)",
    "CREATE TABLE IF NOT EXISTS ws_layers (name TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ws_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
#: PostgreSQL only: the boundaries as PostGIS geometry, for QGIS and other GIS clients (never read by the app).
_POSTGIS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ws_towns (fid INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, name_zh TEXT, "
    "name_en TEXT, accuracy TEXT, source TEXT, properties JSONB NOT NULL, geom geometry(MultiPolygon, 4326) NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ws_towns_geom ON ws_towns USING GIST (geom)",
    "CREATE TABLE IF NOT EXISTS ws_boundaries (version INTEGER NOT NULL, code TEXT NOT NULL, name_zh TEXT, "
    "name_en TEXT, accuracy TEXT, source TEXT, properties JSONB NOT NULL, geom geometry(MultiPolygon, 4326) NOT NULL, "
    "PRIMARY KEY (version, code))",
    "CREATE INDEX IF NOT EXISTS ws_boundaries_geom ON ws_boundaries USING GIST (geom)",
)
#: Every table of the store (PostgreSQL has the PostGIS ones too).
STORE_TABLES = ("ws_versions", "ws_layers", "ws_meta", "ws_towns", "ws_boundaries")
#: The features of a GeoJSON text parameter, one row each, as PostGIS MultiPolygons in SRID 4326 (RFC 7946 GeoJSON
#: is WGS84 by definition, so the SRID is set, not guessed).
_FEATURE_ROWS = (
    "SELECT n, f->'properties'->>'code', f->'properties'->>'name_zh', f->'properties'->>'name_en', "
    "f->'properties'->>'accuracy', f->'properties'->>'source', f->'properties', "
    "ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(f->'geometry'), 4326)) "
    "FROM jsonb_array_elements((%s::jsonb)->'features') WITH ORDINALITY AS t(f, n)"
)
_FEATURE_COLUMNS = "code, name_zh, name_en, accuracy, source, properties, geom"
_ROW = "version, action, created_at, who, file_name, sha256, units, reverts_to"
#: Stores whose tables this process has already made sure of (a PostgreSQL round trip per read otherwise).
_SCHEMA_READY: set[str] = set()
#: PostgreSQL: one reader connection per process and URL, used under a lock (page runs are threads).
_PG_READERS: dict[str, Any] = {}
_PG_LOCK = threading.Lock()


@dataclass(frozen=True)
class Version:
    """One entry of the history: the state after an apply (its file) or a revert (to ``reverts_to``)."""

    version: int
    action: str
    created_at: str
    who: str
    file_name: str | None
    sha256: str | None
    units: int
    reverts_to: int | None = None


@dataclass(frozen=True)
class Change:
    """A new version to commit: what was done, by whom, and the overlay (GeoJSON text, None = schematic) after it."""

    action: str
    who: str
    file_name: str | None = None
    sha256: str | None = None
    units: int = 0
    reverts_to: int | None = None
    report: str | None = None
    overlay: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Store:
    """A workspace store named by its URL (``sqlite:///path`` or ``postgresql://…``); picklable, so a worker
    process can read it. Connections are opened per operation (processes and threads share nothing)."""

    url: str

    @property
    def kind(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return "sqlite" if self.url.startswith("sqlite:") else "postgresql"

    @property
    def path(self) -> Path | None:
        """The SQLite file (None on PostgreSQL)."""
        return Path(self.url.removeprefix("sqlite:///").removeprefix("sqlite://")) if self.kind == "sqlite" else None

    def label(self) -> str:
        """Where the store is, without a password (for messages and the page)."""
        if self.path is not None:
            return str(self.path)
        head, _, tail = self.url.partition("@")
        return (head.split("://")[0] + "://…@" + tail) if tail else self.url

    # ---- connections ---------------------------------------------------------------------------------------
    def _sql(self, text: str) -> str:
        return text if self.kind == "sqlite" else text.replace("?", "%s")

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[Any]:
        try:
            if self.kind == "sqlite":
                path = self.path
                assert path is not None
                if write:
                    path.parent.mkdir(parents=True, exist_ok=True)
                conn: Any = sqlite3.connect(path, timeout=settings.STORE_LOCK_TIMEOUT_S, isolation_level=None)
                conn.execute("PRAGMA synchronous=FULL")
            else:
                import psycopg  # only with SONGJIANG_DATABASE_URL; the embedded store needs nothing

                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(_reason(exc)) from exc
        except Exception as exc:  # psycopg.Error and ImportError, without importing psycopg for SQLite
            raise StoreError(_reason(exc)) from exc
        try:
            if write or (self.kind == "postgresql" and self.url not in _SCHEMA_READY):
                self._ensure_schema(conn)
                _SCHEMA_READY.add(self.url)
            yield conn
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(_reason(exc)) from exc
        except (ImportBusyError, StoreError):
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("psycopg"):
                raise StoreError(_reason(exc)) from exc
            raise
        finally:
            conn.close()

    def _ensure_schema(self, conn: Any) -> None:
        if self.kind == "sqlite" and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode=WAL")  # readers in other processes never wait for a writer
        for statement in _SCHEMA:
            conn.execute(statement)
        if self.kind == "postgresql":
            self._ensure_postgis(conn)

    @staticmethod
    def _ensure_postgis(conn: Any) -> None:
        """The PostGIS extension (created when missing: needs a role allowed to) and its tables."""
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone() is None:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except Exception as exc:  # psycopg.Error: not installed, or not allowed to create it
                raise StoreError("PostGIS is missing in this database (Debian: postgresql-15-postgis-3; then, as a "
                                 f"superuser: CREATE EXTENSION postgis): {_reason(exc)}") from exc
        for statement in _POSTGIS_SCHEMA:
            conn.execute(statement)

    def _exists(self) -> bool:
        return self.path is None or self.path.exists()

    def _pg_read(self, query: str, args: tuple[Any, ...], many: bool) -> Any:
        """A read over this process's one reader connection (a new connection costs ~15 ms, a query ~0.3 ms);
        a broken connection (server restarted) is replaced once."""
        with _PG_LOCK:
            for attempt in (0, 1):
                try:
                    conn = _PG_READERS.get(self.url)
                    if conn is None or conn.closed:
                        import psycopg

                        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
                        if self.url not in _SCHEMA_READY:
                            self._ensure_schema(conn)
                            _SCHEMA_READY.add(self.url)
                        _PG_READERS[self.url] = conn
                    cur = conn.execute(self._sql(query), args)
                    return cur.fetchall() if many else cur.fetchone()
                except Exception as exc:  # psycopg.Error and ImportError, without importing psycopg for SQLite
                    _SCHEMA_READY.discard(self.url)  # e.g. a new, empty database: make sure of the tables again
                    stale = _PG_READERS.pop(self.url, None)
                    if stale is not None:
                        with suppress(Exception):
                            stale.close()
                    if attempt or isinstance(exc, ImportError):
                        raise StoreError(_reason(exc)) from exc
        return None

    def _read(self, query: str, args: tuple[Any, ...], many: bool) -> Any:
        if self.kind == "postgresql":
            return self._pg_read(query, args, many)
        if not self._exists():
            return [] if many else None
        with self._connect(write=False) as conn:
            try:
                cur = conn.execute(self._sql(query), args)
                return list(cur.fetchall()) if many else cur.fetchone()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):  # a file created but never committed to
                    return [] if many else None
                raise

    def _one(self, query: str, *args: Any) -> Any:
        return self._read(query, args, False)

    def _all(self, query: str, *args: Any) -> list[Any]:
        return list(self._read(query, args, True))

    # ---- reading ---------------------------------------------------------------------------------------------
    def version(self) -> int:
        """The current version (0 = nothing changed: the shipped baseline)."""
        row = self._one("SELECT COALESCE(MAX(version), 0) FROM ws_versions")
        return int(row[0]) if row else 0

    def history(self) -> list[Version]:
        """Every version, newest first."""
        return [Version(*r) for r in self._all(f"SELECT {_ROW} FROM ws_versions ORDER BY version DESC")]

    def get(self, version: int) -> Version | None:
        """One version of the history (None when there is no such version)."""
        row = self._one(f"SELECT {_ROW} FROM ws_versions WHERE version = ?", int(version))
        return Version(*row) if row else None

    def current(self) -> Version | None:
        """The newest version (None while nothing was ever changed)."""
        row = self._one(f"SELECT {_ROW} FROM ws_versions ORDER BY version DESC LIMIT 1")
        return Version(*row) if row else None

    def overlay(self, version: int) -> str | None:
        """The overlay (imported units, GeoJSON text) in force after ``version``; None = the schematic towns."""
        row = self._one("SELECT overlay FROM ws_versions WHERE version = ?", int(version))
        return row[0] if row else None

    def report(self, version: int) -> str | None:
        """The import report (JSON) kept with ``version``."""
        row = self._one("SELECT report FROM ws_versions WHERE version = ?", int(version))
        return row[0] if row else None

    def layer_text(self, name: str) -> str | None:
        """The text of a layer file in force (e.g. ``towns.geojson``), or None when the baseline's is served."""
        row = self._one("SELECT body FROM ws_layers WHERE name = ?", name)
        return row[0] if row else None

    def layer_names(self) -> list[str]:
        """The files the store holds in place of the baseline's (empty: the baseline is served as shipped)."""
        return sorted(r[0] for r in self._all("SELECT name FROM ws_layers"))

    def meta(self, key: str) -> str | None:
        """A value of ``ws_meta``."""
        row = self._one("SELECT value FROM ws_meta WHERE key = ?", key)
        return row[0] if row else None

    # ---- writing ---------------------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """One exclusive write transaction: a second writer waits for it (``STORE_LOCK_TIMEOUT_S``), then sees
        its result; a crash before COMMIT leaves nothing of it."""
        with self._connect(write=True) as conn:
            if self.kind == "sqlite":
                conn.execute("BEGIN IMMEDIATE")
            else:
                conn.execute("BEGIN")
                conn.execute("LOCK TABLE ws_versions IN EXCLUSIVE MODE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def commit(self, change: Change, layers: Mapping[str, str] | None, *, expect: int,
               meta: Mapping[str, str] | None = None, towns: str | None = None) -> int:
        """Add ``change`` as the next version and make ``layers`` (file name → text; None = the baseline) the data,
        in one transaction; returns the new version. ``towns`` is the towns layer in force (GeoJSON text) when
        ``layers`` does not hold it (the baseline's); PostgreSQL writes it, and the change's overlay, as PostGIS
        geometry.

        Raises
        ------
        ImportBusyError
            The store is no longer at version ``expect`` (another apply or revert came first): nothing written.
        StoreError
            The store cannot be written (read-only, full, unreachable, locked for too long): nothing written.
        """
        try:
            with self._transaction() as conn:
                row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM ws_versions").fetchone()
                if int(row[0]) != expect:
                    raise ImportBusyError(changed=True)
                new = expect + 1
                crash_point("store-begun")
                conn.execute(self._sql("INSERT INTO ws_versions (version, action, created_at, who, file_name, sha256, "
                                       "units, reverts_to, report, overlay) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                             (new, change.action, _now(), change.who, change.file_name, change.sha256, change.units,
                              change.reverts_to, change.report, change.overlay))
                conn.execute("DELETE FROM ws_layers")
                for name, text in sorted((layers or {}).items()):
                    conn.execute(self._sql("INSERT INTO ws_layers (name, body) VALUES (?, ?)"), (name, text))
                for key, value in (meta or {}).items():
                    conn.execute(self._sql("DELETE FROM ws_meta WHERE key = ?"), (key,))
                    conn.execute(self._sql("INSERT INTO ws_meta (key, value) VALUES (?, ?)"), (key, value))
                if self.kind == "postgresql":
                    _write_geometry(conn, new, change.overlay, (layers or {}).get(TOWNS_FILE, towns))
                crash_point("store-written")
        except sqlite3.OperationalError as exc:
            raise StoreError(_reason(exc)) from exc
        crash_point("store-committed")
        if self.path is not None:
            with suppress(OSError):  # not the owner: it keeps the mode its owner gave it
                os.chmod(self.path, 0o644)  # an app running as another user can read it
        return new


def _write_geometry(conn: Any, version: int, overlay: str | None, towns: str | None) -> None:
    """PostGIS: replace ``ws_towns`` by the towns layer in force (emptied when it is not known) and add the
    version's imported units to ``ws_boundaries``."""
    conn.execute("DELETE FROM ws_towns")
    if towns:
        conn.execute(f"INSERT INTO ws_towns (fid, {_FEATURE_COLUMNS}) {_FEATURE_ROWS}", (towns,))
    if overlay:
        conn.execute(f"INSERT INTO ws_boundaries (version, {_FEATURE_COLUMNS}) "
                     f"SELECT %s, {_FEATURE_ROWS.removeprefix('SELECT n, ')}", (version, overlay))


def _reason(exc: BaseException) -> str:
    """The cause without any path or password (a visitor never sees them)."""
    text = getattr(exc, "strerror", None) or str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return str(text).split(" at \"")[0].split("://")[0][:120] or type(exc).__name__


def open_store(environ: Mapping[str, str] | None = None) -> Store:
    """The store this process uses: ``SONGJIANG_DATABASE_URL`` (PostgreSQL) when set, else the SQLite file in
    ``SONGJIANG_DATA_DIR`` (default ``var/`` in the checkout)."""
    env = os.environ if environ is None else environ
    url = (env.get(settings.DATABASE_URL_ENV) or "").strip()
    if url:
        if not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise StoreError(f"{settings.DATABASE_URL_ENV} must be a postgresql:// URL")
        return Store(url.replace("postgresql+psycopg://", "postgresql://"))
    folder = Path(env.get(settings.DATA_DIR_ENV) or paths.DATA_DIR).expanduser().resolve()
    return Store(f"sqlite:///{folder / STORE_FILE}")


def served_text(file_name: str, *, store: Store | None = None, geodata_dir: Path | None = None) -> str:
    """The text of a data file as the app serves it: the workspace's when it holds one, else the shipped file.

    Raises
    ------
    FileNotFoundError
        Neither holds it.
    StoreError
        The store cannot be read.
    """
    text = (store or open_store()).layer_text(file_name)
    if text is not None:
        return text
    return ((geodata_dir or paths.GEODATA_DIR) / file_name).read_text(encoding="utf-8")
