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
