"""The rewards shop as chat shows it: /商城, /兑换, /发放, their refusals and the members' notices
(storage/services/shop.py)."""

from __future__ import annotations

from plugins._texts import add_refusals, render_notice
from storage.models import Reward
from storage.services.shop import (
    Handled,
    Redeemed,
    RedemptionCancelled,
    RedemptionFulfilled,
    RedemptionLine,
    Shelf,
)
from storage.services.when import local

STATUS_NAMES = {"pending": "待发放", "fulfilled": "已发放", "cancelled": "已取消"}
CITY_WIDE = "全市"
NO_REDEMPTIONS = "你还没有兑换过。"
NOTHING_PENDING = "没有待发放的兑换单。"


def offered_by(source: str | None) -> str:
    """Who offers a reward: a unit's name, or 全市 for the configuration's rewards."""
    return CITY_WIDE if source is None else source


def _stock(reward: Reward) -> str:
    return "不限" if reward.stock is None else str(reward.stock)


def text_for_shelf(shelf: Shelf) -> str:
    lines = ["积分商城"]
    for reward, source in shelf.rewards:
        limit = f"，每人限 {reward.per_member_limit}" if reward.per_member_limit else ""
        lines.append(
            f"{reward.id}. {reward.name}　{reward.cost} 分　库存 {_stock(reward)}{limit}（{offered_by(source)}）"
        )
    if not shelf.rewards:
        lines.append("还没有奖品。" + ("上架：/商城 上架 名称 积分N 库存N" if shelf.manages else ""))
    if shelf.balance is not None:
        lines.append(f"你有 {shelf.balance} 分。兑换：/兑换 编号")
    return "\n".join(lines)


def text_for_added(reward: Reward, unit_name: str) -> str:
    return f"已上架 {reward.id}. {reward.name}：{reward.cost} 分，库存 {_stock(reward)}，{unit_name}及下级队伍可兑换。"


def text_for_withdrawn(reward: Reward) -> str:
    return f"已下架 {reward.id}. {reward.name}。已兑换的兑换单照常发放。"


def text_for_restocked(reward: Reward) -> str:
    return f"{reward.id}. {reward.name} 库存改为 {reward.stock}。"


def text_for_my_redemptions(lines: list[RedemptionLine]) -> str:
    shown = [
        f"兑换单 {line.redemption.id}：{line.reward_name}　{line.redemption.cost} 分　"
        f"{STATUS_NAMES[line.redemption.status]}　{local(line.redemption.created_at):%m-%d}"
        for line in lines
    ]
    return "你的兑换单：\n" + "\n".join(shown) + "\n取消未发放的：/兑换 取消 兑换单号"


def text_for_own_cancel(handled: Handled, number: str) -> str:
    """/兑换 取消 N, by the member."""
    if not handled.changed:
        return f"兑换单 {number} 之前已经取消了。"
    return f"已取消兑换单 {number}（{handled.line.reward_name}），{handled.line.redemption.cost} 分已退回。"


def text_for_redeemed(done: Redeemed) -> str:
    if not done.changed:
        return (
            f"你刚才已经兑换了“{done.reward.name}”（兑换单号 {done.redemption.id}），没有重复扣分。"
            f"现在有 {done.balance} 分。"
        )
    return (
        f"已兑换“{done.reward.name}”，兑换单号 {done.redemption.id}，用去 {done.redemption.cost} 分，"
        f"还剩 {done.balance} 分。\n请凭兑换单号找民警领取；不想要了可以发 /兑换 取消 {done.redemption.id}"
    )


def text_for_pending(lines: list[RedemptionLine]) -> str:
    shown = [
        f"兑换单 {line.redemption.id}：{line.member_name}（成员号 {line.redemption.member_id}）{line.reward_name}"
        for line in lines
    ]
    return "待发放：\n" + "\n".join(shown) + "\n发放后发送 /发放 兑换单号"


def text_for_officer_cancel(handled: Handled, number: str) -> str:
    """/发放 取消 N 理由, by an officer."""
    if not handled.changed:
        return f"兑换单 {number} 之前已经取消了。"
    return f"已取消兑换单 {number}，{handled.line.redemption.cost} 分已退回给 {handled.line.member_name}。"


def text_for_fulfilled(handled: Handled, number: str) -> str:
    state = "已标记为已发放" if handled.changed else "之前已经发放过"
    return f"兑换单 {number}（{handled.line.member_name}：{handled.line.reward_name}）{state}。"


@render_notice.register
def _fulfilled(notice: RedemptionFulfilled) -> str:
    return f"你兑换的“{notice.reward}”（兑换单 {notice.redemption}）已发放。谢谢你的付出！"


@render_notice.register
def _cancelled(notice: RedemptionCancelled) -> str:
    because = f"，理由：{notice.reason}" if notice.reason else ""
    return f"你兑换“{notice.reward}”的兑换单 {notice.redemption} 已被取消{because}，{notice.points} 分已退回。"


REFUSALS = {
    "shop.not_in_a_team": "你还没有加入队伍：请先在队伍群里发送 /加入 姓名",
    "shop.bad_name": "奖品名称请写1到{most}个字。",
    "shop.bad_cost": "所需积分写 1 到 {most}。",
    "shop.bad_stock": "库存写 0 到 {most}。",
    "shop.bad_per_member": "每人限兑写 1 到 {most}。",
    "shop.officers_add": "只有民警可以上架奖品。",
    "shop.officers_manage": "只有民警可以管理奖品。",
    "shop.officers_fulfil": "只有民警可以发放奖品。",
    "shop.no_such_reward": "没有编号 {reward} 的奖品：发送 /商城 查看编号。",
    "shop.not_your_reward": "这个奖品不是你的单位上架的（全市奖品在配置文件里管理）。",
    "shop.not_redeemable": "没有你能兑换的编号 {reward} 的奖品：发送 /商城 查看。",
    "shop.limit_reached": "“{reward}”每人限兑 {limit} 件，你已经兑换过了。",
    "shop.not_enough_points": "积分不够：“{reward}”要 {cost} 分，你现在有 {balance} 分。",
    "shop.sold_out": "“{reward}”已经兑完了，请等民警补货。",
    "shop.no_such_redemption": "没有兑换单 {redemption}：发送 /兑换 查看你的兑换单。",
    "shop.not_covered": "兑换单 {redemption} 的兑换人不在你管的单位的队伍里。",
    "shop.fulfil_cancelled": "兑换单 {redemption} 已取消，不能发放。",
    "shop.not_yours": "兑换单 {redemption} 不是你的。发送 /兑换 查看你的兑换单。",
    "shop.cancel_fulfilled": "兑换单 {redemption} 已发放，不能取消。",
}

add_refusals(REFUSALS)
