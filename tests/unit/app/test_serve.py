"""The served app tells its pages their base address and adds the Map page's preview (layers/app/serve.py,
layers/app/preview.py): pages rewritten, nothing else touched."""
from __future__ import annotations

import asyncio
import re

from layers.app import preview
from layers.app.serve import BaseAddress, base_address_script

PAGE = b"<!doctype html><html><head><meta charset='utf-8'></head><body><div id='root'></div></body></html>"


def _serve(path: str, *, status: int = 200, content_type: bytes = b"text/html; charset=utf-8",
           body: bytes = PAGE, chunks: int = 1, method: str = "GET") -> tuple[list[dict], list[tuple]]:
    """Run the middleware over a one-response app; what reached the client, and the headers the app was asked with."""
    seen: list[tuple] = []

    async def downstream(scope, receive, send):
        seen.extend(scope["headers"])
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
        step = max(1, len(body) // chunks)
        parts = [body[i:i + step] for i in range(0, len(body), step)] or [b""]
        for n, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": n < len(parts) - 1})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    scope = {"type": "http", "method": method, "path": path,
             "headers": [(b"accept-encoding", b"gzip"), (b"host", b"127.0.0.1")]}
    asyncio.run(BaseAddress(downstream, routes=["地图_Map"])(scope, receive, send))
    return sent, seen


def _body(sent: list[dict]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_a_page_gets_the_base_address_first_in_its_head_with_its_length_set_again():
    sent, seen = _serve("/%E5%9C%B0%E5%9B%BE_Map", chunks=3)
    body = _body(sent)
    assert body.startswith(b"<!doctype html><html><head><script>") and body.count(b"BACKEND_BASE_URL") == 1
    added = (base_address_script(["地图_Map"]) + preview.preview_head(), preview.preview_body())
    assert body.index(added[0]) == body.index(b"<head>") + len(b"<head>")  # first in the head
    assert body.index(added[1]) + len(added[1]) == body.index(b"</body>")  # last in the body
    assert body.replace(added[0], b"").replace(added[1], b"") == PAGE  # nothing else changed
    length = dict(sent[0]["headers"])[b"content-length"]
    assert int(length) == len(body) and [k for k, _ in sent[0]["headers"]].count(b"content-length") == 1
    assert b"accept-encoding" not in dict(seen)  # asked for uncompressed, so it can be rewritten


def test_files_endpoints_and_revalidations_pass_untouched():
    script = b"console.log('<head>')"
    for path, kwargs in (("/static/js/index.js", {"content_type": b"text/javascript", "body": script}),
                         ("/_stcore/health", {"content_type": b"text/plain", "body": b"ok"}),
                         ("/app/static/vendor/leaflet.js", {"content_type": b"text/javascript", "body": script}),
                         ("/%E5%9C%B0%E5%9B%BE_Map", {"status": 304, "body": b""}),
                         ("/%E5%9C%B0%E5%9B%BE_Map", {"method": "HEAD"})):
        sent, seen = _serve(path, **kwargs)
        assert _body(sent) == kwargs.get("body", PAGE), path
        assert sent[0]["status"] == kwargs.get("status", 200)
    sent, seen = _serve("/_stcore/health", content_type=b"text/plain", body=b"ok")
    assert dict(seen)[b"accept-encoding"] == b"gzip"  # endpoints and files keep their compression


def test_the_script_holds_the_routes_as_data_that_cannot_end_it():
    script = base_address_script(["地图_Map", "x</script><script>alert(1)//"]).decode()
    assert script.startswith("<script>") and script.count("</script>") == 1 and script.endswith("</script>")
    assert '"x<\\/script><script>alert(1)//"' in script


def test_leaflet_never_holds_the_page_and_the_preview_script_cannot_be_ended_early():
    """Leaflet is asked for first but run async (a Leaflet that never answers must not hide the page); the preview
    script is one inline script whose text holds no ``</`` (nothing in it can end it)."""
    head = preview.preview_head().decode()
    assert re.search(r"<script async id=\"sj-leaflet\" src=\"/app/static/vendor/leaflet/leaflet.js\"", head)
    body = preview.preview_body().decode()
    assert body.startswith("<script>") and body.endswith("</script>")
    assert "</" not in body[len("<script>"):-len("</script>")]
    assert body.count("<script") == 1


def test_the_page_carries_the_data_version_the_runs_read_and_none_before():
    """No run read the data yet: no stamp, so no preview can show; after a run, the stamp of its data version, which
    changes with it (a new build or an import)."""
    preview._STAMP.clear()
    assert 'window.__sjData=""' in preview.preview_body().decode()
    preview.set_data_stamp(("geodata", (1, 2, 3), "sqlite:///store", 7))
    first = preview.data_stamp()
    assert re.fullmatch(r"[0-9a-f]{16}", first) and f'window.__sjData="{first}"' in preview.preview_body().decode()
    preview.set_data_stamp(("geodata", (1, 2, 3), "sqlite:///store", 8))
    assert preview.data_stamp() != first
    preview._STAMP.clear()
