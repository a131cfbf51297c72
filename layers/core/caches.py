"""One registry of the project's in-process caches, so that one call clears them all (after an import, in tests)."""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_REGISTERED: list[Any] = []


def cached(maxsize: int = 1) -> Callable[[F], F]:
    """``functools.lru_cache`` that :func:`clear_caches` also clears."""
    def wrap(func: F) -> F:
        wrapped = lru_cache(maxsize=maxsize)(func)
        _REGISTERED.append(wrapped)
        return wrapped  # type: ignore[return-value]
    return wrap


def clear_caches() -> None:
    """Forget everything cached in this process (the catalogue, option lists, town codes, scenes, assets …)."""
    for func in _REGISTERED:
        func.cache_clear()
