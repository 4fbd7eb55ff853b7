"""The commands, declared once (table.py): what `plugins._common.command()` reads for a command's alias check and
priority, what /帮助 lists for each role, and what README's command table and Telegram menu are printed from
(`python -m plugins._commands`; tests/test_commands.py fails when README differs).

Nothing here imports NoneBot, so the README script runs without a bot.
"""

from __future__ import annotations

from plugins._commands.model import Audience, Command, Topic, Usage, Where
from plugins._commands.table import MENUS, TABLE

__all__ = [
    "BY_ALIAS",
    "BY_NAME",
    "COMMANDS",
    "MENUS",
    "TABLE",
    "Audience",
    "Command",
    "Topic",
    "Usage",
    "Where",
    "declared",
    "topic_of",
]

COMMANDS: tuple[Command, ...] = tuple(row for row in TABLE if isinstance(row, Command))
BY_NAME: dict[str, Command] = {command.name: command for command in COMMANDS}
BY_ALIAS: dict[str, Command] = {command.alias: command for command in COMMANDS}


def topic_of(row: Command | Usage) -> Topic | None:
    """The topic that lists a row: its own, or for another way of writing a command, the command's."""
    if isinstance(row, Usage) and row.topic is None:
        return BY_NAME[row.name].topic
    return row.topic


def declared(name: str, alias: str) -> Command:
    """The table's row for a command a plugin declares; a command missing from the table, or declared with another
    alias, stops the plugin from loading."""
    row = BY_NAME.get(name)
    if row is None:
        raise LookupError(f"/{name} is not in plugins/_commands/table.py: add its row there")
    if row.alias != alias:
        raise ValueError(f"/{name} is declared with alias {alias!r}, the table says {row.alias!r}")
    return row


def _check(table: tuple[Command | Usage, ...]) -> None:
    """What the table must hold for the rest to read it: one row per name and alias, ranks 1..n, a continued line
    after a line of the same section, place and topic, other ways of writing only of commands in the table, and
    menus of commands in the table."""
    commands = [row for row in table if isinstance(row, Command)]
    for what, values in (("name", [c.name for c in commands]), ("alias", [c.alias for c in commands])):
        if len(set(values)) != len(values):
            raise ValueError(f"a command {what} is in the table twice")
    if sorted(c.use_rank for c in commands) != list(range(1, len(commands) + 1)):
        raise ValueError("use_rank must number the commands 1..n, each once")
    previous: Command | Usage | None = None
    for row in table:
        if isinstance(row, Usage) and row.name not in {c.name for c in commands}:
            raise ValueError(f"another way of writing /{row.name}, which is not in the table")
        if isinstance(row, Command) and row.continues is not None:
            if not isinstance(previous, Command) or (previous.audience, previous.where, previous.topic) != (
                row.audience,
                row.where,
                row.topic,
            ):
                raise ValueError(f"/{row.name} continues a line of another section, place or topic")
        previous = row
    names = {c.name for c in commands}
    for audience, lines in MENUS.items():
        for name in (name for line in lines for name in line):
            if name not in names:
                raise ValueError(f"the menu of {audience.value} names /{name}, which is not in the table")


_check(TABLE)
