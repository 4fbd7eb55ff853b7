"""Refusals a user should read: a short, plain Chinese sentence that says what to do instead."""


class DomainError(Exception):
    """A request that cannot be carried out; nothing was changed. `str(error)` is the reply to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotAllowed(DomainError):
    """The caller lacks the role the action needs."""


SHOWN = 20
"""A refusal quotes at most this many characters of what was typed."""


def quoted(text: str) -> str:
    """What the user typed, shortened for a refusal that quotes it (a 10,000-character line is not said back)."""
    text = text.strip()
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"
