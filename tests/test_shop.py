"""The rewards shop: stock, limits and balances hold under simultaneous redemptions; cancelling refunds."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import col, select

from plugins._texts.shop import offered_by
from storage import db
from storage.errors import DomainError, NotAllowed
from storage.models import LedgerReason, OutboxMessage, PointEntry, Reward
from storage.services import ledger, shop, totals
from storage.settings import configure
from tests.refusals import refused
from tests.test_points import OFFICER, OTHER_OFFICER, set_up, volunteer


async def fund(member_id: int, amount: int) -> None:
    async with db.session() as session:
        await ledger.record_points(session, member_id, amount, LedgerReason.award, "fund", member_id)


async def balance(member_id: int) -> int:
    async with db.session() as session:
        return await totals.balance_of(session, member_id)


async def test_redeeming_spends_points_within_stock_and_limits_and_cancelling_refunds(database: str) -> None:
    members = await set_up()
    one = members["一队"]
    with pytest.raises(NotAllowed):
        await shop.add_reward(volunteer(1), "保温杯", 100, 5, None)
    cup, unit_name = await shop.add_reward(OFFICER, "保温杯", 100, 2, 1)
    assert unit_name == "闫千户派出所"
    with refused("积分"):
        await shop.add_reward(OFFICER, "雨伞", 0, 5, None)
    await fund(one[0], 250)

    shelf = await shop.list_rewards(volunteer(1))
    assert [(reward.name, source) for reward, source in shelf.rewards] == [("保温杯", "闫千户派出所")]
    assert shelf.balance == 250
    outside = await shop.list_rewards(volunteer(7))  # 外队 is in another branch
    assert outside.rewards == []
    with refused("没有你能兑换"):
        await shop.redeem(volunteer(7), cup.id)

    done = await shop.redeem(volunteer(1), cup.id)
    assert (done.balance, done.reward.stock, done.changed) == (150, 1, True)
    double_click = await shop.redeem(volunteer(1), cup.id)
    assert (double_click.changed, double_click.redemption.id, double_click.balance) == (False, done.redemption.id, 150)
    with refused("积分不够"):
        await shop.redeem(volunteer(2), cup.id)  # 0 points: never below zero
    assert await balance(one[1]) == 0

    with pytest.raises(NotAllowed):
        await shop.fulfil(volunteer(2), done.redemption.id)
    with pytest.raises(NotAllowed):
        await shop.cancel_redemption(volunteer(2), done.redemption.id)
    cancelled = await shop.cancel_redemption(volunteer(1), done.redemption.id)
    assert cancelled.changed
    assert not (await shop.cancel_redemption(volunteer(1), done.redemption.id)).changed  # a double click
    assert await balance(one[0]) == 250
    async with db.session() as session:
        assert (await session.get(Reward, cup.id)).stock == 2
        reasons = (await session.exec(select(PointEntry.reason).where(PointEntry.member_id == one[0]))).all()
    assert sorted(reasons) == ["award", "redemption", "refund"]

    again = await shop.redeem(volunteer(1), cup.id)  # the limit counts redemptions not cancelled
    assert again.changed
    with pytest.raises(NotAllowed):
        await shop.fulfil(OTHER_OFFICER, again.redemption.id)
    assert [line.member_name for line in await shop.pending_redemptions(OFFICER)] == ["队员一"]
    handed = await shop.fulfil(OFFICER, again.redemption.id)
    assert handed.changed
    assert not (await shop.fulfil(OFFICER, again.redemption.id)).changed
    with refused("已发放"):
        await shop.cancel_redemption(volunteer(1), again.redemption.id)
    with refused("每人限兑 1 件"):
        await shop.redeem(volunteer(1), cup.id)
    async with db.session() as session:
        told = (await session.exec(select(OutboxMessage.text).where(OutboxMessage.chat_key == "user:30001"))).all()
    assert any("已发放" in text for text in told)


async def test_simultaneous_redemptions_never_oversell_or_overspend(database: str) -> None:
    members = await set_up(per_team=5)
    badge, _ = await shop.add_reward(OFFICER, "纪念徽章", 30, 3, None)
    for member_id in members["一队"]:
        await fund(member_id, 100)

    async def attempt(number: int, reward_id: int) -> bool:
        try:
            await shop.redeem(volunteer(number), reward_id)
        except DomainError:
            return False
        return True

    results = await asyncio.gather(*(attempt(number, badge.id) for number in range(1, 6)))
    assert sum(results) == 3
    # one member, five clicks at once on a reward without stock or limit: one redemption, charged once
    pen, _ = await shop.add_reward(OFFICER, "钢笔", 40, None, None)
    first = members["一队"][0]
    start = await balance(first)
    clicks = await asyncio.gather(*(shop.redeem(volunteer(1), pen.id) for _ in range(5)))
    assert sum(click.changed for click in clicks) == 1
    assert len({click.redemption.id for click in clicks}) == 1
    assert await balance(first) == start - 40
    async with db.session() as session:
        assert (await session.get(Reward, badge.id)).stock == 0
        spent = (await session.exec(select(PointEntry.amount).where(PointEntry.member_id == first))).all()
        assert await totals.mismatches(session) == []
    left = await balance(first)
    assert left >= 0
    assert left == sum(spent)
    assert pen.stock is None


async def test_rewards_from_the_configuration_are_offered_everywhere(database: str) -> None:
    await set_up(per_team=1)
    configure(rewards=[{"name": "义警纪念徽章", "cost": 100, "stock": 10, "per_member": 1}])
    await shop.offer_configured_rewards()
    await shop.offer_configured_rewards()  # a restart: still one
    for caller in (volunteer(1), volunteer(3)):
        rewards = (await shop.list_rewards(caller)).rewards
        shown = [(reward.name, offered_by(source), reward.stock) for reward, source in rewards]
        assert shown == [("义警纪念徽章", "全市", 10)]
    with refused("配置文件", kind=NotAllowed):
        await shop.change_reward(OFFICER, rewards[0][0].id, stock=50)
    configure(rewards=[])
    await shop.offer_configured_rewards()
    assert (await shop.list_rewards(volunteer(1))).rewards == []
    async with db.session() as session:
        assert len((await session.exec(select(Reward).where(col(Reward.from_config).is_(True)))).all()) == 1
