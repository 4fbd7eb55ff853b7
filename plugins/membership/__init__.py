"""Joining and vetting: /加入, /审核, /通过, /拒绝, /认领 (taking over a roster record), and a member's page /我的."""

from typing import NoReturn

from nonebot import on_message, require
from nonebot.adapters import Bot, Event
from nonebot.log import logger
from nonebot.matcher import Matcher
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")
require("nonebot_plugin_apscheduler")

from nonebot_plugin_alconna import Args, At, Match, MultiVar
from nonebot_plugin_apscheduler import scheduler
from nonebot_plugin_uninfo import SceneType, get_session

from plugins._arguments import NumberOrMention
from plugins._common import (
    LATER,
    CurrentPlace,
    Place,
    ask_uninfo,
    command,
    finish,
    is_cancel,
    person_from,
    platform_of,
    refuse_on_error,
)
from plugins._texts import refusal
from plugins._texts.claims import (
    APPROVE_WORDS,
    CLAIM_USAGE,
    REJECT_WORDS,
    text_for_claim_decided,
    text_for_claims,
)
from plugins._texts.membership import (
    text_for_application,
    text_for_decision,
    text_for_profile,
    text_for_review,
)
from plugins._texts.recruiting import CANCELLED_APPLICATION, text_for_begun_in_group
from plugins.membership.application import advance, answer_step, ask
from storage.errors import DomainError
from storage.services import applications, claims, membership
from storage.services.actors import ChatAccount
from storage.services.invites import as_code
from storage.services.people import NAME_DOTS, find_phone

JOIN_USAGE = (
    "加入队伍：在你的队伍群里发送 /加入 姓名 特长，例如 /加入 张三 驾驶 医护（特长可以不写），"
    "然后私聊我回答几个登记问题（手机号等不要发在群里）。\n"
    "有邀请码的，直接私聊我发送 /加入 邀请码，例如 /加入 AB3CD5EF。"
)
CODE_IN_PRIVATE = "邀请码请私聊我发送，例如 /加入 AB3CD5EF：登记要填手机号等，不要在群里填。"
APPROVE_USAGE = "通过申请：/通过 编号 或 /通过 @某人\n编号见 /审核"
REJECT_USAGE = "拒绝申请：/拒绝 编号 理由\n例如：/拒绝 12 不是本小区居民"

__plugin_meta__ = PluginMetadata(
    name="加入与审核",
    description="申请加入队伍，队长和民警审核，查看自己的信息",
    usage="\n\n".join(
        [JOIN_USAGE, "查看待审核的申请：/审核", APPROVE_USAGE, REJECT_USAGE, CLAIM_USAGE, "查看自己的信息：/我的"]
    ),
)

join_command = command("加入", "join", Args["words", MultiVar(str, "*")])
pending_command = command("审核", "pending")
approve_command = command("通过", "approve", Args["which?", NumberOrMention])
reject_command = command("拒绝", "reject", Args["which?", NumberOrMention]["reason", MultiVar(str, "*")])
me_command = command("我的", "me")
claim_command = command("认领", "claim", Args["number?", int]["verdict?", str]["reason", MultiVar(str, "*")])


@join_command.handle()
async def join_team(bot: Bot, event: Event, place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    typed = NAME_DOTS.sub("·", " ".join(words.result)) if words.available else ""  # 阿依古丽 · 买买提: one word
    if place.group is None:
        await _join_in_private(bot, event, place, typed)
    if len(typed.split()) == 1 and as_code(typed) is not None:
        await finish(CODE_IN_PRIVATE)  # an invite code is for the private chat, where the questions are asked
    phone, others = find_phone(typed)
    others = _name_first(others)
    if not others:
        await finish(JOIN_USAGE)
    begun = await refuse_on_error(
        applications.begin_in_group(place.caller, place.group, others[0], others[1:], phone_text=phone)
    )
    await finish(text_for_begun_in_group(begun))


@join_command.handle()
async def join_answer(matcher: Matcher, bot: Bot, event: Event, place: CurrentPlace) -> None:
    await answer_step(matcher, bot, event, place)


def _name_first(words: list[str]) -> list[str]:
    """The name, then the specialties: a name in Latin letters may be several words (Li Ming), the specialties
    after it are not (驾驶 医护)."""
    latin = 0
    while latin < len(words) and words[latin].isascii() and words[latin].isalpha():
        latin += 1
    if latin < 2:
        return words
    return [" ".join(words[:latin]), *words[latin:]]


async def _join_in_private(bot: Bot, event: Event, place: Place, typed: str) -> NoReturn:
    """/加入 邀请码 begins the application; /加入 with an application under way asks its next question, or takes
    what follows it as the answer (/加入 13800138000)."""
    if len(typed.split()) == 1 and (code := as_code(typed)) is not None:
        begun = await refuse_on_error(applications.begin_with_invite(place.caller, code))
        if not isinstance(begun, applications.Question):
            await finish(text_for_application(begun))
        await ask(join_command, bot, event, begun)
    question = await applications.current_question(place.caller)
    if question is None:
        if typed:
            await finish(refusal(DomainError("membership.nothing_begun")))
        await finish(JOIN_USAGE)
    if typed:
        await advance(join_command, bot, event, place, typed, again=join_command.pause)
    await ask(join_command, bot, event, question)


async def _answers_in_private(bot: Bot, event: Event) -> bool:
    """A text in private that is not a command, and either is a phone number or comes while an application waits
    for an answer there. (Who is asked of the platform only then: a Telegram lookup costs a call.)"""
    if event.get_type() != "message" or not event.is_tome():
        return False
    text = event.get_plaintext().strip()
    if not text or text.startswith(("/", "／")):
        return False
    phone, others = find_phone(text)
    if phone is None or others:  # a number among other words is an answer only while an application waits
        account = ChatAccount(platform=platform_of(bot), user_id=event.get_user_id())
        if await applications.current_question(account) is None:
            return False
    session = await ask_uninfo(get_session(bot, event))
    return session is not None and session.scene.type == SceneType.PRIVATE


private_answer = on_message(rule=Rule(_answers_in_private), priority=LATER, block=True)


@private_answer.handle()
async def first_private_answer(bot: Bot, event: Event, place: CurrentPlace) -> None:
    """An answer to an application with no dialogue waiting: the first one after /加入 in a group (the phone
    number), or one after a restart or a long pause. From here the dialogue goes on as usual."""
    text = event.get_plaintext().strip()
    if is_cancel(text):
        await applications.drop(place.caller)
        await finish(CANCELLED_APPLICATION)
    await advance(private_answer, bot, event, place, text, again=private_answer.pause)


@private_answer.handle()
async def next_private_answer(matcher: Matcher, bot: Bot, event: Event, place: CurrentPlace) -> None:
    await answer_step(matcher, bot, event, place)


@pending_command.handle()
async def list_pending(place: CurrentPlace) -> None:
    review = await refuse_on_error(membership.review(place.caller, place.group))
    waiting, total = await claims.waiting(place.caller, place.group)
    if not total:
        await finish(text_for_review(review))
    nothing_else = not review.vetting_total and not review.approval_total
    shown = (
        [text_for_claims(waiting, total)]
        if nothing_else
        else [text_for_review(review), text_for_claims(waiting, total)]
    )
    await finish("\n\n".join(shown))


@claim_command.handle()
async def decide_claim(
    place: CurrentPlace, number: Match[int], verdict: Match[str], reason: Match[tuple[str, ...]]
) -> None:
    word = verdict.result if verdict.available else ""
    if not number.available or word not in (*APPROVE_WORDS, *REJECT_WORDS):
        await finish(CLAIM_USAGE)
    text = " ".join(reason.result) if reason.available else None
    decided = await refuse_on_error(
        claims.decide(place.caller, number.result, approve=word in APPROVE_WORDS, reason=text)
    )
    await finish(text_for_claim_decided(decided))


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


async def forget_expired_applications() -> None:
    """Each hour: applications left unfinished too long are deleted with what they hold (nothing was consented),
    and claims of roster records nobody confirmed lapse, the claimant told."""
    try:
        if forgotten := await applications.forget_expired():
            logger.info(f"{forgotten} unfinished application(s) expired and were deleted")
        if lapsed := await claims.lapse_expired():
            logger.info(f"{lapsed} unconfirmed claim(s) of roster records lapsed")
    except Exception as error:
        logger.opt(exception=error).error("deleting expired applications failed; will try again")


scheduler.add_job(
    forget_expired_applications, "interval", hours=1, id="yijing_forget_expired_applications", replace_existing=True
)
