"""Times as chat shows them, and the refusals of the time parsers (storage/services/when.py)."""

from __future__ import annotations

from datetime import datetime

from plugins._texts import add_refusals
from storage.services.when import local

WEEKDAYS = "一二三四五六日"
EXAMPLES = "例如 明天19:00、周六 8:30、晚上7点、2026-12-01 19:00、2026-12-01 07:10-08:00"
DATE_EXAMPLES = "例如 本月、上月、今年、2026年10月、11月1日至11月20日、2026-11-01到2026-11-20"


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


def _past(text: str, start: datetime) -> str:
    return f"时间“{text}”（{start:%m月%d日 %H:%M}）已经过去了：请写以后的时间，{EXAMPLES}"


REFUSALS = {
    "when.unreadable": "看不懂时间“{text}”：" + EXAMPLES,
    "when.vague": "时间“{text}”不够具体：" + EXAMPLES,
    "when.no_clock": "“{text}”请写上几点，例如 {text} 19:00",
    "when.ends_before_start": "“{text}”的结束时间要晚于开始时间。",
    "when.past": _past,
    "when.bad_duration": "时长“{text}”不对：写 2小时 或 90分钟，最长24小时。",
    "when.unreadable_period": "看不懂时间段“{text}”：" + DATE_EXAMPLES,
    "when.vague_period": "时间段“{text}”不够具体：" + DATE_EXAMPLES,
    "when.period_ends_before_start": "时间段“{text}”的结束要晚于开始。",
    "when.period_too_long": "时间段最长一年。",
}

add_refusals(REFUSALS)
