"""The console demo quits with one Ctrl+C, as README says.

The console adapter's terminal UI (nonechat, on Textual) quits on Ctrl+Q; Textual answers Ctrl+C with "Press ctrl+q
to quit", and once the UI has closed the adapter logs "Press Ctrl-C for Application exit" and NoneBot runs on until
a second key. Here Ctrl+C closes the UI too, and closing the UI stops NoneBot with the SIGINT that Ctrl+C sends
outside the UI, so either key quits at once.
"""

from __future__ import annotations

import signal
from typing import Any

from bot import patching


def _adapter_module() -> Any:
    import nonebot.adapters.console.adapter as module

    return module


def _backend() -> Any:
    from nonebot.adapters.console.backend import AdapterConsoleBackend

    return AdapterConsoleBackend


def _apply() -> None:
    from textual.binding import Binding

    module = _adapter_module()

    class QuitsOnCtrlC(module.Frontend):
        BINDINGS = [Binding("ctrl+c", "quit", "Quit", show=False, priority=True)]  # noqa: RUF012 (Textual's own)

    module.Frontend = QuitsOnCtrlC
    backend = _backend()
    unmounted = backend.on_console_unmount

    async def on_console_unmount(self: Any) -> None:
        await unmounted(self)  # gives the log back to the terminal
        signal.raise_signal(signal.SIGINT)  # and stops NoneBot, as a Ctrl+C in the terminal would

    backend.on_console_unmount = on_console_unmount


PATCH = patching.Patch(
    "bot/console_quit.py (the console demo quits with Ctrl+C)",
    [
        patching.attributes("the console adapter's module", _adapter_module, ["Frontend"]),
        patching.attributes("nonechat's Frontend", lambda: _adapter_module().Frontend, ["BINDINGS", "action_quit"]),
        patching.parameters(
            "the console adapter's AdapterConsoleBackend.on_console_unmount",
            lambda: _backend().on_console_unmount,
            ["self"],
        ),
    ],
    _apply,
    otherwise="the console closes with Ctrl+Q, and then Ctrl+C stops the bot",
)


def install() -> bool:
    return PATCH.install()
