"""python -m plugins._commands: README's command table, then the Telegram menu, as README must hold them."""

from plugins._commands.readme import command_table, telegram_menu

print(f"{command_table()}\n\n{telegram_menu()}")  # noqa: T201
