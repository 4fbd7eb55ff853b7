"""Dates, times and durations as people write them: 明天19:00, 周六 8:30, 晚上7点, 明天 07:10-08:00, 2小时, 两小时.

JioNLP does the parsing; this module adds what it leaves to us: the configured time zone, a bare weekday meaning
the next one rather than one already past, 明早/明晚, ranges written with "-", and refusing what is ambiguous
(a day without a time), impossible (25点, 13月, 2月30日: refused naming the part, never rolled into another day) or
already past.
"""

from __future__ import annotations

import calendar
import contextlib
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

from storage.errors import DomainError, quoted
from storage.services.numerals import NUMERAL, chinese_number, with_digits
from storage.settings import settings

HOUR_UNITS = ("小时", "个小时", "钟头", "个钟头", "h", "H")
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(小时|个小时|钟头|个钟头|h|H|分钟|min)$")
TIME_HINT = re.compile(
    r"(今天|明天|后天|大后天|明早|明晚|今晚|周|星期|礼拜|上午|下午|早上|晚上|中午|凌晨|傍晚|\d+[:：点时]|\d+月|\d+日|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2})"
)
RANGE = re.compile(r"(\d{1,2}[:：]\d{2})\s*[-~—至]\s*(\d{1,2}[:：]\d{2})")
BARE_WEEKDAY = re.compile(r"^(周|星期|礼拜)[一二三四五六日天1-7]")
CLOCK = re.compile(r"(\d+[:：]\d{2}|\d+[点时]|上午|下午|早上|晚上|中午|凌晨|傍晚|今晚|明早|明晚)")
CLOCK_VALUES = re.compile(r"(\d+)\s*(?:[:：]\s*(\d+)|[点时])")
MAX_TEXT = 60
"""Longer text is no time anyone writes."""
PARSER_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)
"""What JioNLP and datetime raise for text they cannot read (e.g. "-1 昨天" gives an ISO date of "-inf")."""


YEAR_MONTH_DAY = re.compile(r"(?:(\d{4})\s*[-/.年]\s*)?(?<!\d)(\d+)\s*(?:[-/.]|月)\s*(\d+)(?![\d点时])")
"""12月5日, 12-05, 2027-02-30, 2027年2月30日; not 19-21点 (hours)."""
MONTH = re.compile(rf"(\d+|{NUMERAL.pattern})\s*月")
DAY = re.compile(r"(?<![\d月/.-])(\d+)\s*[日号]")
HOUR_MINUTE = re.compile(r"(\d+)\s*[:：]\s*(\d+)")
HOUR = re.compile(rf"(\d+|{NUMERAL.pattern})\s*[点时](?!间)")
LEAP_YEAR = 2028
"""A day written without a year is checked against a leap year: 2月29日 may be next year's."""


def _outside(written: str, low: int, high: int) -> int | str | None:
    """The number written (digits or Chinese numerals) when it lies outside [low, high] (as written when it is
    too long to be a number at all); None when it lies inside or is no number anyone writes."""
    if written.isdigit() and len(written) > 4:
        return written
    value = int(written) if written.isdigit() else chinese_number(written)
    return value if value is not None and not low <= value <= high else None


def _impossible(text: str) -> DomainError | None:
    """The part of a time that does not exist (25点, 19:99, 13月, 32日, 2月30日), which JioNLP would roll into
    another day or year; None when every part can be. 24点 is midnight, as people say it."""
    for hour, minute in HOUR_MINUTE.findall(text):
        if (wrong := _outside(hour, 0, 24)) is not None:
            return DomainError("when.no_such_hour", hour=wrong)
        if (wrong := _outside(minute, 0, 59)) is not None:
            return DomainError("when.no_such_minute", minute=wrong)
    for hour in HOUR.findall(HOUR_MINUTE.sub("", text)):
        if (wrong := _outside(hour, 0, 24)) is not None:
            return DomainError("when.no_such_hour", hour=wrong)
    for month in MONTH.findall(text):
        if (wrong := _outside(month, 1, 12)) is not None:
            return DomainError("when.no_such_month", month=wrong)
    for day in DAY.findall(text):
        if (wrong := _outside(day, 1, 31)) is not None:
            return DomainError("when.no_such_day", day=wrong)
    for year, month, day in YEAR_MONTH_DAY.findall(HOUR_MINUTE.sub("", text)):
        if (wrong := _outside(month, 1, 12)) is not None:
            return DomainError("when.no_such_month", month=wrong)
        if (wrong := _outside(day, 1, 31)) is not None:
            return DomainError("when.no_such_day", day=wrong)
        most = calendar.monthrange(int(year) if year else LEAP_YEAR, int(month))[1]
        if int(day) > most:
            return DomainError("when.no_such_date", month=int(month), day=int(day), most=most)
    return None


@cache
def _jionlp() -> Any:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import jionlp

    return jionlp


def warm_up() -> None:
    """Import the parser ahead of the first command (it takes most of a second)."""
    _jionlp()


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime | None
    """Set when the text itself gave an end, as in 07:10-08:00 or 晚上7点到9点."""


def looks_like_time(text: str) -> bool:
    return bool(TIME_HINT.search(text))


SHORTHANDS = (("：", ":"), ("明早", "明天早上"), ("明晚", "明天晚上"), ("今晚", "今天晚上"))
"""What people write, in the words the time parser (jionlp) reads."""
SPAN_JOINER = "到"
"""How jionlp reads a span: 19:00到21:00."""


def _normalise(text: str) -> str:
    text = text.strip()
    for written, read in SHORTHANDS:
        text = text.replace(written, read)
    return RANGE.sub(rf"\1{SPAN_JOINER}\2", text)


def parse_span(text: str, now: datetime | None = None) -> Span:
    """Start (and the end, if written) in the configured time zone, returned in UTC; refuses the vague and the past."""
    zone = settings.timezone
    now = (now or datetime.now(timezone.utc)).astimezone(zone)
    cleaned = _normalise(text)
    unreadable = DomainError("when.unreadable", text=quoted(text))
    if len(cleaned) > MAX_TEXT or not looks_like_time(cleaned):
        raise unreadable
    if (impossible := _impossible(cleaned)) is not None:
        raise impossible
    try:
        parsed = _jionlp().parse_time(cleaned, time_base=now.replace(tzinfo=None).timestamp())
        if parsed.get("type") not in ("time_point", "time_span") or parsed.get("definition") != "accurate":
            raise DomainError("when.vague", text=quoted(text))
        start = datetime.fromisoformat(parsed["time"][0]).replace(tzinfo=zone)
        is_span = parsed["type"] == "time_span"
        end = datetime.fromisoformat(parsed["time"][1]).replace(tzinfo=zone) if is_span else None
    except PARSER_ERRORS:
        raise unreadable from None
    if not CLOCK.search(cleaned):
        raise DomainError("when.no_clock", text=quoted(text))
    if BARE_WEEKDAY.match(cleaned) and start < now:
        start += timedelta(days=7)
        end = end + timedelta(days=7) if end else None
    if end is not None:
        end = end.replace(second=0)
        if end <= start:
            raise DomainError("when.ends_before_start", text=quoted(text))
    if start <= now:
        raise DomainError("when.past", text=quoted(text), start=start)
    return Span(start=start.astimezone(timezone.utc), end=end.astimezone(timezone.utc) if end else None)


def parse_duration(text: str) -> timedelta | None:
    """2小时, 1.5小时, 90分钟, 90min, 两小时, 一个半小时, 三十分钟; None when the text is not a duration."""
    match = DURATION.match(with_digits(text))
    if not match:
        return None
    amount = float(match.group(1))
    minutes = amount * 60 if match.group(2) in HOUR_UNITS else amount
    if not 0 < minutes <= 24 * 60:
        raise DomainError("when.bad_duration", text=quoted(text))
    return timedelta(minutes=round(minutes))


def local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(settings.timezone)


@dataclass(frozen=True)
class DateRange:
    """A reporting period (the face names it: 2026年11月, 2026年11月1日至11月20日)."""

    start: datetime
    """The first moment, in UTC."""
    end: datetime
    """The moment after the last, in UTC."""
    kind: str = "days"
    """week, month or year for a period written as one (本周, 上月, 今年); days for one written as dates."""


PERIOD_WORDS = {"本周": ("week", 0), "上周": ("week", 1), "本月": ("month", 0), "上月": ("month", 1),
                "今年": ("year", 0), "去年": ("year", 1)}  # fmt: skip
BARE_MONTH = re.compile(r"^(\d{1,2})\s*月份?$")
"""A month without a year (10月): the latest one so far, which jionlp does not read."""
DATE_RANGE_SPLIT = re.compile(r"\s*(?:至|到|~|～|—|(?<=\d)-(?=\d{1,2}月))\s*")


def parse_date_range(text: str, now: datetime | None = None) -> DateRange:
    """A reporting period: 本周 上周 本月 上月 今年 去年, a month (2026年10月, or 10月: the latest so far), or days
    (11月1日至11月20日)."""
    from storage.services.totals import period_of  # the periods the running totals use

    now = now or datetime.now(timezone.utc)
    cleaned = text.strip()
    if cleaned in PERIOD_WORDS:
        kind, back = PERIOD_WORDS[cleaned]
        period = period_of(kind, now, back=back)
        if period.start is None or period.end is None:
            raise ValueError(f"{kind} has no bounds")  # PERIOD_WORDS name weeks, months and years only
        return DateRange(period.start.astimezone(timezone.utc), period.end.astimezone(timezone.utc), kind)
    if (month := BARE_MONTH.match(cleaned)) and 1 <= (number := int(month.group(1))) <= 12:
        # 10月: the latest October up to this month (a month to come has no figures yet)
        today = now.astimezone(settings.timezone)
        back = (today.month - number) % 12
        period = period_of("month", now, back=back)
        assert period.start is not None
        assert period.end is not None
        return DateRange(period.start.astimezone(timezone.utc), period.end.astimezone(timezone.utc), "month")
    zone = settings.timezone
    base = now.astimezone(zone).replace(tzinfo=None).timestamp()
    unreadable = DomainError("when.unreadable_period", text=quoted(text))
    if len(cleaned) > MAX_TEXT:
        raise unreadable
    try:
        parsed = _jionlp().parse_time(DATE_RANGE_SPLIT.sub(SPAN_JOINER, cleaned), time_base=base)
        if parsed.get("type") not in ("time_point", "time_span") or parsed.get("definition") != "accurate":
            raise DomainError("when.vague_period", text=quoted(text))
        start = datetime.fromisoformat(parsed["time"][0]).replace(tzinfo=zone)
        last = datetime.fromisoformat(parsed["time"][1]).replace(tzinfo=zone)
        start = start.replace(hour=0, minute=0, second=0)
        end = last.replace(hour=0, minute=0, second=0) + timedelta(days=1)
    except PARSER_ERRORS:
        raise unreadable from None
    if end <= start:
        raise DomainError("when.period_ends_before_start", text=quoted(text))
    if end - start > timedelta(days=367):
        raise DomainError("when.period_too_long")
    return DateRange(start.astimezone(timezone.utc), end.astimezone(timezone.utc))
