"""Asserting a refusal as the user reads it: the service's code, worded by the chat face (plugins/_texts)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from plugins._texts import refusal
from storage.errors import DomainError


@contextmanager
def refused(match: str | None = None, kind: type[DomainError] = DomainError) -> Iterator[pytest.ExceptionInfo]:
    """Like `pytest.raises(DomainError, match=...)`, matched against what the user would read."""
    with pytest.raises(kind) as caught:
        yield caught
    if match is not None:
        said = refusal(caught.value)
        assert re.search(match, said), f"{match!r} not in the refusal {said!r} ({caught.value})"
