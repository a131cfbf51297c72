"""Safe file writes: one file or several replaced together through temporary files and renames, or not at all."""
from __future__ import annotations

import os
import shutil
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
