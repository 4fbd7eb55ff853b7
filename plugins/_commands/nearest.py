"""Which commands a word that names none was meant to be: /帮主 is one sound from /帮助, /报明 from /报名, /HELP is
/help in capitals.

A word is near a command when one letter added, dropped or changed makes it the command's name or its English
alias (the alias in any case), or when it sounds like the name: its toneless pinyin (pypinyin) is the name's, or
one letter from it. Nothing here imports NoneBot.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin

from plugins._commands import COMMANDS, Command

_BY_ALIAS = {command.alias: command for command in COMMANDS}
_BY_NAME = {command.name: command for command in COMMANDS}
MAX_SHOWN = 3
"""At most this many commands are offered: a longer list is no answer on a phone."""


def within_one(a: str, b: str) -> bool:
    """Whether one edit (a letter added, dropped or changed) or none makes `a` into `b`."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


@lru_cache(maxsize=4096)
def sound_of(word: str) -> str:
    """The toneless pinyin of a word, syllables run together ("帮助" -> "bangzhu"); other letters as they are."""
    return "".join(lazy_pinyin(word)).lower()


def by_alias(word: str) -> Command | None:
    """The command whose English alias this is, in any case ("HELP", "Help" -> /帮助)."""
    return _BY_ALIAS.get(word.lower())


def by_name(word: str) -> Command | None:
    """The command with this name or English alias (the alias in any case)."""
    return _BY_NAME.get(word) or by_alias(word)


def nearest(word: str) -> list[Command]:
    """The commands `word` was most likely meant to be, closest first (then most used first); at most MAX_SHOWN,
    none when nothing is near."""
    word = word.strip()
    if not word:
        return []
    lowered, sound = word.lower(), sound_of(word)
    ranked: list[tuple[int, int, Command]] = []
    for command in COMMANDS:
        name_sound = sound_of(command.name)
        if sound == name_sound:
            closeness = 0
        elif within_one(word, command.name) or within_one(lowered, command.alias):
            closeness = 1
        elif len(sound) > 3 and within_one(sound, name_sound):
            closeness = 2
        else:
            continue
        ranked.append((closeness, command.use_rank, command))
    ranked.sort(key=lambda item: item[:2])
    return [command for _, _, command in ranked[:MAX_SHOWN]]
