"""README's command table and Telegram's command menu (the text for @BotFather's /setcommands), from the table."""

from __future__ import annotations

from plugins._commands import COMMANDS, Command

TABLE_HEADER = ("| command | who | what |", "|---|---|---|")


def command_table() -> str:
    """README's table under "## Commands": a row per command, in the table's order."""
    return "\n".join([*TABLE_HEADER, *(_row(command) for command in COMMANDS)])


def telegram_menu() -> str:
    """The menu Telegram shows for "/": English aliases only, as @BotFather's /setcommands takes them."""
    return "\n".join(f"{command.alias} - {command.menu}" for command in COMMANDS)


def _row(command: Command) -> str:
    written = f"`{_spaced('/' + command.name, command.usage)}` `{_spaced('/' + command.alias, command.alias_usage)}`"
    return "| " + " | ".join(_cell(text) for text in (written, command.who, command.what)) + " |"


def _spaced(head: str, arguments: str) -> str:
    return f"{head} {arguments}" if arguments else head


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
