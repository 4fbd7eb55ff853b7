"""What every plugin's handlers share: who is calling and where, replies as plain text, refusals, notices.

Nothing here knows a platform: identity comes from nonebot-plugin-uninfo, sending from nonebot-plugin-alconna.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn, TypeVar

from nonebot import get_driver
from nonebot.adapters import Bot, Event
from nonebot.log import logger
from nonebot.matcher import Matcher, current_bot, current_event
from nonebot.params import Depends
from nonebot.rule import Rule
from nonebot_plugin_alconna import (
    Alconna,
    AlconnaMatcher,
    Args,
    At,
    Button,
    Hyper,
    Keyboard,
    Text,
    UniMessage,
    on_alconna,
)
from nonebot_plugin_uninfo import SceneType, get_interface, get_session

from plugins._arguments import as_number
from plugins._commands import COMMANDS, declared
from plugins._texts import refusal
from storage.errors import DomainError
from storage.services.actors import ChatAccount, ChatGroup
from storage.services.people import PersonRef

T = TypeVar("T")

ADAPTER_NAMES = {"onebot": "OneBot V11", "telegram": "Telegram", "console": "Console"}
CANCEL_WORDS = ("取消", "退出", "算了", "cancel")
DIALOGUE_EXPIRED = "等太久了，已退出，什么也没有改。需要时重新发送命令。"


LATER = len(COMMANDS) + 10
"""The priority for matchers that look at messages after every command has had its turn."""
COMMAND_HEADS = "command_heads"
"""The attribute of a command's first-word checker naming the first words it takes (bot/waiting.py reads it;
tests/test_waiting.py checks that the two agree)."""


def command(name: str, alias: str, args: Args | None = None) -> type[AlconnaMatcher]:
    """A command with a Chinese name and an English alias, started by a command start such as "/": one of the
    table's (plugins/_commands/table.py), with the alias the table gives it.

    Its priority is its order of use in the table. NoneBot checks every matcher of a priority for every event, and
    stops at the first priority whose matcher takes the event: with one command per priority, most used first, a
    check-in at the evening peak is matched after one check instead of thirty.

    It is handled even when its arguments do not parse, so that the handler can answer with its usage; alconna's
    own parse errors are never sent to users (they are not plain Chinese, and would echo what was typed).
    """
    row = declared(name, alias)
    alconna = Alconna(name, args) if args is not None else Alconna(name)
    return on_alconna(
        alconna,
        rule=Rule(_written_as(name, alias)),
        aliases={alias},
        use_cmd_start=True,
        skip_for_unmatch=False,
        auto_send_output=False,
        block=True,
        priority=row.use_rank,
        _depth=1,
    )


def _written_as(name: str, alias: str):
    """A cheap first look, before alconna parses: could the message be this command?

    NoneBot checks the command matchers in order until one takes the message, and alconna's check (turning the
    message into a UniMessage and parsing it) costs about as much as a reply; a /报名 paid it for /签到 and /签退
    first. A message whose first word is written as a command (a command start in front) but is neither this
    command's name nor its alias is turned away here. Anything else (no text in front, or a first word without a
    command start) is left to alconna to decide, as before.

    The checker carries the first words it takes as `command_heads`: with them NoneBot's walk over the priorities
    passes over this command's priority, without a task group, for a message naming another command
    (bot/waiting.py).
    """
    starts = tuple(get_driver().config.command_start)
    heads = frozenset(start + word for start in starts for word in (name, alias))

    async def could_be_this_command(event: Event) -> bool:
        if event.get_type() != "message":  # heartbeats, notices, requests: no command (and no text to read)
            return False
        words = event.get_plaintext().split(maxsplit=1)
        if not words or not words[0].startswith(starts):
            return True
        return words[0] in heads

    setattr(could_be_this_command, COMMAND_HEADS, heads)
    return could_be_this_command


def platform_of(bot: Bot) -> str:
    """The platform key used in the configuration and the database: onebot, telegram, console."""
    return bot.adapter.get_name().split(maxsplit=1)[0].lower()


def shows_pictures(bot: Bot) -> bool:
    """Whether the chat can show a picture: QQ and Telegram can, the console (a terminal) cannot."""
    return platform_of(bot) != "console"


@dataclass(frozen=True)
class Place:
    """Who sent a command, and where: in a group chat, or in private (no group)."""

    caller: ChatAccount
    group: ChatGroup | None

    @property
    def in_group(self) -> bool:
        return self.group is not None

    @property
    def group_id(self) -> str | None:
        return self.group.group_id if self.group is not None else None


async def ask_uninfo(lookup: Coroutine[Any, Any, T]) -> T:
    """An uninfo lookup, run in an empty context of its own so that its cache keeps only what it looked up.

    uninfo keeps each answer five minutes and schedules its removal with `loop.call_later`, and a timer keeps a copy
    of the context it was scheduled in until it fires. In a handler's context that is NoneBot's current bot, event
    and matcher, with the matcher's state and the parsed command: about 4 KB per command, held five minutes. At 300
    commands a second `bench/command_load.py` saw the bot grow by 110 MB. Nothing uninfo does reads that context.
    """
    return await asyncio.create_task(lookup, context=contextvars.Context())


async def _current_place() -> Place:
    # The handler's bot and event come from NoneBot's context rather than as parameters: a dependency with
    # parameters costs NoneBot two task groups and a task per parameter to check and solve them, for every command.
    bot, event = current_bot.get(), current_event.get()
    session = await ask_uninfo(get_session(bot, event))
    if session is None:  # uninfo has no loader for this adapter: nobody to act as (answered as any failure)
        raise LookupError(f"no uninfo session for {bot.adapter.get_name()} {event.get_type()} events")
    name = (session.member.nick if session.member and session.member.nick else None) or session.user.nick
    name = name or session.user.name or ""
    platform = platform_of(bot)
    caller = ChatAccount(platform=platform, user_id=str(session.user.id), name=name)
    if session.scene.type == SceneType.PRIVATE:
        return Place(caller=caller, group=None)
    return Place(caller=caller, group=ChatGroup(platform, str(session.scene.id)))


CurrentPlace = Annotated[Place, Depends(_current_place)]


async def person_from(bot: Bot, value: At | int | str | None, place: Place) -> PersonRef | None:
    """A person named in a command: an @-mention (with their name in this group, where the platform tells) or a
    member number."""
    if value is None:
        return None
    if isinstance(value, At):
        user_id = str(value.target)
        name = value.display or ""
        if not name and place.group_id is not None:
            name = await _group_member_name(bot, place.group_id, user_id)
        return PersonRef(platform=place.caller.platform, user_id=user_id, display_name=name)
    number = value if isinstance(value, int) else as_number(str(value))
    return PersonRef(member_number=number) if number is not None else None


async def _group_member_name(bot: Bot, group_id: str, user_id: str) -> str:
    interface = get_interface(bot)
    if interface is None:
        return ""
    try:
        member = await ask_uninfo(interface.get_member(SceneType.GROUP, group_id, user_id))
    except Exception as error:  # the name is a courtesy; the platform may refuse to tell
        logger.debug(f"no name for {user_id} in {group_id}: {error!r}")
        return ""
    if member is None:
        return ""
    return member.nick or member.user.nick or member.user.name or ""


async def reply(text: str) -> None:
    """Answer in the chat the command came from. Text always goes out as plain text, never parsed as markup."""
    await UniMessage.text(text).send()


async def finish(text: str) -> NoReturn:
    await UniMessage.text(text).finish()
    raise AssertionError("unreachable")


async def refuse_on_error(work: Awaitable[T], *, in_group: bool = False) -> T:
    """Run a service call; a refusal is answered with its message and ends the handler, with nothing changed. Pass
    `in_group` where a refusal may quote something personal (plugins/_texts' refusals worded for groups)."""
    try:
        return await work
    except DomainError as error:
        await finish(refusal(error, in_group=in_group))


def with_buttons(
    text: str, platform: str, buttons: list[tuple[str, str]] | None = None, mentions: list[str] | None = None
) -> UniMessage:
    """Plain text; on QQ the people to remind @-mentioned in front; on Telegram a row of buttons that each fill in
    a command (label, command). Text is always plain: nothing in it is read as markup."""
    message = UniMessage()
    if mentions and platform == "onebot":
        for user_id in mentions:
            message += At("user", user_id)
        message += Text(" ")
    message += Text(text)
    if buttons and platform == "telegram":
        message += Keyboard([Button("input", label=label, text=command) for label, command in buttons])
    return message


open_dialogues: dict[str, float] = {}
"""Sessions (NoneBot session ids) in the middle of a multi-step dialogue, with when they expire (loop time): their
plain answers are not chatter."""
_expiry_tasks: dict[str, asyncio.Task[None]] = {}


def dialogue_is_open(session_id: str) -> bool:
    deadline = open_dialogues.get(session_id)
    return deadline is not None and deadline > asyncio.get_running_loop().time()


def open_dialogue(bot: Bot, event: Event, seconds: float | None = None, expired: str = DIALOGUE_EXPIRED) -> float:
    """From now on the asker's plain messages in this chat reach the dialogue, until it closes or times out after
    `seconds` (default: NoneBot's session_expire_timeout); returns that deadline (loop time).

    NoneBot drops a waiting dialogue silently after `session_expire_timeout`; the asker is told `expired` instead.
    """
    key = event.get_session_id()
    loop = asyncio.get_running_loop()
    wait = dialogue_timeout() if seconds is None else seconds
    deadline = loop.time() + wait
    open_dialogues[key] = deadline
    if previous := _expiry_tasks.pop(key, None):
        previous.cancel()
    _expiry_tasks[key] = loop.create_task(_tell_when_expired(bot, event, key, wait, expired))
    return deadline


def close_dialogue(event: Event) -> None:
    key = event.get_session_id()
    open_dialogues.pop(key, None)
    if task := _expiry_tasks.pop(key, None):
        task.cancel()


def dialogue_timeout() -> float:
    """Seconds a dialogue waits for the next answer: NoneBot's session_expire_timeout, after which it drops it."""
    return get_driver().config.session_expire_timeout.total_seconds()


async def _tell_when_expired(bot: Bot, event: Event, key: str, seconds: float, expired: str) -> None:
    await asyncio.sleep(seconds)
    open_dialogues.pop(key, None)
    _expiry_tasks.pop(key, None)
    try:
        await UniMessage.text(expired).send(target=event, bot=bot)
    except Exception as error:
        logger.warning(f"could not say that a dialogue expired: {error!r}")


def is_cancel(text: str) -> bool:
    return text.strip().lstrip("/／") in CANCEL_WORDS


def command_starts() -> tuple[str, ...]:
    return tuple(get_driver().config.command_start)


async def answer_or_leave(matcher: Matcher, event: Event, *, cancelled: str, left: str) -> str:
    """The text of an answer in a step-by-step dialogue, for the step to check.

    A cancel word (取消, 退出, 算了, with or without a slash, and /cancel) ends the dialogue and nothing else: the
    asker is told `cancelled`. Any other message that starts with a slash is a command: the dialogue ends, the
    asker is told `left` (one line), and the message goes on to the commands as if no dialogue had waited. Anything
    else is the answer, even a word that is also a command's name.
    """
    text = event.get_plaintext().strip()
    if is_cancel(text):
        close_dialogue(event)
        await finish(cancelled)
    if text.startswith(command_starts()):
        close_dialogue(event)
        await reply(left)
        matcher.block = False  # NoneBot goes on to the lower priorities: the commands
        await matcher.finish()
    return text


def location_in(message: UniMessage) -> tuple[float, float] | None:
    """A shared location in a message: a OneBot location segment, NapCat's map card, or a Telegram location."""
    for segment in message:
        origin = getattr(segment, "origin", None)
        data = getattr(origin, "data", None) if origin is not None else None
        if isinstance(segment, Hyper) and segment.raw:
            found = _location_in_card(segment.raw)
            if found:
                return found
        if isinstance(data, dict):
            latitude = data.get("lat", data.get("latitude"))
            longitude = data.get("lon", data.get("lng", data.get("longitude")))
            if latitude is not None and longitude is not None:
                try:
                    return float(latitude), float(longitude)
                except (TypeError, ValueError):
                    return None
    return None


def _location_in_card(raw: str) -> tuple[float, float] | None:
    try:
        card = json.loads(raw)
    except (TypeError, ValueError):
        return None
    meta = card.get("meta") if isinstance(card, dict) else None
    if not isinstance(meta, dict):
        return None
    for value in meta.values():
        if isinstance(value, dict) and "lat" in value and ("lng" in value or "lon" in value):
            try:
                return float(value["lat"]), float(value["lng"] if "lng" in value else value["lon"])
            except (TypeError, ValueError):
                return None
    return None


CONFIRM_WORDS = ("确认", "确定", "confirm")


def is_confirm(text: str) -> bool:
    return text.strip().lstrip("/／").lower() in CONFIRM_WORDS


def open_confirmation(bot: Bot, event: Event, seconds: float, expired: str) -> float:
    """A yes-or-no question that stands only `seconds` (a confirmation): after that the asker's plain messages are
    chatter again, and the asker is told `expired`. Returns the deadline (loop time) the answer's handler checks,
    since NoneBot keeps the matcher waiting for `session_expire_timeout`."""
    return open_dialogue(bot, event, seconds, expired)


def confirmation_lapsed(deadline: float) -> bool:
    return asyncio.get_running_loop().time() > deadline
