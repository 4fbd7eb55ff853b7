"""What a row of the command table says: a command, or another way of writing one shown to a section of /帮助."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Audience(Enum):
    """Who /帮助 shows a command to, in the order of its sections: everyone, then those who run teams, officers
    and administrators, each section shown to those with the right (an administrator is an officer too)."""

    EVERYONE = "everyone"
    LEADERS = "leaders and officers"
    OFFICERS = "officers"
    ADMINISTRATORS = "administrators"


class Topic(Enum):
    """The topics of /帮助 主题, in the order its menu names them; the value is the word typed after /帮助."""

    TASKS = "任务"
    ATTENDANCE = "签到"
    TIPS = "线索"
    POINTS = "积分"
    BOARDS = "排行榜"
    EMERGENCY = "紧急"
    TEAM = "队伍"
    TRAINING = "培训"
    OFFICERS = "民警"
    ADMINISTRATION = "管理"


class Where(Enum):
    """Where /帮助 lists a command's line."""

    ANYWHERE = "anywhere"
    GROUP = "in a group"
    TEAM_GROUP = "in a group bound to a team"


@dataclass(frozen=True)
class Command:
    """A command: how it is typed, who /帮助 shows it to and how, how README and Telegram's menu describe it.

    /帮助 writes it as "/name（/alias）help", on a line of its own or, with `continues`, at the end of the line
    before after that separator. README's table writes "`/name usage` `/alias alias_usage` | who | what".
    """

    name: str
    """The Chinese name, typed after "/" or "／"."""
    alias: str
    """The English alias; Telegram's menu takes only Latin names."""
    use_rank: int
    """Order of use, 1 for the most used: NoneBot checks the commands in this order (their priority)."""
    audience: Audience
    help: str | None
    """/帮助's words after "/name（/alias）"; None for /帮助 itself, which is the list."""
    menu: str
    """Telegram's menu: the description after "alias - "."""
    who: str
    """README: who may use it."""
    what: str
    """README: what it does."""
    usage: str = ""
    """README: the arguments after the name ("|" is written as is; the table escapes it)."""
    alias_usage: str = ""
    """README: the arguments after the alias, where they are words of their own in English."""
    continues: str | None = None
    """/帮助: the separator after which it goes on the line before, or None for a line of its own."""
    where: Where = Where.ANYWHERE
    in_private: str = ""
    """/帮助 in a private chat, for a command listed only in groups: what it says instead (nothing if empty)."""
    topic: Topic | None = None
    """/帮助 主题: the topic that lists it (None: no topic lists it)."""
    brief: str = ""
    """/帮助's short menu: the few words after "/name" (see MENUS in table.py)."""
    does: str = ""
    """/帮助 命令名: what it does, one short sentence."""
    example: str = ""
    """/帮助 命令名: an example to copy ("/报名 12"); times in it are relative (明天19:00), never a date."""


@dataclass(frozen=True)
class Usage:
    """Another way of writing a command, for a section of /帮助 other than the command's own: "/name help"."""

    name: str
    audience: Audience
    help: str
    topic: Topic | None = None
    """/帮助 主题: the topic that lists it; None for the command's own."""
