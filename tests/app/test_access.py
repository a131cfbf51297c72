"""Who may change shared data (issue 18): with no admin token only a browser on the server may apply or revert; a
visitor from another address (directly, or through a proxy on the server) is refused with a clear message in the
page's language; with a token, the right one (compared in constant time) opens it once per session. Browsing and
checking a file stay open."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from layers.app import access
from layers.app import import_panel as app_import_panel
from layers.core import paths, settings
from layers.core.i18n import STRINGS
from layers.core.store import Version

CHANGE_BUTTONS = ("imp_revert", "imp_apply", "imp_revert_version_go")
HISTORY = [Version(2, "apply", "2026-01-02T08:00:00+00:00", "ann (admin token)", "south.geojson", "cd" * 32, 3),
           Version(1, "apply", "2026-01-01T08:00:00+00:00", "bob (browser on the server, 127.0.0.1)",
                   "north.geojson", "ab" * 32, 2)]


@pytest.fixture
def data_page(monkeypatch):
    """The Data page with an import in force (two versions), not yet run; ``calls`` records reverts."""
    calls: list = []
    monkeypatch.delenv(settings.ADMIN_TOKEN_ENV, raising=False)
    monkeypatch.setattr(app_import_panel, "read_history", lambda: HISTORY)
    monkeypatch.setattr(app_import_panel, "revert_import", lambda *a, **k: calls.append((a, k)) or 3)
    at = AppTest.from_file(str(paths.PROJECT_DIR / "pages" / "4_数据_Data.py"), default_timeout=60)
    at.calls = calls
    return at


def _client(monkeypatch, peer: str | None, **headers: str) -> None:
    """Simulate the request's client: its socket address and headers (what st.context would say)."""
    monkeypatch.setattr(access, "_request", lambda: (peer, {k.replace("_", "-"): v for k, v in headers.items()}))


def _buttons(at) -> set[str]:
    return {b.key for b in at.button if b.key in CHANGE_BUTTONS}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("peer, headers", [
    ("192.168.1.20", {"Host": "192.168.1.5:8501"}),
    ("127.0.0.1", {"X_Forwarded_For": "203.0.113.5", "Host": "localhost"}),
    ("127.0.0.1", {"Host": "planning.example.org"}),  # a proxy on the server that forwards no address
    ("10.0.0.8", {"X_Forwarded_For": "127.0.0.1", "Host": "localhost:8501"}),
    (None, {"Host": "localhost:8501"})],
    ids=["lan", "via-proxy", "proxy-without-forwarding", "forged-header", "unknown"])
def test_without_a_token_a_visitor_not_on_the_server_is_refused(data_page, monkeypatch, lang, peer, headers):
    _client(monkeypatch, peer, **headers)
    data_page.query_params["lang"] = lang
    data_page.run()
    assert not data_page.exception, data_page.exception
    refusal = STRINGS[lang]["imp_local_only"].split("（" if lang == "zh" else "(")[0]
    assert any(refusal in i.value.replace("\\", "") for i in data_page.info), [i.value for i in data_page.info]
    assert _buttons(data_page) == set()
    assert [u for u in data_page.get("file_uploader")]  # checking a file stays open
    assert data_page.expander and data_page.dataframe  # and so does the history


@pytest.mark.parametrize("peer", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_without_a_token_a_browser_on_the_server_may_revert_and_is_named(data_page, monkeypatch, peer):
    _client(monkeypatch, peer, Host="[::1]:8501" if ":" in peer else "localhost:8501")
    data_page.query_params["lang"] = "en"
    data_page.run()
    assert {"imp_revert", "imp_revert_version_go"} <= _buttons(data_page)
    data_page.text_input(key="imp_who").input("Chen")
    data_page.selectbox(key="imp_revert_version").select(1)
    data_page.button(key="imp_revert_version_go").click().run()
    assert not data_page.exception, data_page.exception
    assert data_page.calls == [((1,), {"who": f"Chen (browser on the server, {peer})", "expect": 2})]
    assert any("Back to version 1" in s.value for s in data_page.success)


def test_with_a_token_only_the_right_one_opens_changes_once_per_session(data_page, monkeypatch):
    monkeypatch.setenv(settings.ADMIN_TOKEN_ENV, "s3cret-token")
    _client(monkeypatch, "192.168.1.20")  # any address, the token decides
    data_page.query_params["lang"] = "zh"
    data_page.run()
    assert _buttons(data_page) == set() and data_page.text_input(key="imp_token")
    data_page.text_input(key="imp_token").input("wrong").run()
    data_page.button(key="imp_unlock").click().run()
    assert any(STRINGS["zh"]["imp_token_wrong"] in e.value for e in data_page.error)
    assert _buttons(data_page) == set()
    data_page.text_input(key="imp_token").input("s3cret-token").run()
    data_page.button(key="imp_unlock").click().run()
    assert not data_page.exception, data_page.exception
    assert {"imp_revert", "imp_revert_version_go"} <= _buttons(data_page)
    data_page.run()  # asked once: still open on the next run, and the token field is gone
    assert {"imp_revert"} <= _buttons(data_page) and not [w for w in data_page.text_input if w.key == "imp_token"]
    data_page.button(key="imp_revert").click().run()
    assert data_page.calls == [((0,), {"who": "(admin token)", "expect": 2})]


def test_the_token_is_compared_in_constant_time_and_never_empty(monkeypatch):
    seen = []
    real = access.hmac.compare_digest
    monkeypatch.setattr(access.hmac, "compare_digest", lambda a, b: seen.append((a, b)) or real(a, b))
    assert access.token_matches(" tok ", "tok") and not access.token_matches("tok2", "tok")
    assert seen == [(b"tok", b"tok"), (b"tok2", b"tok")]
    assert not access.token_matches("", "")  # no token configured opens nothing by itself


def test_forwarding_headers_name_every_hop():
    assert access.client_addresses("127.0.0.1", {"X-Forwarded-For": "203.0.113.5, 127.0.0.1"}) == [
        "127.0.0.1", "203.0.113.5", "127.0.0.1"]
    assert access.client_addresses("::1", {"Forwarded": 'for="[2001:db8::1]";proto=https'}) == ["::1", "2001:db8::1"]
    assert access.on_server(["127.0.0.1", "::1"]) and not access.on_server(["127.0.0.1", "2001:db8::1"])
    assert not access.on_server([]) and not access.on_server(["localhost-ish"])
    assert access.local_host_name({"Host": "localhost:8501"}) and access.local_host_name({"host": "[::1]:8501"})
    assert access.local_host_name({"Host": "127.0.0.1"}) and not access.local_host_name({})
    assert not access.local_host_name({"Host": "planning.example.org"})
    assert not access.local_host_name({"Host": "localhost.evil.example:8501"})


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.usefixtures("fresh_caches")  # another store and data version: caches read neither before nor after
def test_an_unreachable_store_is_a_message_in_the_page_language_not_a_traceback(monkeypatch, tmp_path, lang):
    """PostgreSQL down (or the URL wrong): the page says so in its language; nothing crashes, no password shows."""
    from layers.app import cache

    monkeypatch.setenv(settings.DATABASE_URL_ENV, f"postgresql://u:hunter2@/db?host={tmp_path}&port=1")
    monkeypatch.setattr(cache, "_DATA_VERSION", {})
    at = AppTest.from_file(str(paths.PROJECT_DIR / "pages" / "4_数据_Data.py"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    said = STRINGS[lang]["err_store"].split("（" if lang == "zh" else "(")[0]
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any(said in e for e in errors), errors
    assert not any("hunter2" in e for e in errors)
