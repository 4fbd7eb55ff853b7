"""Numbers as people write them in Chinese: 十人, 二十人, 两小时, 一个半小时, 三十分钟, 一百零五.

Only whole words are read (a count, a duration, an hour before 点), never numerals inside a name or a place
(十字路口 stays a place).
"""

from __future__ import annotations

import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千]+")
HALF_AFTER = re.compile(r"(\d+)\s*个?半")
"""一个半小时 (after the numeral is read: 1个半小时): one and a half."""
HALF_ALONE = re.compile(r"^半个?(?=小时|钟头)")


def chinese_number(text: str) -> int | None:
    """十 → 10, 十五 → 15, 二十 → 20, 两百 → 200, 一百零五 → 105, 二五 → 25 (digit by digit); None if not a numeral."""
    if not text or NUMERAL.fullmatch(text) is None:
        return None
    if not any(ch in UNITS for ch in text):
        return int("".join(str(DIGITS[ch]) for ch in text))
    total, digit = 0, None
    for ch in text:
        if ch in UNITS:
            total += (1 if digit is None else digit) * UNITS[ch]
            digit = None
        elif DIGITS[ch] == 0:
            digit = None
        elif digit is not None:  # two digits in a row beside units (一百二三): not a number anyone writes
            return None
        else:
            digit = DIGITS[ch]
    return total + (digit or 0)


def _digits(numeral: str) -> str:
    number = chinese_number(numeral)
    return numeral if number is None else str(number)


def with_digits(word: str) -> str:
    """The word with its Chinese numerals as digits, and 个半 as .5: 两小时 → 2小时, 一个半小时 → 1.5小时,
    半小时 → 0.5小时, 二十人 → 20人. Meant for a word that is a count or a duration."""
    word = NUMERAL.sub(lambda match: _digits(match.group()), word.strip())
    word = HALF_AFTER.sub(r"\1.5", word)
    return HALF_ALONE.sub("0.5", word)
