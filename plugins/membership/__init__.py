"""Joining and vetting: /加入, /审核, /通过, /拒绝, and a member's own page /我的."""

from typing import NoReturn

from nonebot import on_message, require
from nonebot.adapters import Bot, Event
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, At, Match, MultiVar
from nonebot_plugin_uninfo import SceneType, get_session

from plugins._arguments import NumberOrMention
from plugins._common import (
    LATER,
    CurrentPlace,
    Place,
    ask_uninfo,
    command,
    finish,
    person_from,
    platform_of,
    refuse_on_error,
)
from plugins._texts.membership import (
    PHONE_STILL_WANTED,
    PHONE_WANTED,
    text_for_application,
    text_for_decision,
    text_for_join_started,
    text_for_pending,
    text_for_profile,
)
from storage.services import membership
from storage.services.actors import ChatAccount
from storage.services.people import NAME_DOTS, find_phone

JOIN_USAGE = (
    "加入队伍：在你的队伍群里发送 /加入 姓名 特长，例如 /加入 张三 驾驶 医护（特长可以不写）。\n"
    "然后私聊我，发送你的手机号。手机号不要发在群里。"
)
APPROVE_USAGE = "通过申请：/通过 编号 或 /通过 @某人\n编号见 /审核"
REJECT_USAGE = "拒绝申请：/拒绝 编号 理由\n例如：/拒绝 12 不是本小区居民"

__plugin_meta__ = PluginMetadata(
    name="加入与审核",
    description="申请加入队伍，队长和民警审核，查看自己的信息",
    usage="\n\n".join([JOIN_USAGE, "查看待审核的申请：/审核", APPROVE_USAGE, REJECT_USAGE, "查看自己的信息：/我的"]),
)

join_command = command("加入", "join", Args["words", MultiVar(str, "*")])
pending_command = command("审核", "pending")
approve_command = command("通过", "approve", Args["which?", NumberOrMention])
reject_command = command("拒绝", "reject", Args["which?", NumberOrMention]["reason", MultiVar(str, "*")])
me_command = command("我的", "me")


@join_command.handle()
async def join_team(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    typed = NAME_DOTS.sub("·", " ".join(words.result)) if words.available else ""  # 阿依古丽 · 买买提: one word
    phone, others = find_phone(typed)
    others = _name_first(others)
    if place.group is None:
        await _finish_in_private(place, phone, others)
    if not others:
        await finish(JOIN_USAGE)
    if phone is not None:  # typed into the group anyway: the number is out already, so the application goes ahead
        application = await refuse_on_error(
            membership.apply_to_team(place.caller, place.group, others[0], phone, others[1:])
        )
        await finish(text_for_application(application))
    started = await refuse_on_error(membership.start_application(place.caller, place.group, others[0], others[1:]))
    await finish(text_for_join_started(started))


def _name_first(words: list[str]) -> list[str]:
    """The name, then the specialties: a name in Latin letters may be several words (Li Ming), the specialties
    after it are not (驾驶 医护)."""
    latin = 0
    while latin < len(words) and words[latin].isascii() and words[latin].isalpha():
        latin += 1
    if latin < 2:
        return words
    return [" ".join(words[:latin]), *words[latin:]]


async def _finish_in_private(place: Place, phone: str | None, others: list[str]) -> NoReturn:
    if phone is None:
        if await membership.pending_join(place.caller) is not None:
            await finish(PHONE_WANTED)
        await finish(JOIN_USAGE)
    name = others[0] if others else None
    application = await refuse_on_error(membership.finish_application(place.caller, phone, name))
    await finish(text_for_application(application))


async def _answers_in_private(bot: Bot, event: Event) -> bool:
    """A text in private that is not a command, and either is a phone number or comes while an application begun
    in a group waits for one. (Who is asked of the platform only then: a Telegram lookup costs a call.)"""
    if event.get_type() != "message" or not event.is_tome():
        return False
    text = event.get_plaintext().strip()
    if not text or text.startswith(("/", "／")):
        return False
    phone, others = find_phone(text)
    if phone is None or others:  # a number among other words is an answer only while an application waits
        waiting = await membership.pending_join(ChatAccount(platform=platform_of(bot), user_id=event.get_user_id()))
        if waiting is None:
            return False
    session = await ask_uninfo(get_session(bot, event))
    return session is not None and session.scene.type == SceneType.PRIVATE


phone_answer = on_message(rule=Rule(_answers_in_private), priority=LATER, block=True)


@phone_answer.handle()
async def phone_sent_in_private(place: CurrentPlace, event: Event) -> None:
    """The answer to an application begun in a group: the phone number (perhaps among other words), or anything
    else, which asks again for the number."""
    phone, _ = find_phone(event.get_plaintext())
    if phone is None:
        await finish(PHONE_STILL_WANTED)
    application = await refuse_on_error(membership.finish_application(place.caller, phone))
    await finish(text_for_application(application))


@pending_command.handle()
async def list_pending(place: CurrentPlace) -> None:
    applications, total = await refuse_on_error(membership.list_pending(place.caller, place.group))
    await finish(text_for_pending(applications, total))


async def _decide(bot: Bot, place: Place, which: Match[int | At], *, approve: bool, reason: str | None = None) -> None:
    value = which.result if which.available else None
    number = value if isinstance(value, int) else None
    person = None if number is not None else await person_from(bot, value, place)
    if number is None and person is None:
        await finish(APPROVE_USAGE if approve else REJECT_USAGE)
    decision = await refuse_on_error(
        membership.decide_application(
            place.caller, approve=approve, number=number, person=person, where=place.group, reason=reason
        )
    )
    await finish(text_for_decision(decision))


@approve_command.handle()
async def approve_application(bot: Bot, place: CurrentPlace, which: Match[int | At]) -> None:
    await _decide(bot, place, which, approve=True)


@reject_command.handle()
async def reject_application(
    bot: Bot, place: CurrentPlace, which: Match[int | At], reason: Match[tuple[str, ...]]
) -> None:
    text = " ".join(reason.result) if reason.available else None
    await _decide(bot, place, which, approve=False, reason=text)


@me_command.handle()
async def show_me(place: CurrentPlace) -> None:
    profile = await membership.my_profile(place.caller)
    caller = place.caller
    own_eyes_only = not place.in_group or caller.platform == "console" or profile.is_admin
    await finish(text_for_profile(profile, f"{caller.platform}:{caller.user_id}" if own_eyes_only else None))
