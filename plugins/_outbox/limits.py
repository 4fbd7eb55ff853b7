"""Sending limits per bot account and per chat, on a clock given in seconds (real or simulated)."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

MINUTE = 60.0
MARGIN = 0.0001
"""Seconds added to every gap, so that rounding never lets one message too many into a second or a minute."""


@dataclass(frozen=True)
class Limits:
    per_second: float
    """Messages per second for one bot account, all chats together."""
    group_per_minute: int
    """Messages per minute into one group."""
    private_per_second: float
    """Messages per second into one private chat."""
    jitter: float = 0.0
    """Up to this many seconds added at random between two messages of an account (QQ dislikes a steady beat)."""


DEFAULT_LIMITS = {
    # Telegram's published limits: about 30 messages a second overall, 20 a minute into a group, 1 a second
    # into a private chat.
    "telegram": Limits(per_second=30, group_per_minute=20, private_per_second=1),
    # QQ through OneBot has no published figure; bursts to some 20 groups lead to time-outs and day-long send
    # bans. About one message a second per account, with jitter.
    "onebot": Limits(per_second=1, group_per_minute=20, private_per_second=1, jitter=0.5),
    "console": Limits(per_second=50, group_per_minute=600, private_per_second=50),
}


class RateLimiter:
    """Hands out send times that keep every account and chat within its limits.

    Reservations are made in the order messages should go; each account's times only move forward, so a chat's
    sends are in order too and "at most N in any minute" holds for every window, not just for clock minutes.
    """

    def __init__(self, limits: dict[str, Limits] | None = None, rng: random.Random | None = None) -> None:
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self._rng = rng or random.Random()
        self._account_next: dict[str, float] = {}
        self._chat_sends: dict[tuple[str, str], deque[float]] = {}

    def _limits(self, platform: str) -> Limits:
        return self.limits.get(platform) or DEFAULT_LIMITS["onebot"]

    def account_ready(self, account: str, now: float) -> float:
        """When the account may send next, whatever the chat."""
        return max(now, self._account_next.get(account, now))

    def earliest(self, account: str, platform: str, chat_key: str, now: float) -> float:
        """The earliest time a message for this chat may go, without reserving it."""
        limits = self._limits(platform)
        when = self.account_ready(account, now)
        sends = self._chat_sends.get((account, chat_key))
        if sends:
            if chat_key.startswith("user:"):
                when = max(when, sends[-1] + 1 / limits.private_per_second + MARGIN)
            elif len(sends) >= limits.group_per_minute:
                when = max(when, sends[-limits.group_per_minute] + MINUTE + MARGIN)
        return when

    def reserve(self, account: str, platform: str, chat_key: str, now: float) -> float:
        when = self.earliest(account, platform, chat_key, now)
        limits = self._limits(platform)
        gap = 1 / limits.per_second + MARGIN + (self._rng.uniform(0, limits.jitter) if limits.jitter else 0.0)
        self._account_next[account] = when + gap
        sends = self._chat_sends.setdefault((account, chat_key), deque())
        sends.append(when)
        while sends and sends[0] <= when - MINUTE:
            sends.popleft()
        return when

    def hold(self, account: str, until: float) -> None:
        """The platform asked us to wait (too many requests, risk control): nothing goes out before `until`."""
        self._account_next[account] = max(self._account_next.get(account, until), until)
