"""Start and stop a real bot process for end-to-end tests.

    port = free_port()
    bot = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], env={...}, cwd=ROOT, log_path=tmp / "bot.log")
    bot.start()
    try:
        await bot.wait_for_port(port)
        ...
    finally:
        await bot.stop_async()   # SIGTERM, then SIGKILL after a grace period
        print(bot.log_tail())

Waiting is asynchronous (``await``) so that the fakes serving the bot in the test's event loop keep answering
while the test waits: a blocking wait would starve them and the bot's start-up calls would hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from typing_extensions import Self

__all__ = ["PYTHON", "ROOT", "BotProcess", "BotProcessError", "free_port", "phase_failed", "port_open"]

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[2]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def phase_failed(request) -> bool:
    """In a fixture's teardown: did the test (its set-up or call) fail? Needs the makereport hook of
    tests/e2e/conftest.py; for a fixture wider than a function it looks at the requesting test."""
    reports = request.node.__dict__.get("e2e_reports", {})
    return any(report.failed for report in reports.values())


class BotProcessError(AssertionError):
    """The bot process exited or did not become ready; the message ends with the tail of its log."""


class BotProcess:
    """A child process with stdout and stderr going to ``log_path``, in a session of its own."""

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        *,
        inherit_env: bool = True,
    ) -> None:
        """``env`` is added to a copy of this process's environment (unless ``inherit_env`` is False).
        PYTHONUNBUFFERED is set and 127.0.0.1/localhost are added to NO_PROXY so that the log is live and the
        bot's HTTP client (aiohttp with trust_env) never sends local traffic through a proxy."""
        self.args = [str(a) for a in args]
        base = dict(os.environ) if inherit_env else {}
        base.update({k: str(v) for k, v in (env or {}).items()})
        base.setdefault("PYTHONUNBUFFERED", "1")
        for key in ("NO_PROXY", "no_proxy"):
            hosts = [h for h in base.get(key, "").split(",") if h]
            base[key] = ",".join(hosts + [h for h in ("127.0.0.1", "localhost") if h not in hosts])
        self.env = base
        self.cwd = str(cwd) if cwd is not None else None
        if log_path is None:
            log_path = Path(self.cwd or ".") / "bot.log"
        self.log_path = Path(log_path)
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> BotProcess:
        if self.running:
            raise RuntimeError("already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} starting: {' '.join(self.args)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a kill reaches its children, not us
            )
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def returncode(self) -> int | None:
        return self.process.poll() if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (a graceful shutdown: NoneBot's on_shutdown hooks run), SIGKILL after ``timeout``. Blocking:
        from async code prefer :meth:`stop_async` so the fakes keep serving during the shutdown."""
        if not self.running:
            return self.returncode
        assert self.process is not None
        self._signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.wait(5)

    async def stop_async(self, timeout: float = 10.0) -> int | None:
        """As :meth:`stop`, without blocking the event loop."""
        if not self.running:
            return self.returncode
        assert self.process is not None
        self._signal(signal.SIGTERM)
        if not await self._wait_exit(timeout):
            self.kill()
            await self._wait_exit(5)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the process and its process group at once (a crash: no shutdown hooks run)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)

    def _signal(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signum)

    async def _wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.running:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- readiness

    async def wait_for_port(self, port: int, host: str = "127.0.0.1", timeout: float = 20.0) -> None:
        """Wait until the process listens on ``port``; fails at once (with the log) if it exits."""
        await self.wait_until(lambda: port_open(port, host), timeout, f"listening on {host}:{port}")

    async def wait_for_log(self, pattern: str, timeout: float = 20.0, *, regex: bool = False) -> str:
        """Wait until the log contains ``pattern`` (a substring, or a regular expression); returns the line."""
        compiled = re.compile(pattern if regex else re.escape(pattern))
        found: list[str] = []

        def check() -> bool:
            for line in self.log_text().splitlines():
                if compiled.search(line):
                    found.append(line)
                    return True
            return False

        await self.wait_until(check, timeout, f"log line matching {pattern!r}")
        return found[0]

    async def wait_until(self, condition, timeout: float = 20.0, what: str = "the condition") -> None:
        """Poll ``condition()`` (sync) every 50 ms until true; BotProcessError if the process exits or time's up."""
        deadline = time.monotonic() + timeout
        while True:
            if condition():
                return
            if self.process is not None and not self.running:
                raise BotProcessError(f"the bot exited with {self.returncode} before {what}\n{self.log_tail()}")
            if time.monotonic() >= deadline:
                raise BotProcessError(f"no {what} after {timeout}s\n{self.log_tail()}")
            await asyncio.sleep(0.05)

    # ---------------------------------------------------------------- log

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        tail = self.log_text().splitlines()[-lines:]
        state = "running" if self.running else f"exited with {self.returncode}"
        header = f"---- last {len(tail)} lines of {self.log_path} (pid {self.pid}, {state}) ----"
        return "\n".join([header, *tail, "-" * len(header)])


def write_bot_config(directory: Path, port: int, database_url: str, token: str, extra: str = "") -> Path:
    """A configuration file for `python -m bot`: the reverse WebSocket on `port` with `token`, the database, and
    any further TOML sections given in `extra`."""
    config = directory / f"config-{port}.toml"
    config.write_text(
        f"""
[server]
host = "127.0.0.1"
port = {port}

[database]
url = "{database_url}"

[onebot]
enabled = true
access_token = "{token}"
{extra}
""",
        encoding="utf-8",
    )
    return config


FAST_QQ_LIMITS = """
[limits.onebot]
per_second = 50
group_per_minute = 100
private_per_second = 20
jitter_ms = 0
"""
"""Sending limits lifted enough for tests that wait on many messages."""
