"""A patch of NoneBot's internals is applied only to the target it was written for (bot/patching.py): a changed
target is left alone with one warning, or refused loudly in strict mode (as in this test suite)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import nonebot.message
import pytest
from nonebot.dependencies import Dependent
from nonebot.log import logger
from nonebot.matcher import matchers
from nonebot.rule import Rule, TrieRule

from bot import chatter, console_quit, handled_exceptions, onebot_sender, patching, sequential_checks, waiting
from bot.app import TELEGRAM_SEGMENT_REPR


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    found: list[str] = []
    sink = logger.add(lambda message: found.append(str(message)), level="WARNING", format="{message}")
    yield found
    logger.remove(sink)


@pytest.fixture
def lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in production: no YIJING_STRICT_PATCHES."""
    monkeypatch.delenv(patching.STRICT_VARIABLE, raising=False)


def test_every_patch_fits_the_installed_versions() -> None:
    assert patching.strict()  # tests/conftest.py: a patch refused at start-up fails the run
    assert chatter.patch(lambda bot, event: False).differences() == []
    assert sequential_checks.PATCH.applied
    assert handled_exceptions.PATCH.applied
    assert onebot_sender.PATCH.applied
    assert waiting.PATCH.differences() == []
    assert TELEGRAM_SEGMENT_REPR.applied
    assert console_quit.PATCH.differences() == []  # applied in the demo's process (tests/test_console_demo.py)


async def preprocessors_of_another_nonebot(bot: Any, event: Any, state: Any, *, hooks: Any = None) -> bool:
    return True


def test_a_changed_target_is_left_alone_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, lenient: None, warnings: list[str]
) -> None:
    monkeypatch.setattr(nonebot.message, "_apply_event_preprocessors", preprocessors_of_another_nonebot)

    assert not chatter.install(lambda bot, event: True)

    assert nonebot.message._apply_event_preprocessors is preprocessors_of_another_nonebot
    assert len(warnings) == 1
    assert "bot/chatter.py" in warnings[0]
    assert "takes (bot, event, state, hooks), not (bot, event, state, stack, dependency_cache, show_log)" in warnings[0]
    assert "chatter is dropped by an event pre-processor" in warnings[0]


def test_in_strict_mode_a_changed_target_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nonebot.message, "_apply_event_preprocessors", preprocessors_of_another_nonebot)

    with pytest.raises(patching.PatchRefused, match=r"bot/chatter\.py .* is not applied"):
        chatter.install(lambda bot, event: True)
    assert nonebot.message._apply_event_preprocessors is preprocessors_of_another_nonebot


async def handle_event_of_another_nonebot(bot: Any, event: Any) -> None:
    for matcher in await matchers.provider.matching(bot, event):  # type: ignore[attr-defined]
        await matcher.run(bot, event, {})


def test_the_waiting_index_is_not_installed_where_nonebot_walks_matchers_differently(
    monkeypatch: pytest.MonkeyPatch, lenient: None, warnings: list[str]
) -> None:
    monkeypatch.setattr(nonebot.message, "handle_event", handle_event_of_another_nonebot)
    provider, get_value = matchers.provider, TrieRule.get_value

    assert not waiting.install()

    assert matchers.provider is provider
    assert TrieRule.get_value == get_value
    assert len(warnings) == 1
    assert "nonebot.message.handle_event no longer has TrieRule.get_value(bot, event, state)" in warnings[0]
    assert "every waiting dialogue is checked against every event" in warnings[0]


def test_a_target_that_is_gone_is_a_difference_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(TrieRule, "get_value")

    differences = waiting.PATCH.differences()

    assert len(differences) == 1
    assert differences[0].startswith("TrieRule.get_value could not be checked (AttributeError")


async def rule_of_another_nonebot(self: Rule, bot: Any, event: Any, state: Any) -> bool:
    return True


def test_sequential_checks_see_a_rule_call_with_other_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Rule, "__call__", rule_of_another_nonebot)
    solve = Dependent.solve
    applied: list[bool] = []
    patch = patching.Patch("probe", sequential_checks.CHECKS, lambda: applied.append(True), otherwise="as NoneBot")

    with pytest.raises(patching.PatchRefused, match=r"Rule.__call__ takes \(self, bot, event, state\)"):
        patch.install()
    assert applied == []
    assert Dependent.solve is solve


def test_a_telegram_adapter_whose_description_changed_is_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    from nonebot.adapters.telegram.message import MessageSegment

    def fixed_upstream(segment: MessageSegment) -> str:
        return f"[{segment.type}]"

    monkeypatch.setattr(MessageSegment, "__repr__", fixed_upstream)
    check = TELEGRAM_SEGMENT_REPR.checks[0]

    difference = check()

    assert difference is not None
    assert difference.startswith("Telegram MessageSegment.__repr__ has changed (source ")
