"""Numbers as users type them into commands, bounded to what the database can hold.

Task, member, tip and order numbers are 32-bit integers in the database: a larger one names nothing there, and
passing it to PostgreSQL or SQLite fails with an overflow instead of a plain "no such task". A number outside
the range is therefore not taken as a number at all: the command answers with its usage, which says what to
type. Full-width digits (１２, as some phone keyboards type them) are numbers like any others.
"""

from __future__ import annotations

from typing import Any, Literal

from nepattern import BasePattern, MatchFailed, MatchMode, parser
from nonebot_plugin_alconna import At

NUMBER_LIMIT = 2_147_483_647
"""The largest number the database keeps (a 32-bit integer)."""
MAX_DIGITS = 10


def as_number(text: str, *, low: int = 0, high: int = NUMBER_LIMIT) -> int | None:
    """The number `text` is, if it is one within [low, high]; None otherwise (never an exception)."""
    text = text.strip()
    body = text[1:] if text[:1] in "+-" else text
    if not body or len(body) > MAX_DIGITS or not body.isdecimal():
        return None
    value = int(text)
    return value if low <= value <= high else None


def amount_in(digits: str) -> int:
    """An amount typed with digits, for a service that checks its range and says it: one too long for any range
    comes back as one past the limit instead of an error (int() refuses over 4,300 digits)."""
    return int(digits) if len(digits) <= MAX_DIGITS else NUMBER_LIMIT + 1


class BoundedNumber(BasePattern[int, Any, Literal[MatchMode.TYPE_CONVERT]]):
    """An alconna argument that accepts a number within [low, high], written with digits."""

    def __init__(self, low: int, high: int, alias: str) -> None:
        super().__init__(mode=MatchMode.TYPE_CONVERT, origin=int, alias=alias)
        self.low, self.high = low, high

    def match(self, input_: Any) -> int:
        if isinstance(input_, int) and not isinstance(input_, bool):
            value: int | None = input_ if self.low <= input_ <= self.high else None
        else:
            value = as_number(input_, low=self.low, high=self.high) if isinstance(input_, str) else None
        if value is None:
            raise MatchFailed(f"not a number in [{self.low}, {self.high}]")
        return value


Number = BoundedNumber(0, NUMBER_LIMIT, "编号")
"""A task, member, tip, application or order number (or points, which are never negative)."""
SignedNumber = BoundedNumber(-NUMBER_LIMIT, NUMBER_LIMIT, "分数")
"""Points that may be taken as well as given (/奖励 12 -5)."""
NumberOrMention = parser(At) | Number
"""Someone named by an @-mention or by their member number; `Match[At | int]` in the handler."""
