"""The rewards shop: officers stock rewards, members spend points on them, officers hand them over; cancelling
gives the points and the stock back. Balances never go below zero and the last item is never sold twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, NotAllowed
from storage.models import (
    LedgerReason,
    Member,
    Redemption,
    RedemptionStatus,
    Reward,
    Unit,
    utcnow,
)
from storage.services.ledger import record_points
from storage.services.organisation import audit, covers_member, in_unit_or_below, officer_unit, units_of_member
from storage.services.outbox import tell_member
from storage.services.people import Caller, Rights, rights_of
from storage.services.retry import retry_on_conflict
from storage.services.totals import balance_of, lock_balance
from storage.settings import settings

MAX_COST = 100_000
STATUS_NAMES = {"pending": "待发放", "fulfilled": "已发放", "cancelled": "已取消"}


async def _member_unit_paths(db: AsyncSession, member_id: int) -> set[str]:
    """The units of the member's teams and every unit above them: whose rewards the member can see."""
    found: set[str] = set()
    for unit in await units_of_member(db, member_id):
        parts = unit.path.split("/")
        found.update("/".join(parts[: index + 1]) for index in range(len(parts)))
    return found


def _visible(paths: set[str]):
    units = select(Unit.id).where(col(Unit.path).in_(sorted(paths)))
    return or_(col(Reward.unit_id).is_(None), col(Reward.unit_id).in_(units))


@dataclass
class Shelf:
    rewards: list[tuple[Reward, str]]
    """Each reward with where it comes from (全市 or a unit's name)."""
    balance: int | None
    manages: bool


async def list_rewards(caller: Caller) -> Shelf:
    """/商城: what the caller can redeem (members) or manage (officers)."""
    async with session() as db:
        rights = await rights_of(db, caller)
        statement = (
            select(Reward, Unit.name)
            .outerjoin(Unit, col(Unit.id) == col(Reward.unit_id))
            .where(col(Reward.active).is_(True))
            .order_by(col(Reward.cost), col(Reward.id))
        )
        conditions = []
        if rights.member is not None:
            conditions.append(_visible(await _member_unit_paths(db, rights.member.id)))
        if rights.officer_units and not rights.is_admin:
            conditions += [in_unit_or_below(unit) for unit in rights.officer_units]
        if not rights.is_admin:
            if not conditions:
                raise DomainError("你还没有加入队伍：请先在队伍群里发送 /加入 姓名")
            statement = statement.where(or_(*conditions))
        rows = (await db.exec(statement.limit(50))).all()
        balance = await balance_of(db, rights.member.id) if rights.member is not None else None
        return Shelf(
            rewards=[(reward, name or "全市") for reward, name in rows], balance=balance, manages=rights.is_officer
        )


def check_reward_fields(name: str, cost: int, stock: int | None, per_member: int | None) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 40:
        raise DomainError("奖品名称请写1到40个字。")
    if not 1 <= cost <= MAX_COST:
        raise DomainError(f"所需积分写 1 到 {MAX_COST}。")
    if stock is not None and not 0 <= stock <= 1_000_000:
        raise DomainError("库存写 0 到 1000000。")
    if per_member is not None and not 1 <= per_member <= 1000:
        raise DomainError("每人限兑写 1 到 1000。")
    return name


@retry_on_conflict
async def add_reward(
    caller: Caller, name: str, cost: int, stock: int | None, per_member: int | None, unit_text: str | None = None
) -> tuple[Reward, str]:
    """/商城 上架: an officer offers a reward to the teams of their unit and its sub-units."""
    name = check_reward_fields(name, cost, stock, per_member)
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("只有民警可以上架奖品。")
        unit = await officer_unit(db, rights, unit_text, "/商城 上架 保温杯 积分200 库存50 每人1 单位:历下分局")
        reward = Reward(
            unit_id=unit.id,
            name=name,
            cost=cost,
            stock=stock,
            per_member_limit=per_member,
            created_by=rights.member.id if rights.member else None,
        )
        db.add(reward)
        await db.flush()
        await audit(db, caller, rights.member, "add_reward", f"reward:{reward.id}", name=name, cost=cost, stock=stock)
        return reward, unit.name


async def _reward_for_officer(db: AsyncSession, rights: Rights, reward_id: int) -> Reward:
    reward = await db.get(Reward, reward_id, with_for_update=True)
    if reward is None:
        raise DomainError(f"没有编号 {reward_id} 的奖品：发送 /商城 查看编号。")
    unit = await db.get(Unit, reward.unit_id) if reward.unit_id is not None else None
    if not (rights.is_admin or (unit is not None and rights.covers_unit(unit))):
        raise NotAllowed("这个奖品不是你的单位上架的（全市奖品在配置文件里管理）。")
    return reward


@retry_on_conflict
async def change_reward(caller: Caller, reward_id: int, *, stock: int | None = None, withdraw: bool = False) -> Reward:
    """/商城 下架 N, /商城 库存 N 数量."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("只有民警可以管理奖品。")
        reward = await _reward_for_officer(db, rights, reward_id)
        if withdraw:
            reward.active = False
        if stock is not None:
            if not 0 <= stock <= 1_000_000:
                raise DomainError("库存写 0 到 1000000。")
            reward.stock = stock
        db.add(reward)
        await audit(db, caller, rights.member, "change_reward", f"reward:{reward.id}", stock=stock, withdraw=withdraw)
        return reward


@dataclass(frozen=True)
class Redeemed:
    redemption: Redemption
    reward: Reward
    balance: int
    changed: bool = True


REPEAT_WINDOW = timedelta(minutes=1)
"""The same reward redeemed again by the same member within this is taken for a double click: applied once."""


@retry_on_conflict
async def redeem(caller: Caller, reward_id: int) -> Redeemed:
    """/兑换 N: spend points on a reward. The member's balance is locked first, so that two redemptions at once
    take turns; the stock goes down in one conditional statement, so the last item goes to one member only."""
    async with session() as db:
        rights = await rights_of(db, caller)
        member = rights.member
        if member is None:
            raise DomainError("你还没有登记：请先在队伍群里发送 /加入 姓名")
        reward = await db.get(Reward, reward_id)
        paths = await _member_unit_paths(db, member.id)
        if reward is None or not reward.active or not await _reward_visible(db, reward, paths):
            raise DomainError(f"没有你能兑换的编号 {reward_id} 的奖品：发送 /商城 查看。")
        balance = await lock_balance(db, member.id)
        just_now = (
            await db.exec(
                select(Redemption).where(
                    Redemption.reward_id == reward.id,
                    Redemption.member_id == member.id,
                    Redemption.status == RedemptionStatus.pending,
                    col(Redemption.created_at) >= utcnow() - REPEAT_WINDOW,
                )
            )
        ).first()
        if just_now is not None:
            return Redeemed(redemption=just_now, reward=reward, balance=balance, changed=False)
        if reward.per_member_limit is not None:
            taken = (
                await db.exec(
                    select(func.count()).where(
                        Redemption.reward_id == reward.id,
                        Redemption.member_id == member.id,
                        Redemption.status != RedemptionStatus.cancelled,
                    )
                )
            ).one()
            if taken >= reward.per_member_limit:
                raise DomainError(f"“{reward.name}”每人限兑 {reward.per_member_limit} 件，你已经兑换过了。")
        if balance < reward.cost:
            raise DomainError(f"积分不够：“{reward.name}”要 {reward.cost} 分，你现在有 {balance} 分。")
        taken_from_stock = await db.exec(
            update(Reward)
            .where(col(Reward.id) == reward.id, or_(col(Reward.stock).is_(None), col(Reward.stock) > 0))
            .values(stock=Reward.stock - 1)
        )
        if taken_from_stock.rowcount != 1:
            raise DomainError(f"“{reward.name}”已经兑完了，请等民警补货。")
        redemption = Redemption(reward_id=reward.id, member_id=member.id, cost=reward.cost)
        db.add(redemption)
        await db.flush()
        await record_points(
            db, member.id, -reward.cost, LedgerReason.redemption, "redemption", redemption.id, note=reward.name
        )
        await db.refresh(reward)
        return Redeemed(redemption=redemption, reward=reward, balance=balance - reward.cost)


async def _reward_visible(db: AsyncSession, reward: Reward, paths: set[str]) -> bool:
    if reward.unit_id is None:
        return True
    unit = await db.get(Unit, reward.unit_id)
    return unit is not None and unit.path in paths


@dataclass(frozen=True)
class RedemptionLine:
    redemption: Redemption
    reward_name: str
    member_name: str


async def my_redemptions(caller: Caller, limit: int = 10) -> list[RedemptionLine]:
    async with session() as db:
        rights = await rights_of(db, caller)
        if rights.member is None:
            raise DomainError("你还没有登记：请先在队伍群里发送 /加入 姓名")
        rows = (
            await db.exec(
                select(Redemption, Reward.name)
                .join(Reward, col(Reward.id) == col(Redemption.reward_id))
                .where(Redemption.member_id == rights.member.id)
                .order_by(col(Redemption.id).desc())
                .limit(limit)
            )
        ).all()
        return [RedemptionLine(redemption, name, rights.member.name) for redemption, name in rows]


async def pending_redemptions(caller: Caller, limit: int = 20) -> list[RedemptionLine]:
    """/发放 without a number: what waits to be handed over, for the officer's units."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("只有民警可以发放奖品。")
        rows = (
            await db.exec(
                select(Redemption, Reward.name, Member)
                .join(Reward, col(Reward.id) == col(Redemption.reward_id))
                .join(Member, col(Member.id) == col(Redemption.member_id))
                .where(Redemption.status == RedemptionStatus.pending)
                .order_by(col(Redemption.id))
                .limit(500)
            )
        ).all()
        found = []
        for redemption, name, member in rows:
            if await covers_member(db, rights, member):
                found.append(RedemptionLine(redemption, name, member.name))
                if len(found) >= limit:
                    break
        return found


@dataclass(frozen=True)
class Handled:
    line: RedemptionLine
    changed: bool


async def _redemption(db: AsyncSession, redemption_id: int) -> tuple[Redemption, Reward, Member]:
    redemption = await db.get(Redemption, redemption_id, with_for_update=True)
    if redemption is None:
        raise DomainError(f"没有兑换单 {redemption_id}：发送 /兑换 查看你的兑换单。")
    reward = await db.get(Reward, redemption.reward_id)
    member = await db.get(Member, redemption.member_id)
    return redemption, reward, member


def _decide(db: AsyncSession, redemption: Redemption, status: RedemptionStatus, rights: Rights) -> None:
    redemption.status = status
    redemption.decided_at = utcnow()
    redemption.decided_by = rights.member.id if rights.member else None
    db.add(redemption)


@retry_on_conflict
async def fulfil(caller: Caller, redemption_id: int) -> Handled:
    """/发放 N: an officer marks a redemption handed over; the member is told."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("只有民警可以发放奖品。")
        redemption, reward, member = await _redemption(db, redemption_id)
        if not await covers_member(db, rights, member):
            raise NotAllowed(f"兑换单 {redemption_id} 的兑换人不在你管的单位的队伍里。")
        line = RedemptionLine(redemption, reward.name, member.name)
        if redemption.status == RedemptionStatus.fulfilled:
            return Handled(line, changed=False)
        if redemption.status == RedemptionStatus.cancelled:
            raise DomainError(f"兑换单 {redemption_id} 已取消，不能发放。")
        _decide(db, redemption, RedemptionStatus.fulfilled, rights)
        await audit(db, caller, rights.member, "fulfil", f"redemption:{redemption.id}")
        await tell_member(db, member.id, f"你兑换的“{reward.name}”（兑换单 {redemption.id}）已发放。谢谢你的付出！")
        return Handled(line, changed=True)


@retry_on_conflict
async def cancel_redemption(caller: Caller, redemption_id: int, reason: str | None = None) -> Handled:
    """Cancel a redemption not yet handed over: by the member themselves or an officer. Points and stock go back."""
    async with session() as db:
        rights = await rights_of(db, caller)
        redemption, reward, member = await _redemption(db, redemption_id)
        own = rights.member is not None and rights.member.id == member.id
        if not own and not (rights.is_officer and await covers_member(db, rights, member)):
            raise NotAllowed(f"兑换单 {redemption_id} 不是你的。发送 /兑换 查看你的兑换单。")
        line = RedemptionLine(redemption, reward.name, member.name)
        if redemption.status == RedemptionStatus.cancelled:
            return Handled(line, changed=False)
        if redemption.status == RedemptionStatus.fulfilled:
            raise DomainError(f"兑换单 {redemption_id} 已发放，不能取消。")
        redemption.reason = (reason or "")[:200] or None
        _decide(db, redemption, RedemptionStatus.cancelled, rights)
        await db.exec(
            update(Reward)
            .where(col(Reward.id) == reward.id, col(Reward.stock).is_not(None))
            .values(stock=Reward.stock + 1)
        )
        await record_points(
            db, member.id, redemption.cost, LedgerReason.refund, "redemption", redemption.id, note=reward.name
        )
        if not own:
            await audit(db, caller, rights.member, "cancel_redemption", f"redemption:{redemption.id}", reason=reason)
            because = f"，理由：{reason}" if reason else ""
            await tell_member(
                db,
                member.id,
                f"你兑换“{reward.name}”的兑换单 {redemption.id} 已被取消{because}，{redemption.cost} 分已退回。",
            )
        return Handled(line, changed=True)


async def offer_configured_rewards() -> int:
    """At start-up: the rewards in the configuration are offered everywhere. A new one starts with its stock;
    for one already there, the cost and limit follow the file, and its stock is left to officers."""
    async with session() as db:
        named = {reward.get("name", "") for reward in settings.rewards}
        existing = {
            reward.name: reward
            for reward in (await db.exec(select(Reward).where(col(Reward.from_config).is_(True)))).all()
        }
        for entry in settings.rewards:
            name = check_reward_fields(
                str(entry.get("name", "")), int(entry.get("cost", 0)), entry.get("stock"), entry.get("per_member")
            )
            reward = existing.get(name)
            if reward is None:
                reward = Reward(name=name, cost=int(entry["cost"]), stock=entry.get("stock"), from_config=True)
            reward.cost = int(entry["cost"])
            reward.per_member_limit = entry.get("per_member")
            reward.active = True
            db.add(reward)
        for name, reward in existing.items():
            if name not in named and reward.active:
                reward.active = False
                db.add(reward)
        return len(settings.rewards)
