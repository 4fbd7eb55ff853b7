"""Run a whole transaction again when a concurrent one took the same unique key first."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

P = ParamSpec("P")
T = TypeVar("T")

ATTEMPTS = 5


def retry_on_conflict(function: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Decorate a service that opens its own transaction: a unique-key race or a deadlock reruns it.

    The rerun sees what the other transaction committed, so a double click or a repeated event ends as if it
    had come once.
    """

    @functools.wraps(function)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(ATTEMPTS):
            try:
                return await function(*args, **kwargs)
            except (IntegrityError, OperationalError) as error:
                if attempt == ATTEMPTS - 1 or not _is_transient(error):
                    raise
        raise AssertionError("unreachable")

    return wrapper


def _is_transient(error: Exception) -> bool:
    if isinstance(error, IntegrityError):
        return True
    text = str(error).lower()
    return "deadlock" in text or "database is locked" in text or "could not serialize" in text
