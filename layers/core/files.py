"""Safe file writes: one file or several replaced together through temporary files and renames, or not at all."""
from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, so a crash leaves the old file."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a crash leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, FILE_MODE)  # mkstemp makes it 0600: an app running as another user could not read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stage_text(path: Path, text: str) -> Path:
    """Write ``text`` to a new temporary file beside ``path`` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, FILE_MODE)  # mkstemp makes it 0600: an app running as another user could not read it
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _keep_copy(path: Path, token: str) -> Path | None:
    """A hard link (or copy) of ``path`` under a hidden name, or None when there is no such file."""
    if not path.exists():
        return None
    keep = path.with_name(f".{path.name}.{token}.previous")
    try:
        os.link(path, keep)
    except OSError:  # a file system without hard links
        shutil.copyfile(path, keep)
    return keep


def replace_together(pairs: Sequence[tuple[Path, Path]]) -> None:
    """Rename each complete temporary file onto its target: all of them, or — should one rename fail — none.

    Targets already replaced when a rename fails get their previous content back (new targets are removed),
    so the folder is left with either the old set of files or the new one, never a mix (only a reader during
    the few renames themselves can see both). The temporary files are consumed.
    """
    token = uuid.uuid4().hex[:8]
    done: list[tuple[Path, Path | None]] = []
    try:
        for tmp, target in pairs:
            keep = _keep_copy(target, token)
            done.append((target, keep))
            os.replace(tmp, target)
    except BaseException:
        for target, keep in reversed(done):
            if keep is not None:
                os.replace(keep, target)
            else:
                target.unlink(missing_ok=True)
        raise
    finally:
        for _target, keep in done:
            if keep is not None:
                keep.unlink(missing_ok=True)


def write_texts_together(files: Mapping[Path, str]) -> None:
    """Write several UTF-8 text files as one change: each to a temporary file first, then all renamed into
    place by :func:`replace_together`. An interruption at any point leaves every previous file as it was."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files.items():
            staged.append((_stage_text(path, text), path))
        replace_together(staged)
    finally:
        for tmp, _path in staged:
            tmp.unlink(missing_ok=True)


@contextmanager
def atomic_output(out: Path, *, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside ``out`` to write; renamed to ``out`` when the block succeeds, removed otherwise.

    A reader never sees a half-written file, and a failed run keeps the previous one.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)      # mkstemp makes it private; the final file gets the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- The folder switch of earlier versions: roll an interrupted one forward (imports now go to the store) ----

#: The journal of a switch in progress, inside the target folder (written by versions before the workspace store,
#: once everything was staged); removed when every rename is done. Its presence means "roll forward".
JOURNAL = ".switch-journal.json"
STAGING_PREFIX = ".staging-"
#: Test hook: the process kills itself (SIGKILL) at the named step (the store's transaction steps, a journal's
#: "rename-<n>"), so that crash tests can stop it anywhere.
CRASH_ENV = "SONGJIANG_TEST_KILL_AT"
#: Mode of the files a switch writes (readable by an app running as another user).
FILE_MODE = 0o644


def _crash_point(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


#: The crash-test hook for other modules (the workspace store's transaction steps).
crash_point = _crash_point


def _apply_journal(folder: Path, entries: list[dict[str, str | None]]) -> None:
    for n, entry in enumerate(entries):
        target = folder / str(entry["target"])
        staged = folder / str(entry["staged"]) if entry["staged"] else None
        if staged is None:
            target.unlink(missing_ok=True)
        elif staged.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(staged, FILE_MODE)
            os.replace(staged, target)
        _crash_point(f"rename-{n}")
    for entry in entries:  # folders left empty by deletions (e.g. imports/ after a revert)
        parent = (folder / str(entry["target"])).parent
        if parent != folder and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()


def recover_folder(folder: Path) -> bool:
    """Finish a switch a crash interrupted (the journal is there), and drop staging folders never committed.

    Returns whether anything was repaired.
    """
    folder = Path(folder)
    journal = folder / JOURNAL
    repaired = False
    if journal.exists():
        _apply_journal(folder, json.loads(journal.read_text(encoding="utf-8")))
        journal.unlink()
        repaired = True
    for stale in folder.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)
        repaired = True
    return repaired


def version_stamp(path: Path) -> tuple[int, int, int] | None:
    """A value that changes whenever ``path`` is replaced or rewritten (inode, size, mtime in ns)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns
