"""Times as chat shows them, and the refusals of the time parsers (storage/services/when.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from plugins._texts import add_refusals
from storage.services.totals import Period
from storage.services.when import DateRange, local

WEEKDAYS = "一二三四五六日"
EXAMPLES = "例如 明天19:00、周六 8:30、下周六 8:30、后天晚上7点、明天 07:10-08:00"
DATE_EXAMPLES = "例如 本月、上月、今年、10月、11月1日至11月20日"


def describe(start: datetime, end: datetime | None = None) -> str:
    """12月01日(周二) 19:00-21:00 in the configured time zone."""
    begin = local(start)
    text = f"{begin.month}月{begin.day}日(周{WEEKDAYS[begin.weekday()]}) {begin:%H:%M}"
    if end is not None:
        finish = local(end)
        text += (
            f"-{finish:%H:%M}"
            if finish.date() == begin.date()
            else f" 至 {finish.month}月{finish.day}日 {finish:%H:%M}"
        )
    return text


@lru_cache(maxsize=64)
def period_text(period: Period | DateRange) -> str:
    """A period as chat names it: 2026年11月, 2026年, 11月23日至11月29日 (a week), 累计 (all time), and days as
    2026年11月1日至11月20日. (Cached: a weekly board names the same week for every team.)"""
    if period.start is None or period.end is None:
        return "累计"
    start, last = local(period.start), local(period.end) - timedelta(days=1)
    if period.kind == "month":
        return f"{start.year}年{start.month}月"
    if period.kind == "year":
        return f"{start.year}年"
    if period.kind == "week":
        return f"{start.month}月{start.day}日至{last.month}月{last.day}日"
    return f"{start.year}年{start.month}月{start.day}日至{last.month}月{last.day}日"


def duration_text(minutes: int) -> str:
    """Time served as a person reads it, everywhere chat shows it: 12分钟, 2小时, 1小时5分钟."""
    hours, rest = divmod(max(minutes, 0), 60)
    if not hours:
        return f"{rest}分钟"
    return f"{hours}小时{rest}分钟" if rest else f"{hours}小时"


def _past(text: str, start: datetime) -> str:
    return f"时间“{text}”（{start:%m月%d日 %H:%M}）已经过去了：请写以后的时间，{EXAMPLES}"


REFUSALS = {
    "when.unreadable": "看不懂时间“{text}”：" + EXAMPLES,
    "when.vague": "时间“{text}”不够具体：" + EXAMPLES,
    "when.no_clock": "“{text}”请写上几点，例如 {text} 19:00",
    "when.ends_before_start": "“{text}”的结束时间要晚于开始时间。",
    "when.past": _past,
    "when.no_such_hour": "没有{hour}点：小时写0到23，" + EXAMPLES,
    "when.no_such_minute": "没有{minute}分：分钟写0到59，例如 明天19:30",
    "when.no_such_month": "没有{month}月：月份写1到12，" + EXAMPLES,
    "when.no_such_day": "没有{day}日：日子写1到31，" + EXAMPLES,
    "when.no_such_date": "没有{month}月{day}日：{month}月只有{most}天。",
    "when.bad_duration": "时长“{text}”不对：写 2小时、两小时 或 90分钟，最长24小时。",
    "when.unreadable_period": "看不懂时间段“{text}”：" + DATE_EXAMPLES,
    "when.vague_period": "时间段“{text}”不够具体：" + DATE_EXAMPLES,
    "when.period_ends_before_start": "时间段“{text}”的结束要晚于开始。",
    "when.period_too_long": "时间段最长一年。",
}

add_refusals(REFUSALS)
