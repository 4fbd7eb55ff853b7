"""What every plugin's handlers share: who is calling and where, replies as plain text, refusals, notices.

Nothing here knows a platform: identity comes from nonebot-plugin-uninfo, sending from nonebot-plugin-alconna.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, NoReturn, TypeVar

from nonebot.adapters import Bot
from nonebot.log import logger
from nonebot.params import Depends
from nonebot_plugin_alconna import Alconna, AlconnaMatcher, Args, At, Target, UniMessage, on_alconna
from nonebot_plugin_uninfo import SceneType, Uninfo, get_interface

from storage.errors import DomainError
from storage.services.people import Caller, PersonRef

T = TypeVar("T")

ADAPTER_NAMES = {"onebot": "OneBot V11", "telegram": "Telegram", "console": "Console"}


def command(name: str, alias: str, args: Args | None = None) -> type[AlconnaMatcher]:
    """A command with a Chinese name and an English alias, started by a command start such as "/".

    It is handled even when its arguments do not parse, so that the handler can answer with its usage; alconna's
    own parse errors are never sent to users (they are not plain Chinese, and would echo what was typed).
    """
    alconna = Alconna(name, args) if args is not None else Alconna(name)
    return on_alconna(
        alconna,
        aliases={alias},
        use_cmd_start=True,
        skip_for_unmatch=False,
        auto_send_output=False,
        block=True,
        _depth=1,
    )


def platform_of(bot: Bot) -> str:
    """The platform key used in the configuration and the database: onebot, telegram, console."""
    return bot.adapter.get_name().split(maxsplit=1)[0].lower()


@dataclass(frozen=True)
class Place:
    """Where a command was sent: a group chat (with its id) or a private chat."""

    caller: Caller
    group_id: str | None

    @property
    def in_group(self) -> bool:
        return self.group_id is not None


async def _current_place(bot: Bot, session: Uninfo) -> Place:
    name = (session.member.nick if session.member and session.member.nick else None) or session.user.nick
    name = name or session.user.name or ""
    caller = Caller(platform=platform_of(bot), user_id=str(session.user.id), name=name)
    if session.scene.type == SceneType.PRIVATE:
        return Place(caller=caller, group_id=None)
    return Place(caller=caller, group_id=str(session.scene.id))


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
    if isinstance(value, int) or str(value).isdigit():
        return PersonRef(member_number=int(value))
    return None


async def _group_member_name(bot: Bot, group_id: str, user_id: str) -> str:
    interface = get_interface(bot)
    if interface is None:
        return ""
    try:
        member = await interface.get_member(SceneType.GROUP, group_id, user_id)
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


async def refuse_on_error(work: Awaitable[T]) -> T:
    """Run a service call; a refusal is answered with its message and ends the handler, with nothing changed."""
    try:
        return await work
    except DomainError as error:
        await finish(error.message)


async def notify(platform: str, chat_id: str, text: str, *, private: bool) -> bool:
    """Send a notice to a chat outside the current conversation; False when no connected bot could deliver it."""
    adapter = ADAPTER_NAMES.get(platform)
    if adapter is None:
        return False
    try:
        await UniMessage.text(text).send(target=Target(chat_id, private=private, adapter=adapter))
    except Exception as error:  # a closed private chat or a missing bot must not undo what was decided
        logger.warning(f"notice to {platform} {'user' if private else 'group'} {chat_id} not delivered: {error!r}")
        return False
    return True
