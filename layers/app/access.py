"""Who may change shared data from the app: whoever gives the admin token (asked once per session), or, when no
token is configured, only a browser on the server itself. Browsing, filtering and downloads stay open to all."""
from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Mapping, Sequence

import streamlit as st

from layers.app.chrome import plain
from layers.core import settings
from layers.core.i18n import t

_ADMIN_KEY = "_admin_ok"
_WHO_MAX_CHARS = 40


def admin_token(environ: Mapping[str, str] | None = None) -> str:
    """The configured admin token ("" when none)."""
    env = os.environ if environ is None else environ
    return (env.get(settings.ADMIN_TOKEN_ENV) or "").strip()


def _peer() -> str | None:
    """The websocket peer's address. ``st.context.ip_address`` hides loopback (None, as for "no request"), so the
    session's client context is read; where that is not available, a loopback peer cannot be told apart and is
    refused (safe)."""
    try:
        from streamlit.runtime.context import _get_client_context

        client = _get_client_context()
        return client.remote_ip if client is not None else None
    except (ImportError, AttributeError, RuntimeError):
        return st.context.ip_address


def _request() -> tuple[str | None, Mapping[str, str]]:
    """The socket peer's address and the request headers of this session (from ``st.context``)."""
    try:
        return _peer(), dict(st.context.headers or {})
    except Exception:  # no request behind the script (a bare run): nobody to trust
        return None, {}


def client_addresses(peer: str | None, headers: Mapping[str, str]) -> list[str]:
    """Every address the request passed through: the socket peer, then each one a proxy says it forwarded for
    (``X-Forwarded-For``, ``X-Real-IP``, ``Forwarded: for=``)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    out = [peer or ""]
    for name in ("x-forwarded-for", "x-real-ip"):
        out += [a.strip() for a in (lowered.get(name) or "").split(",") if a.strip()]
    for part in (lowered.get("forwarded") or "").replace(",", ";").split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "for" and value:
            out.append(value.strip('"').removeprefix("[").split("]")[0])
    return out


def is_loopback(address: str) -> bool:
    """Whether ``address`` is the machine itself (127.0.0.0/8, ::1, or an IPv4-mapped loopback)."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def on_server(addresses: Sequence[str]) -> bool:
    """Whether every hop is loopback: a browser on the server, not a visitor behind a proxy on the server (the
    proxy's forwarding header names the visitor) nor one claiming to be local (its peer address says otherwise)."""
    return bool(addresses) and all(is_loopback(a) for a in addresses)


def local_host_name(headers: Mapping[str, str]) -> bool:
    """Whether the page was asked for under a name of the machine itself (``localhost:8501``): through a proxy on
    the server it carries the team's name (``planning.example.org``), even when the proxy forwards no address."""
    host = {k.lower(): v for k, v in headers.items()}.get("host", "").strip().lower()
    name = host[1:].split("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in settings.LOCAL_HOSTS


def token_matches(given: str, token: str) -> bool:
    """Compare a typed token with the configured one in constant time."""
    return bool(token) and hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def may_change(lang: str) -> str | None:
    """Who may apply or revert in this session (a label for the history), or None after saying why not.

    With ``SONGJIANG_ADMIN_TOKEN`` set, asks for it once per session; without, only a browser on the server
    itself may change the shared data.
    """
    token = admin_token()
    if token:
        if not st.session_state.get(_ADMIN_KEY):
            st.caption(plain(t("imp_token_help", lang)))
            given = st.text_input(t("imp_token", lang), type="password", key="imp_token", max_chars=200)
            if st.button(t("imp_unlock", lang), key="imp_unlock"):
                if token_matches(given, token):
                    st.session_state[_ADMIN_KEY] = True
                else:
                    st.error(t("imp_token_wrong", lang))
            if not st.session_state.get(_ADMIN_KEY):
                return None
        basis = "admin token"
    else:
        peer, headers = _request()
        addresses = client_addresses(peer, headers)
        if not (on_server(addresses) and local_host_name(headers)):
            st.info(plain(t("imp_local_only", lang, env=settings.ADMIN_TOKEN_ENV)))
            return None
        basis = f"browser on the server, {addresses[0]}"
    name = st.text_input(t("imp_who", lang), key="imp_who", max_chars=_WHO_MAX_CHARS).strip()
    return f"{name} ({basis})" if name else f"({basis})"
