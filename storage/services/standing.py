"""A member's standing: the one rule that keeps a suspended member (/停用) from signing up (/报名), checking in
(/签到) and redeeming (/兑换). Each of those services reads the member's status and reason with the rows it reads
anyway and asks here; the refusal carries the officer's reason for the member to read."""

from __future__ import annotations

from storage.errors import DomainError
from storage.models import MemberStatus


def refuse_if_suspended(status: str | None, reason: str | None) -> None:
    """Refuse (`standing.suspended`, with the officer's reason) when the member's status is suspended."""
    if status == MemberStatus.suspended:
        raise DomainError("standing.suspended", reason=reason or "")
