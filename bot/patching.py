"""Replacing a piece of NoneBot or of a plugin only where it is still the piece the replacement was written for.

`bot/chatter.py`, `bot/sequential_checks.py`, `bot/waiting.py` and the Telegram segment fix in `bot/app.py` each
replace something inside a dependency. Each describes what it replaces as a `Patch`: checks that the target still
has the parameters, source or attributes it was written against, and what the bot does without it. Where a check
fails, the patch is not applied: the bot logs one warning naming the patch, what differs and what it does instead,
and runs with the dependency's own behaviour. With `YIJING_STRICT_PATCHES` set (the test suite sets it) a failed
check raises `PatchRefused` instead, so that an upgrade that moves a target fails the tests rather than slowing
the bot down quietly.

pyproject.toml bounds the versions these were written against; README "Upgrading NoneBot and the plugins" says how
to move a bound.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nonebot.log import logger

STRICT_VARIABLE = "YIJING_STRICT_PATCHES"
"""Set (to anything but empty or 0) to make a failed check raise instead of warn."""

Check = Callable[[], "str | None"]
"""Says what differs from what a patch was written for, or None where the target is as expected."""


class PatchRefused(RuntimeError):
    """A patch's target is not the one it was written for, in strict mode."""


def strict() -> bool:
    return os.environ.get(STRICT_VARIABLE, "") not in ("", "0")


def parameters(describe: str, target: Callable[[], object], names: Sequence[str]) -> Check:
    """The callable `target()` returns takes exactly these parameters, in this order."""

    def check() -> str | None:
        found = list(inspect.signature(target()).parameters)  # type: ignore[arg-type]
        return None if found == list(names) else f"{describe} takes ({', '.join(found)}), not ({', '.join(names)})"

    return _readable(describe, check)


def source(describe: str, target: Callable[[], object], sha256: str) -> Check:
    """The source of what `target()` returns is, byte for byte, the one whose SHA-256 starts with `sha256`."""

    def check() -> str | None:
        found = source_hash(target())
        return None if found.startswith(sha256) else f"{describe} has changed (source {found[:12]}, not {sha256})"

    return _readable(describe, check)


def source_contains(describe: str, target: Callable[[], object], snippets: Sequence[str]) -> Check:
    """The source of what `target()` returns still contains each of these lines of code."""

    def check() -> str | None:
        text = inspect.getsource(target())  # type: ignore[arg-type]
        missing = [snippet for snippet in snippets if snippet not in text]
        return None if not missing else f"{describe} no longer has {' / '.join(missing)}"

    return _readable(describe, check)


def attributes(describe: str, owner: Callable[[], object], names: Sequence[str]) -> Check:
    """What `owner()` returns has each of these attributes."""

    def check() -> str | None:
        found = owner()
        missing = [name for name in names if not hasattr(found, name)]
        return None if not missing else f"{describe} has no {', '.join(missing)}"

    return _readable(describe, check)


def _readable(describe: str, check: Check) -> Check:
    """A target gone or unreadable is a difference, not a crash."""

    def guarded() -> str | None:
        try:
            return check()
        except Exception as error:
            return f"{describe} could not be checked ({error!r})"

    return guarded


def source_hash(target: object) -> str:
    return hashlib.sha256(inspect.getsource(target).encode()).hexdigest()  # type: ignore[arg-type]


@dataclass
class Patch:
    """One replacement: its name, the checks that must pass, how to apply it, and what the bot does without it."""

    name: str
    checks: Sequence[Check]
    apply: Callable[[], None]
    otherwise: str
    applied: bool = field(default=False, init=False)

    def differences(self) -> list[str]:
        """What differs from what this patch was written for; empty where every check passes."""
        found: list[str] = []
        for check in self.checks:
            try:
                difference = check()
            except Exception as error:  # a check of one's own that is not made by the functions above
                difference = f"a check could not be made ({error!r})"
            if difference:
                found.append(difference)
        return found

    def install(self) -> bool:
        """Apply the patch if every check passes; otherwise warn (or raise, in strict mode) and change nothing."""
        if self.applied:
            return True
        differences = self.differences()
        if differences:
            message = (
                f"{self.name} is not applied: {'; '.join(differences)}. Instead {self.otherwise}. "
                "See README, Upgrading NoneBot and the plugins."
            )
            if strict():
                raise PatchRefused(message)
            logger.warning(message)
            return False
        self.apply()
        self.applied = True
        return True
