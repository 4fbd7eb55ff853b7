"""Recruiting beyond the team groups: invite codes with a QR picture (/招募) and the background check (/政审)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from nonebot import require
from nonebot.adapters import Bot
from nonebot.log import logger
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, Image, Match, MultiVar, UniMessage

from plugins._arguments import Number
from plugins._common import CurrentPlace, command, finish, platform_of, refuse_on_error, shows_pictures
from plugins._images import qr_image
from plugins._texts import refusal
from plugins._texts.recruiting import (
    VET_USAGE,
    invite_usage,
    text_for_invite,
    text_for_invites,
    text_for_revoked,
    text_for_vetting,
)
from storage.errors import DomainError
from storage.models import utcnow
from storage.services import invites, vetting
from storage.services.numerals import with_digits
from storage.services.when import local

__plugin_meta__ = PluginMetadata(
    name="招募与政审",
    description="邀请码招募新队员，民警登记政审结果",
    usage="\n\n".join(["/招募 [队伍名] [有效期] [名额]，/招募，/招募 撤销 邀请码", VET_USAGE]),
)

invite_command = command("招募", "invite", Args["words", MultiVar(str, "*")])
vet_command = command("政审", "vet", Args["number?", Number]["words", MultiVar(str, "*")])

VALIDITY = re.compile(r"^(\d{1,4})(天|日|周|星期|小时|个月|月)$")
PLACES = re.compile(r"^(\d{1,6})(人|名)$")
"""Places are written with their unit (30人): a bare number could be anything, and is read as a team's name."""
UNLIMITED_WORDS = ("不限", "无限", "不限名额")
REVOKE_WORDS = ("撤销", "作废", "revoke")
PASS_WORDS = ("通过", "合格", "pass")
FAIL_WORDS = ("不通过", "未通过", "不合格", "fail")
HOURS = {"天": 24, "日": 24, "周": 24 * 7, "星期": 24 * 7, "小时": 1, "个月": 24 * 30, "月": 24 * 30}
VET_PRIVATE_ONLY = "政审结果请私聊我登记：/政审 成员号 通过|不通过 [日期] [备注]。"


@invite_command.handle()
async def invite(bot: Bot, place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = list(words.result) if words.available else []
    if not given:
        await finish(text_for_invites(await refuse_on_error(invites.my_invites(place.caller))))
    if given[0] in REVOKE_WORDS:
        if len(given) != 2:
            await finish(invite_usage())
        await finish(text_for_revoked(await refuse_on_error(invites.revoke_invite(place.caller, given[1]))))
    team_name, valid_for, places, unlimited = None, None, None, False
    for word in given:
        plain = with_digits(word)
        if (validity := VALIDITY.match(plain)) is not None and valid_for is None:
            valid_for = timedelta(hours=int(validity.group(1)) * HOURS[validity.group(2)])
        elif (count := PLACES.match(plain)) is not None and places is None and not unlimited:
            places = int(count.group(1))
        elif word in UNLIMITED_WORDS and places is None:
            unlimited = True
        elif team_name is None:
            team_name = word
        else:
            await finish(invite_usage())
    made = await refuse_on_error(
        invites.make_invite(place.caller, place.group, team_name, valid_for, places, unlimited=unlimited)
    )
    link, payload = _qr_payload(bot, made.code)
    message = UniMessage.text(text_for_invite(made, link))
    if shows_pictures(bot):
        try:
            picture = await asyncio.to_thread(qr_image, payload)
        except Exception as error:  # the code in the text still works
            logger.opt(exception=error).error("could not draw an invite's QR code")
        else:
            message += Image(raw=picture, mimetype="image/png")
    await message.finish()


def _qr_payload(bot: Bot, code: str) -> tuple[str | None, str]:
    """The link to the bot, if the platform has one, and what the QR code holds. On Telegram the bot's deep link
    (its username comes from getMe when the adapter logs in), or the bare code while it is not known; elsewhere the
    words to send the bot (QQ has no deep link)."""
    if platform_of(bot) != "telegram":
        return None, f"/加入 {code}"
    username = getattr(bot, "username", None)
    if not username:
        return None, code
    link = f"https://t.me/{username}?start={code}"
    return link, link


@vet_command.handle()
async def vet(place: CurrentPlace, number: Match[int], words: Match[tuple[str, ...]]) -> None:
    if place.in_group:
        await finish(VET_PRIVATE_ONLY)  # a background check's result is nobody else's business
    given = list(words.result) if words.available else []
    if not number.available or not given or given[0] not in (*PASS_WORDS, *FAIL_WORDS):
        await finish(VET_USAGE)
    rest = given[1:]
    try:
        day = vetting.parse_check_day(rest[0], local(utcnow()).date()) if rest else None
    except DomainError as error:
        await finish(refusal(error))
    if day is not None:
        rest = rest[1:]
    recorded = await refuse_on_error(
        vetting.record_vetting(
            place.caller, number.result, passed_check=given[0] in PASS_WORDS, checked_on=day, note=" ".join(rest)
        )
    )
    await finish(text_for_vetting(recorded))
