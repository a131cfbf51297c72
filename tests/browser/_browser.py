"""Helpers shared by the browser tests (the fixtures are in conftest.py beside this file)."""
from __future__ import annotations

from urllib.parse import urlsplit

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
#: Schemes that never touch the network.
LOCAL_SCHEMES = ("data", "blob", "about", "chrome-error", "file")

def is_local(url: str) -> bool:
    """True when loading ``url`` cannot leave this machine."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.hostname in {h.strip("[]") for h in LOCAL_HOSTS}

