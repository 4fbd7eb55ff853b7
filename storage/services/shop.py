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
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor
from storage.services.ledger import record_points
from storage.services.organisation import audit, covers_member, in_unit_or_below, officer_unit, units_of_member
from storage.services.outbox import tell_member
from storage.services.people import Rights, rights_of
from storage.services.retry import retry_on_conflict
from storage.services.standing import refuse_if_suspended
from storage.services.totals import balance_of, lock_balance
from storage.settings import settings

MAX_COST = 100_000
MAX_NAME = 40
MAX_STOCK = 1_000_000
MAX_PER_MEMBER = 1000


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
    rewards: list[tuple[Reward, str | None]]
    """Each reward with the name of the unit that offers it; None for one offered city-wide (the configuration's)."""
    balance: int | None
    manages: bool


async def list_rewards(caller: Actor) -> Shelf:
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
            conditions.append(_visible(await _member_unit_paths(db, id_of(rights.member))))
        if rights.officer_units and not rights.is_admin:
            conditions += [in_unit_or_below(unit) for unit in rights.officer_units]
        if not rights.is_admin:
            if not conditions:
                raise DomainError("shop.not_in_a_team")
            statement = statement.where(or_(*conditions))
        rows = (await db.exec(statement.limit(50))).all()
        balance = await balance_of(db, id_of(rights.member)) if rights.member is not None else None
        return Shelf(rewards=[(reward, name) for reward, name in rows], balance=balance, manages=rights.is_officer)


def check_reward_fields(name: str, cost: int, stock: int | None, per_member: int | None) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise DomainError("shop.bad_name", most=MAX_NAME)
    if not 1 <= cost <= MAX_COST:
        raise DomainError("shop.bad_cost", most=MAX_COST)
    if stock is not None and not 0 <= stock <= MAX_STOCK:
        raise DomainError("shop.bad_stock", most=MAX_STOCK)
    if per_member is not None and not 1 <= per_member <= MAX_PER_MEMBER:
        raise DomainError("shop.bad_per_member", most=MAX_PER_MEMBER)
    return name


@retry_on_conflict
async def add_reward(
    caller: Actor, name: str, cost: int, stock: int | None, per_member: int | None, unit_text: str | None = None
) -> tuple[Reward, str]:
    """/商城 上架: an officer offers a reward to the teams of their unit and its sub-units."""
    name = check_reward_fields(name, cost, stock, per_member)
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("shop.officers_add")
        unit = await officer_unit(db, rights, unit_text, "post_reward")
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
        raise DomainError("shop.no_such_reward", reward=reward_id)
    unit = await db.get(Unit, reward.unit_id) if reward.unit_id is not None else None
    if not (rights.is_admin or (unit is not None and rights.covers_unit(unit))):
        raise NotAllowed("shop.not_your_reward")
    return reward


@retry_on_conflict
async def change_reward(caller: Actor, reward_id: int, *, stock: int | None = None, withdraw: bool = False) -> Reward:
    """/商城 下架 N, /商城 库存 N 数量."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("shop.officers_manage")
        reward = await _reward_for_officer(db, rights, reward_id)
        if withdraw:
            reward.active = False
        if stock is not None:
            if not 0 <= stock <= MAX_STOCK:
                raise DomainError("shop.bad_stock", most=MAX_STOCK)
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
async def redeem(caller: Actor, reward_id: int) -> Redeemed:
    """/兑换 N: spend points on a reward. The member's balance is locked first, so that two redemptions at once
    take turns; the stock goes down in one conditional statement, so the last item goes to one member only."""
    async with session() as db:
        rights = await rights_of(db, caller)
        member = rights.member
        if member is None:
            raise DomainError("organisation.not_registered")
        refuse_if_suspended(member.status, member.status_reason)
        member_id = id_of(member)
        reward = await db.get(Reward, reward_id)
        paths = await _member_unit_paths(db, member_id)
        if reward is None or not reward.active or not await _reward_visible(db, reward, paths):
            raise DomainError("shop.not_redeemable", reward=reward_id)
        balance = await lock_balance(db, member_id)
        just_now = (
            await db.exec(
                select(Redemption).where(
                    Redemption.reward_id == reward.id,
                    Redemption.member_id == member_id,
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
                        Redemption.member_id == member_id,
                        Redemption.status != RedemptionStatus.cancelled,
                    )
                )
            ).one()
            if taken >= reward.per_member_limit:
                raise DomainError("shop.limit_reached", reward=reward.name, limit=reward.per_member_limit)
        if balance < reward.cost:
            raise DomainError("shop.not_enough_points", reward=reward.name, cost=reward.cost, balance=balance)
        taken_from_stock = await db.exec(
            update(Reward)
            .where(col(Reward.id) == reward.id, or_(col(Reward.stock).is_(None), col(Reward.stock) > 0))
            .values(stock=col(Reward.stock) - 1)
        )
        if taken_from_stock.rowcount != 1:
            raise DomainError("shop.sold_out", reward=reward.name)
        redemption = Redemption(reward_id=id_of(reward), member_id=member_id, cost=reward.cost)
        db.add(redemption)
        await db.flush()
        await record_points(
            db, member_id, -reward.cost, LedgerReason.redemption, "redemption", id_of(redemption), note=reward.name
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


async def my_redemptions(caller: Actor, limit: int = 10) -> list[RedemptionLine]:
    async with session() as db:
        rights = await rights_of(db, caller)
        if rights.member is None:
            raise DomainError("organisation.not_registered")
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


async def pending_redemptions(caller: Actor, limit: int = 20) -> list[RedemptionLine]:
    """/发放 without a number: what waits to be handed over, for the officer's units."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("shop.officers_fulfil")
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


@dataclass(frozen=True)
class RedemptionFulfilled:
    """Told to the member whose reward an officer handed over."""

    reward: str
    redemption: int


@dataclass(frozen=True)
class RedemptionCancelled:
    """Told to the member whose redemption an officer cancelled: the points went back."""

    reward: str
    redemption: int
    reason: str | None
    points: int


async def _redemption(db: AsyncSession, redemption_id: int) -> tuple[Redemption, Reward, Member]:
    redemption = await db.get(Redemption, redemption_id, with_for_update=True)
    if redemption is None:
        raise DomainError("shop.no_such_redemption", redemption=redemption_id)
    reward = await db.get(Reward, redemption.reward_id)
    member = await db.get(Member, redemption.member_id)
    if reward is None or member is None:  # the keys say both are there
        raise LookupError(f"redemption {redemption_id} lacks its reward or member")
    return redemption, reward, member


def _decide(db: AsyncSession, redemption: Redemption, status: RedemptionStatus, rights: Rights) -> None:
    redemption.status = status
    redemption.decided_at = utcnow()
    redemption.decided_by = rights.member.id if rights.member else None
    db.add(redemption)


@retry_on_conflict
async def fulfil(caller: Actor, redemption_id: int) -> Handled:
    """/发放 N: an officer marks a redemption handed over; the member is told."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("shop.officers_fulfil")
        redemption, reward, member = await _redemption(db, redemption_id)
        if not await covers_member(db, rights, member):
            raise NotAllowed("shop.not_covered", redemption=redemption_id)
        line = RedemptionLine(redemption, reward.name, member.name)
        if redemption.status == RedemptionStatus.fulfilled:
            return Handled(line, changed=False)
        if redemption.status == RedemptionStatus.cancelled:
            raise DomainError("shop.fulfil_cancelled", redemption=redemption_id)
        _decide(db, redemption, RedemptionStatus.fulfilled, rights)
        await audit(db, caller, rights.member, "fulfil", f"redemption:{redemption.id}")
        await tell_member(db, id_of(member), notices.render(RedemptionFulfilled(reward.name, id_of(redemption))))
        return Handled(line, changed=True)


@retry_on_conflict
async def cancel_redemption(caller: Actor, redemption_id: int, reason: str | None = None) -> Handled:
    """Cancel a redemption not yet handed over: by the member themselves or an officer. Points and stock go back."""
    async with session() as db:
        rights = await rights_of(db, caller)
        redemption, reward, member = await _redemption(db, redemption_id)
        own = rights.member is not None and rights.member.id == member.id
        if not own and not (rights.is_officer and await covers_member(db, rights, member)):
            raise NotAllowed("shop.not_yours", redemption=redemption_id)
        line = RedemptionLine(redemption, reward.name, member.name)
        if redemption.status == RedemptionStatus.cancelled:
            return Handled(line, changed=False)
        if redemption.status == RedemptionStatus.fulfilled:
            raise DomainError("shop.cancel_fulfilled", redemption=redemption_id)
        redemption.reason = (reason or "")[:200] or None
        _decide(db, redemption, RedemptionStatus.cancelled, rights)
        await db.exec(
            update(Reward)
            .where(col(Reward.id) == reward.id, col(Reward.stock).is_not(None))
            .values(stock=col(Reward.stock) + 1)
        )
        member_id, number = id_of(member), id_of(redemption)
        await record_points(db, member_id, redemption.cost, LedgerReason.refund, "redemption", number, note=reward.name)
        if not own:
            await audit(db, caller, rights.member, "cancel_redemption", f"redemption:{number}", reason=reason)
            cancelled = RedemptionCancelled(reward.name, number, reason or None, redemption.cost)
            await tell_member(db, member_id, notices.render(cancelled))
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
