"""The console demo as README tells a newcomer to try it: `python -m bot` in a terminal, `/我的` shows the account
that [bot] superusers would name, and Ctrl+C quits (one key, not Ctrl+Q and then Ctrl+C)."""

from __future__ import annotations

import os
import re
import select
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[a-zA-Z~]")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drives a pseudo-terminal")


class Terminal:
    """`python -m bot` in a pseudo-terminal of 120 columns, as a person runs it."""

    def __init__(self, cwd: Path) -> None:
        import pty

        environment = {key: value for key, value in os.environ.items() if not key.startswith(("YIJING_", "BOT_CONFIG"))}
        environment.update(PYTHONPATH=str(ROOT), TERM="xterm-256color", COLUMNS="120", LINES="40")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the bot, with no configuration file, so the demo
            os.chdir(cwd)
            os.execve(sys.executable, [sys.executable, "-m", "bot"], environment)
        self.output = b""
        self.status: int | None = None

    def text(self) -> str:
        return ANSI.sub(b"", self.output).decode("utf-8", "replace")

    def read_until(self, seen, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if seen(self.text()):
                return True
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the bot closed the terminal
                    chunk = b""
                if not chunk:
                    return seen(self.text())
                self.output += chunk
        return seen(self.text())

    def type(self, keys: str) -> None:
        for key in keys:
            os.write(self.fd, key.encode())
            time.sleep(0.03)

    def wait(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read_until(lambda _text: False, 0.2)
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
        return None

    def kill(self) -> None:
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_the_console_demo_shows_my_account_and_quits_with_ctrl_c(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path)
    try:
        assert terminal.read_until(lambda text: "Focus input" in text, 90), terminal.text()[-2000:]
        answered = False
        for _ in range(4):  # on a busy machine the console may not take keys at once: type again
            terminal.type("\x1f")  # ctrl+/ : the input box, as the console's footer says
            time.sleep(0.5)
            terminal.type("/我的\r")
            answered = terminal.read_until(lambda text: "账号：console:user" in text, 20)
            if answered:
                break
        assert answered, terminal.text()[-2000:]

        terminal.type("\x03")  # Ctrl+C
        assert terminal.wait(30) == 0, terminal.text()[-2000:]
        assert "Application shutdown complete" in terminal.text()
        assert "Traceback" not in terminal.text()
    finally:
        terminal.kill()
