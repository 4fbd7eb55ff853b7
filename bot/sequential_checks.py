"""NoneBot's parameters and rules checked one after another instead of each in a task of its own.

For every hook, rule and handler NoneBot solves each parameter in a task of an anyio task group (two groups per
call: one to check the parameters, one to solve them) and runs each rule checker in a task of a further group. A
command passes some fifteen such calls, so some sixty tasks and thirty task groups are made and torn down for one
`/签到`. py-spy put a quarter of a command's CPU there. Solving the same parameters in turn, as FastAPI does,
gives each handler the same values: a parameter's own dependencies are still solved once per event through the
dependency cache, and nothing in this bot solves two slow parameters that would gain from running side by side
(the one parameter that waits on the platform is the caller's place, `plugins._common.CurrentPlace`).

`bench/command_load.py` measured, in the same run: `/签到` 6.7 → 3.2 ms CPU and `/报名` 9.2 → 6.9 ms.

What stays as NoneBot has it:
- a parameter that does not fit (`SkippedException`, e.g. a handler for another kind of event) skips the handler
  or fails the rule, as before; the exception arrives on its own instead of in an exception group, which NoneBot's
  `catch` blocks take alike;
- any other exception from a parameter or a rule goes where it went before (NoneBot logs it and the matcher does
  not run, or the run post-processor sees it);
- a rule passes only if every checker passes. Checkers are now tried in order and the first that fails ends the
  check (the others would not have changed the answer).

This replaces `Dependent.check`, `Dependent.solve` and `Rule.__call__` of NoneBot 2.5; `install()` leaves alone a
NoneBot whose versions of them take other arguments and says so (`bot/patching.py`), and
`tests/test_sequential_checks.py` checks the behaviour above.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any, cast

from nonebot.adapters import Bot, Event
from nonebot.dependencies import Dependent, Param
from nonebot.exception import SkippedException
from nonebot.rule import Rule
from nonebot.typing import T_DependencyCache, T_State

from bot import patching

CHECKS = [
    patching.parameters("Dependent.check", lambda: Dependent.check, ["self", "params"]),
    patching.parameters("Dependent.solve", lambda: Dependent.solve, ["self", "params"]),
    patching.parameters("Dependent._solve_field", lambda: Dependent._solve_field, ["self", "field", "params"]),
    patching.parameters("Param._check", lambda: Param._check, ["self", "kwargs"]),
    patching.parameters("Param._solve", lambda: Param._solve, ["self", "kwargs"]),
    patching.parameters(
        "Rule.__call__", lambda: Rule.__call__, ["self", "bot", "event", "state", "stack", "dependency_cache"]
    ),
    patching.attributes("Rule", lambda: Rule, ["checkers"]),
]


async def check_in_turn(self: Dependent[Any], **params: Any) -> None:
    for param in self.parameterless:
        await param._check(**params)
    for field in self.params:
        await cast(Param, field.field_info)._check(**params)


async def solve_in_turn(self: Dependent[Any], **params: Any) -> dict[str, Any]:
    for param in self.parameterless:
        await param._solve(**params)
    result: dict[str, Any] = {}
    for field in self.params:
        result[field.name] = await self._solve_field(field, params)
    return result


async def rule_in_turn(
    self: Rule,
    bot: Bot,
    event: Event,
    state: T_State,
    stack: AsyncExitStack | None = None,
    dependency_cache: T_DependencyCache | None = None,
) -> bool:
    for checker in self.checkers:
        try:
            passed = await checker(bot=bot, event=event, state=state, stack=stack, dependency_cache=dependency_cache)
        except SkippedException:
            return False
        if not passed:
            return False
    return True


def apply() -> None:
    Dependent.check = check_in_turn  # type: ignore[method-assign]
    Dependent.solve = solve_in_turn  # type: ignore[method-assign]
    Rule.__call__ = rule_in_turn  # type: ignore[method-assign]


PATCH = patching.Patch(
    "bot/sequential_checks.py (parameters and rules checked in turn)",
    CHECKS,
    apply,
    otherwise="NoneBot checks them in task groups, as it does without this",
)


def install() -> bool:
    """Check parameters and rules in turn; False (nothing changed, a warning logged) on a NoneBot this was not
    written for."""
    return PATCH.install()
