"""Pages of several PDF files written by matplotlib joined into one PDF, so a handout reuses the scene PDFs.

Only what matplotlib's PDF backend writes is read: a classic cross-reference table, object dictionaries in plain
text, compressed streams. Objects are copied byte for byte with their numbers shifted; nothing is re-drawn.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from layers.core.errors import SceneError

#: An indirect reference, or a literal string to leave alone (matplotlib escapes the parentheses inside strings).
_TOKEN = re.compile(rb"(\((?:\\.|[^\\)])*\))|(?<![\w.])(\d+) 0 R\b", re.S)
_OBJECT = re.compile(rb"(\d+) 0 obj\b")
_STREAM = re.compile(rb"\bstream\r?\n")


def _parts(data: bytes) -> tuple[dict[int, bytes], int, int | None]:
    """The objects of one PDF (number → the bytes between ``N 0 obj`` and ``endobj``), its root and info numbers."""
    found = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data)
    if not data.startswith(b"%PDF-") or found is None:
        raise SceneError("A scene PDF is not a complete PDF file; draw the pack again.")
    xref = int(found.group(1))
    table = re.match(rb"xref\s+0 (\d+)\s+", data[xref:])
    if table is None:
        raise SceneError("A scene PDF has no cross-reference table this joiner reads.")
    count, start = int(table.group(1)), xref + table.end()
    offsets = {}
    for number in range(count):
        entry = data[start + 20 * number:start + 20 * number + 20]
        if entry[17:18] == b"n":
            offsets[number] = int(entry[:10])
    ends = sorted(offsets.values()) + [xref]
    objects = {}
    for number, offset in offsets.items():
        end = ends[ends.index(offset) + 1]
        head = _OBJECT.match(data, offset)
        body = data[head.end():end] if head is not None and int(head.group(1)) == number else None
        if body is None or body.rstrip()[-6:] != b"endobj":
            raise SceneError(f"Object {number} of a scene PDF is not where its cross-reference says.")
        objects[number] = body.rstrip()[:-6].strip(b"\r\n")
    trailer = data[start + 20 * count:]
    root = re.search(rb"/Root (\d+) 0 R", trailer)
    info = re.search(rb"/Info (\d+) 0 R", trailer)
    if root is None:
        raise SceneError("A scene PDF names no document catalogue.")
    return objects, int(root.group(1)), int(info.group(1)) if info else None


def _renumber(body: bytes, shift: int) -> bytes:
    """The object's references moved by ``shift``; a stream's data is copied as it is."""
    found = _STREAM.search(body)
    head, tail = (body[:found.end()], body[found.end():]) if found else (body, b"")

    def move(match: re.Match[bytes]) -> bytes:
        return match.group(0) if match.group(1) else b"%d 0 R" % (int(match.group(2)) + shift)

    return _TOKEN.sub(move, head) + tail


def _pages(objects: Mapping[int, bytes], root: int) -> list[int]:
    """Page object numbers in reading order (matplotlib writes one flat page tree)."""
    pages = re.search(rb"/Pages (\d+) 0 R", objects[root])
    kids = re.search(rb"/Kids \[([^\]]*)\]", objects[int(pages.group(1))]) if pages else None
    if kids is None:
        raise SceneError("A scene PDF has no page list this joiner reads.")
    return [int(n) for n in re.findall(rb"(\d+) 0 R", kids.group(1))]


def _text_string(text: str) -> bytes:
    """A PDF text string: UTF-16 with its byte-order mark (Chinese titles survive), written in hex so that no byte
    of it can be read as an escape or an end of line."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def join_pdfs(documents: Sequence[bytes], *, info: Mapping[str, str]) -> bytes:
    """One PDF holding every page of ``documents`` in order, with the document information ``info`` (Title, …).

    Raises
    ------
    SceneError
        When a document is not a PDF as matplotlib writes it.
    """
    out = [b"%PDF-1.4\n%\xac\xdc \xab\xba\n"]
    offsets: dict[int, int] = {}
    size = sum(len(b) for b in out)
    kids: list[int] = []
    bodies: list[tuple[int, bytes]] = []
    next_number = 3                                  # 1 catalogue, 2 page tree
    for data in documents:
        objects, root, info_number = _parts(data)
        tree = re.search(rb"/Pages (\d+) 0 R", objects[root])
        skip = {root, info_number, int(tree.group(1)) if tree else None}
        shift = next_number - 1
        pages = _pages(objects, root)
        kids.extend(n + shift for n in pages)
        for number, body in objects.items():
            if number in skip:
                continue
            moved = _renumber(body, shift)
            if number in pages:
                moved = re.sub(rb"/Parent \d+ 0 R", b"/Parent 2 0 R", moved, count=1)
            bodies.append((number + shift, moved))
        next_number = max(objects) + shift + 1
    info_number = next_number
    entries = b" ".join(b"/%s %s" % (key.encode("ascii"), _text_string(value)) for key, value in info.items())
    bodies = [(1, b"<< /Type /Catalog /Pages 2 0 R >>"),
              (2, b"<< /Type /Pages /Kids [ %s ] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))),
              *bodies, (info_number, b"<< " + entries + b" >>")]
    for number, body in bodies:
        offsets[number] = size
        chunk = b"%d 0 obj\n" % number + body + b"\nendobj\n"
        out.append(chunk)
        size += len(chunk)
    xref = [b"xref\n0 %d\n" % (info_number + 1), b"0000000000 65535 f \n"]
    xref += [b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 65535 f \n"
             for n in range(1, info_number + 1)]
    out += xref
    out.append(b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
               % (info_number + 1, info_number, size))
    return b"".join(out)
