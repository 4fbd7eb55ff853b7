"""The command table (plugins/_commands) is the one source of the command list: README's table and Telegram menu
are printed from it (`python -m plugins._commands`) and must be what README holds, and every command the plugins
register is one of its rows, at its priority."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nonebot
import pytest
from arclet.alconna import command_manager

from plugins._commands import BY_NAME, COMMANDS, declared
from plugins._commands.readme import command_table, telegram_menu

ROOT = Path(__file__).resolve().parent.parent


def readme_table() -> str:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("| command | who | what |")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return "\n".join(lines[start:end])


def readme_menu() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"/setcommands.*?\n```\n(.*?)\n```", text, re.DOTALL)
    assert found, "README shows the Telegram menu in a fenced block after /setcommands"
    return found.group(1)


def registered_commands() -> dict[str, tuple[set[str], int]]:
    """Every alconna command the loaded plugins registered, as NoneBot holds them: name -> (aliases, priority)."""
    from nonebot_plugin_alconna import AlconnaMatcher  # plugin code is imported once NoneBot is initialised

    found: dict[str, tuple[set[str], int]] = {}
    for plugin in nonebot.get_loaded_plugins():
        for matcher in plugin.matcher:
            if issubclass(matcher, AlconnaMatcher):
                alconna = matcher.command()
                assert alconna.name not in found, f"/{alconna.name} is registered twice"
                found[alconna.name] = (set(command_manager.get_shortcut(alconna)), matcher.priority)
    return found


def test_readme_holds_the_table_and_the_menu_the_command_table_prints() -> None:
    assert readme_table() == command_table(), "README's command table: paste `python -m plugins._commands`"
    assert readme_menu() == telegram_menu(), "README's Telegram menu: paste `python -m plugins._commands`"
    printed = subprocess.run(
        [sys.executable, "-m", "plugins._commands"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert printed == f"{command_table()}\n\n{telegram_menu()}\n"


def test_telegram_takes_the_menu() -> None:
    for command in COMMANDS:  # Bot API setMyCommands: 1-32 of a-z, 0-9 and _; a description of 1-256 characters
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.alias), command.alias
        assert 1 <= len(command.menu) <= 256, command.name


def test_every_registered_command_is_a_row_of_the_table_at_its_priority() -> None:
    registered = registered_commands()
    assert set(registered) == set(BY_NAME)
    for name, (aliases, priority) in registered.items():
        assert aliases == {BY_NAME[name].alias}, name
        assert priority == BY_NAME[name].use_rank, name
    assert sorted(priority for _, priority in registered.values()) == list(range(1, len(registered) + 1))


def test_a_command_outside_the_table_or_with_another_alias_is_not_declared() -> None:
    assert declared("报名", "signup") is BY_NAME["报名"]
    with pytest.raises(LookupError, match=r"not in plugins/_commands/table\.py"):
        declared("点名", "rollcall")
    with pytest.raises(ValueError, match="the table says 'signup'"):
        declared("报名", "join")
