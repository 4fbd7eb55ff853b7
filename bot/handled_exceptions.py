"""Exceptions NoneBot has handled leave nothing for the garbage collector.

NoneBot ends a handler by raising (`finish()` raises `FinishedException`, a blocking matcher `StopPropagation`) and
catches those with `exceptiongroup.catch`. Two reference cycles came out of every command:
- `catch` re-raises the matched exception group inside its own `handle_exception` to call the handler, so the
  group's traceback holds that frame and the frame holds the group;
- `Matcher.run` keeps the `FinishedException` in a variable of its own frame, which is in the exception's
  traceback.
Each cycle held, through the frames' callers, the whole command: the event, the matcher and its state, the parsed
arguments, the caller's place, the service's result, the reply. In `bench/command_load.py` (`/报名` at 100 a
second, what a collection freed kept with `gc.DEBUG_SAVEALL`) that was about 175 objects per command. The young
generation filled several times a second, the commands still in flight at each collection were moved to the middle
generation and died there, and its collections took 20-145 ms of CPU with the event loop stopped.

Here `catch`'s `handle_exception` is the same code, except that once a handler has taken a group (it returned,
so the exception is handled and gone), the group's traceback is dropped, and so are the traceback and context of
each of NoneBot's own control-flow exceptions in it (FinishedException, RejectedException, PausedException,
StopPropagation, SkippedException, IgnoredException, MockApiException: signals, not errors; NoneBot only looks at
their type once they are caught). Errors keep their tracebacks, and a handler that raises (an error logged or
passed on) is left as it was. What a command leaves in cycles is then about 45 objects (alconna's `Target`,
which refers to itself through its selector). Run beside the code without this (`--compare`), the bot spent
12-98 ms per 10-second phase in young collections against 234-375 ms, and its longest middle-generation
collection took 18 ms against 65-121 ms.

`install()` replaces `_Catcher.handle_exception` of exceptiongroup 1.3 only where its source is the one this was
copied from (`bot/patching.py`); `tests/test_handled_exceptions.py` checks the cycles and that errors keep their
tracebacks.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from exceptiongroup import BaseExceptionGroup
from exceptiongroup._catch import _Catcher
from nonebot.exception import MatcherException, ProcessException

from bot import patching

CONTROL_FLOW = (MatcherException, ProcessException)
"""NoneBot's signals: FinishedException, RejectedException, PausedException (matcher), StopPropagation,
SkippedException, IgnoredException, MockApiException (processing)."""

CHECKS = [
    patching.source("exceptiongroup's _Catcher.handle_exception", lambda: _Catcher.handle_exception, "6e6577ef474f"),
]


def control_flow_in(group: BaseExceptionGroup) -> Iterator[BaseException]:
    for exception in group.exceptions:
        if isinstance(exception, BaseExceptionGroup):
            yield from control_flow_in(exception)
        elif isinstance(exception, CONTROL_FLOW):
            yield exception


def forget_handled(group: BaseExceptionGroup) -> None:
    """A group a handler has taken: its traceback (this module's frame, which holds the group) goes, and so do the
    tracebacks and contexts of NoneBot's signals in it (their frames hold them: Matcher.run keeps its
    FinishedException)."""
    group.__traceback__ = None
    for signal in control_flow_in(group):
        signal.__traceback__ = None
        signal.__context__ = None


def handle_exception(self: _Catcher, exc: BaseException) -> BaseException | None:
    """exceptiongroup 1.3's `_Catcher.handle_exception`, with `forget_handled` once a handler has returned."""
    excgroup: BaseExceptionGroup | None
    if isinstance(exc, BaseExceptionGroup):
        excgroup = exc
    else:
        excgroup = BaseExceptionGroup("", [exc])

    new_exceptions: list[BaseException] = []
    for exc_types, handler in self._handler_entries:
        matched, excgroup = excgroup.split(exc_types)
        if matched:
            if not isinstance(exc, BaseExceptionGroup):
                # split() sets this on derived groups, but native except* passes
                # a fresh wrapper group to the handler
                matched.__suppress_context__ = False

            context = matched.__context__
            try:
                try:
                    raise matched
                except BaseExceptionGroup:
                    matched.__context__ = context
                    result = handler(matched)
            except BaseException as new_exc:
                new_exceptions.append(new_exc)
            else:
                if inspect.iscoroutine(result):
                    raise TypeError(
                        f"Error trying to handle {matched!r} with {handler!r}. "
                        "Exception handler must be a sync function."
                    ) from exc
                forget_handled(matched)

        if not excgroup:
            break

    if new_exceptions:
        if excgroup:
            new_exceptions.append(excgroup)

        if len(new_exceptions) == 1:
            return new_exceptions[0]

        return BaseExceptionGroup("", new_exceptions)
    elif excgroup and len(excgroup.exceptions) == 1 and excgroup.exceptions[0] is exc:
        return exc
    else:
        return excgroup


def apply() -> None:
    _Catcher.handle_exception = handle_exception  # type: ignore[method-assign]


PATCH = patching.Patch(
    "bot/handled_exceptions.py (handled exceptions leave no reference cycles)",
    CHECKS,
    apply,
    otherwise="every command leaves its objects in reference cycles for the garbage collector, as without this",
)


def install() -> bool:
    """Handled exceptions without cycles; False (nothing changed, a warning logged) on another exceptiongroup."""
    return PATCH.install()
