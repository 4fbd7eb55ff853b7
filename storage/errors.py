"""Refusals: a request that cannot be carried out, named by a code with the values a message needs.

The wording a user reads lives with the face that shows it (for chat, `plugins/_texts`): a refusal there still
says what to type instead.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request that cannot be carried out; nothing was changed.

    `code` names the refusal ("tasks.full", "tips.not_yours"): dotted, the domain first. `params` are the values
    its message needs (numbers, names, what was typed, already shortened with `quoted`).
    """

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        return f"{self.code} {self.params}" if self.params else self.code


class NotAllowed(DomainError):
    """The caller lacks the role the action needs."""


SHOWN = 20
"""A refusal quotes at most this many characters of what was typed."""


def quoted(text: str) -> str:
    """What the user typed, shortened for a refusal that quotes it (a 10,000-character line is not said back)."""
    text = text.strip()
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"
