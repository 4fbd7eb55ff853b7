"""The rewards shop: /商城 to see (and for officers, stock) rewards, /兑换 to spend points, /发放 to hand over."""

import re

from nonebot import require
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, Match, MultiVar

from plugins._arguments import amount_in
from plugins._common import CurrentPlace, command, finish, refuse_on_error
from plugins._texts import shop as texts
from storage.services import shop

SHOP_USAGE = (
    "积分商城：/商城 查看奖品；/兑换 编号 用积分兑换\n"
    "民警上架：/商城 上架 名称 积分N [库存N] [每人N] [单位:名称]，例如 /商城 上架 保温杯 积分200 库存50 每人1\n"
    "民警管理：/商城 下架 编号；/商城 库存 编号 数量"
)
REDEEM_USAGE = "兑换奖品：/兑换 编号（先发 /商城 看编号）；/兑换 看我的兑换单；/兑换 取消 兑换单号 退回积分"
FULFIL_USAGE = "发放奖品（民警）：/发放 看待发放的兑换单；/发放 兑换单号 标记已发放；/发放 取消 兑换单号 理由 退回积分"

__plugin_meta__ = PluginMetadata(
    name="积分商城",
    description="奖品的上架、库存和每人限兑，积分兑换、发放和取消退回",
    usage="\n\n".join([SHOP_USAGE, REDEEM_USAGE, FULFIL_USAGE]),
)

shop_command = command("商城", "shop", Args["words", MultiVar(str, "*")])
redeem_command = command("兑换", "redeem", Args["words", MultiVar(str, "*")])
fulfil_command = command("发放", "fulfil", Args["words", MultiVar(str, "*")])

COST = re.compile(r"^(?:积分|cost)[:：]?(\d+)$")
STOCK = re.compile(r"^(?:库存|stock)[:：]?(\d+)$")
PER_MEMBER = re.compile(r"^(?:每人|限兑|limit)[:：]?(\d+)$")
NUMBER = re.compile(r"^\d{1,9}$")


def _words(words: Match[tuple[str, ...]]) -> list[str]:
    return list(words.result) if words.available else []


@shop_command.handle()
async def show_shop(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = _words(words)
    if not given:
        shelf = await refuse_on_error(shop.list_rewards(place.caller))
        await finish(texts.text_for_shelf(shelf))
    action, rest = given[0], given[1:]
    if action in ("上架", "add"):
        await _add_reward(place, rest)
    if action in ("下架", "remove") and len(rest) == 1 and NUMBER.match(rest[0]):
        reward = await refuse_on_error(shop.change_reward(place.caller, int(rest[0]), withdraw=True))
        await finish(texts.text_for_withdrawn(reward))
    if action in ("库存", "stock") and len(rest) == 2 and all(NUMBER.match(word) for word in rest):
        reward = await refuse_on_error(shop.change_reward(place.caller, int(rest[0]), stock=int(rest[1])))
        await finish(texts.text_for_restocked(reward))
    await finish(SHOP_USAGE)


async def _add_reward(place: CurrentPlace, words: list[str]) -> None:
    cost = stock = per_member = None
    unit = None
    name: list[str] = []
    for word in words:
        if match := COST.match(word):
            cost = amount_in(match.group(1))
        elif match := STOCK.match(word):
            stock = amount_in(match.group(1))
        elif match := PER_MEMBER.match(word):
            per_member = amount_in(match.group(1))
        elif word.startswith(("单位:", "单位：")):
            unit = word[3:].strip() or None
        else:
            name.append(word)
    if not name or cost is None:
        await finish(SHOP_USAGE)
    reward, unit_name = await refuse_on_error(
        shop.add_reward(place.caller, " ".join(name), cost, stock, per_member, unit)
    )
    await finish(texts.text_for_added(reward, unit_name))


@redeem_command.handle()
async def redeem(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = _words(words)
    if not given:
        lines = await refuse_on_error(shop.my_redemptions(place.caller))
        if not lines:
            await finish(texts.NO_REDEMPTIONS + REDEEM_USAGE)
        await finish(texts.text_for_my_redemptions(lines))
    if given[0] in ("取消", "cancel") and len(given) == 2 and NUMBER.match(given[1]):
        handled = await refuse_on_error(shop.cancel_redemption(place.caller, int(given[1])))
        await finish(texts.text_for_own_cancel(handled, given[1]))
    if len(given) == 1 and NUMBER.match(given[0]):
        done = await refuse_on_error(shop.redeem(place.caller, int(given[0])), in_group=place.in_group)
        await finish(texts.text_for_redeemed(done))
    await finish(REDEEM_USAGE)


@fulfil_command.handle()
async def fulfil(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = _words(words)
    if not given:
        lines = await refuse_on_error(shop.pending_redemptions(place.caller))
        if not lines:
            await finish(texts.NOTHING_PENDING)
        await finish(texts.text_for_pending(lines))
    if given[0] in ("取消", "cancel") and len(given) >= 2 and NUMBER.match(given[1]):
        reason = " ".join(given[2:]) or None
        handled = await refuse_on_error(shop.cancel_redemption(place.caller, int(given[1]), reason))
        await finish(texts.text_for_officer_cancel(handled, given[1]))
    if len(given) == 1 and NUMBER.match(given[0]):
        handled = await refuse_on_error(shop.fulfil(place.caller, int(given[0])))
        await finish(texts.text_for_fulfilled(handled, given[0]))
    await finish(FULFIL_USAGE)
