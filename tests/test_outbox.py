"""The outbox and its dispatcher: durable rows, leases, retries and parking, merging, and the sending limits on a
simulated clock."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, deque
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from plugins._outbox.dispatcher import Dispatcher, Outgoing, SendFailed, merge, retry_after_in
from plugins._outbox.journal import SentJournal
from plugins._outbox.limits import Limits, RateLimiter
from storage import db
from storage.models import OutboxMessage, OutboxState, Priority
from storage.services import outbox
from storage.services.outbox import Destination

START = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc).timestamp()


class FakeClock:
    """Simulated time: sleeping moves the clock on at once."""

    def __init__(self, start: float = START) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0)
        await asyncio.sleep(0)

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.t, timezone.utc)


class RecordingSender:
    def __init__(self, clock: FakeClock, platforms: tuple[str, ...] = ("telegram",)) -> None:
        self.clock = clock
        self._platforms = list(platforms)
        self.sent: list[tuple[float, str, str]] = []
        self.failures: deque[SendFailed] = deque()

    def platforms(self) -> list[str]:
        return self._platforms

    def account(self, platform: str) -> str | None:
        return f"{platform}-bot"

    async def send(self, message: Outgoing, account: str) -> None:
        if self.failures:
            raise self.failures.popleft()

    async def record(self, message: Outgoing, sent_at: float) -> None:
        """The dispatcher's report of each send, with the moment on the clock it was started."""
        self.sent.append((sent_at, message.chat_key, message.text))


async def count(*conditions) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(OutboxMessage).where(*conditions))).one()


async def test_rows_are_claimed_once_under_a_lease_and_reclaimed_after_a_crash(database: str) -> None:
    now = datetime.fromtimestamp(START, timezone.utc)
    async with db.session() as session:
        for number in range(30):
            await outbox.enqueue(session, Destination("telegram", str(-number)), f"消息{number}", not_before=now)
        assert await outbox.enqueue(session, Destination("telegram", "-1"), "一次", dedupe_key="once", not_before=now)
        assert not await outbox.enqueue(session, Destination("telegram", "-1"), "一次", dedupe_key="once")
    first, second = await asyncio.gather(
        outbox.claim("a", ["telegram"], now, 20, timedelta(minutes=2)),
        outbox.claim("b", ["telegram"], now, 20, timedelta(minutes=2)),
    )
    assert len(first) + len(second) == 31
    assert not {row.id for row in first} & {row.id for row in second}
    assert await outbox.claim("c", ["telegram"], now, 20, timedelta(minutes=2)) == []
    assert await outbox.claim("c", ["onebot"], now + timedelta(hours=1), 20, timedelta(minutes=2)) == []
    # "a" died mid-way: once its lease runs out, its rows are taken again (and only those not marked sent)
    await outbox.mark_sent([row.id for row in first[:5]], now)
    again = await outbox.claim("c", ["telegram"], now + timedelta(minutes=3), 100, timedelta(minutes=2))
    assert sorted(row.id for row in again) == sorted(row.id for row in [*first[5:], *second])
    assert await count(OutboxMessage.state == OutboxState.sent) == 5


async def test_failures_back_off_then_park_and_can_be_retried(database: str) -> None:
    now = datetime.fromtimestamp(START, timezone.utc)
    async with db.session() as session:
        await outbox.enqueue(session, Destination("onebot", "1", private=True), "通知", not_before=now)
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        rows = await outbox.claim("a", ["onebot"], now, 10, timedelta(minutes=2))
        assert [row.attempts for row in rows] == [attempt]
        parked = await outbox.mark_failed([rows[0].id], "timeout", now)
        if attempt < outbox.MAX_ATTEMPTS:
            assert parked == []
            assert await outbox.claim("a", ["onebot"], now, 10, timedelta(minutes=2)) == []  # backing off
            now += outbox.backoff(attempt)
    assert parked == [rows[0].id]
    summary = await outbox.summary()
    assert summary.counts == {"parked": 1}
    assert summary.parked[0].last_error == "timeout"
    assert await outbox.retry_parked(now=now) == 1
    assert len(await outbox.claim("a", ["onebot"], now, 10, timedelta(minutes=2))) == 1


async def test_being_told_to_wait_is_not_a_failure(database: str) -> None:
    now = datetime.fromtimestamp(START, timezone.utc)
    async with db.session() as session:
        await outbox.enqueue(session, Destination("telegram", "-5"), "卡片", not_before=now)
    clock = FakeClock()
    sender = RecordingSender(clock)
    sender.failures.append(SendFailed("429 Too Many Requests: retry after 7", retry_after=7))
    dispatcher = Dispatcher(sender, owner="t", clock=clock, on_sent=sender.record)
    await dispatcher.run_until_empty()
    assert [(time - START, chat) for time, chat, _ in sender.sent] == [(7.0, "group:-5")]
    async with db.session() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert (row.state, row.attempts) == ("sent", 1)
    assert retry_after_in('{"ok":false,"error_code":429,"parameters":{"retry_after":12}}') == 12


def test_messages_for_one_chat_are_merged_but_buttons_stay_apart() -> None:
    def row(number: int, chat: str, text: str, buttons=(), image=None) -> OutboxMessage:
        return OutboxMessage(
            id=number,
            platform="onebot",
            chat_key=chat,
            target={},
            text=text,
            buttons=list(buttons),
            mentions=[str(number)],
            image=image,
        )

    merged = merge(
        [
            row(1, "group:1", "甲"),
            row(2, "group:2", "乙"),
            row(3, "group:1", "丙"),
            row(4, "group:1", "卡", [["报名", "/signup 1"]]),
            row(5, "group:2", "义警之星", image={"kind": "honour"}),
            row(6, "group:2", "丁"),
        ]
    )
    assert [(m.ids, m.text, m.mentions) for m in merged] == [
        ([1, 3], "甲\n\n丙", ["1", "3"]),
        ([2], "乙", ["2"]),
        ([4], "卡", ["4"]),
        ([5], "义警之星", ["5"]),  # a picture goes alone
        ([6], "丁", ["6"]),
    ]
    assert merged[3].image == {"kind": "honour"}


async def test_fifteen_thousand_groups_within_the_limits_on_a_simulated_clock(database: str) -> None:
    """30/s overall and 20/min per group: no faster than the limits allow, and no more than 5 % slower."""
    now = datetime.fromtimestamp(START, timezone.utc)
    busy_groups, per_busy_group = 50, 30
    rows = [
        {"platform": "telegram", "chat_key": f"group:{number}", "text": f"提醒 {number}", "priority": Priority.reminder}
        for number in range(15_000)
    ]
    rows += [  # a few groups with many cards each (buttons: not merged), to meet the per-group limit
        {
            "platform": "telegram",
            "chat_key": f"group:{number}",
            "text": f"卡片 {number}-{index}",
            "priority": Priority.task_card,
            "buttons": [["报名", "/signup 1"]],
        }
        for number in range(busy_groups)
        for index in range(per_busy_group)
    ]
    for values in rows:
        values.update(
            target=Destination("telegram", values["chat_key"][6:]).target(),
            mentions=[],
            not_before=now,
            state="pending",
            attempts=0,
            created_at=now,
        )
        values.setdefault("buttons", [])
    async with db.get_engine().begin() as connection:
        for start in range(0, len(rows), 2000):
            await connection.execute(insert(OutboxMessage), rows[start : start + 2000])

    clock = FakeClock()
    sender = RecordingSender(clock)
    limiter = RateLimiter({"telegram": Limits(per_second=30, group_per_minute=20, private_per_second=1)})
    dispatcher = Dispatcher(
        sender, owner="t", clock=clock, limiter=limiter, batch=500, lookahead=30, on_sent=sender.record
    )
    await dispatcher.run_until_empty()

    assert await count(OutboxMessage.state != OutboxState.sent) == 0
    times = [time for time, _, _ in sender.sent]
    assert len(times) == len(rows)  # nothing merged here: every reminder went to its own group
    assert len({text for _, _, text in sender.sent}) == len(rows)  # each once
    # never more than 30 in any second, nor more than 20 into a group in any minute
    window: deque[float] = deque()
    for time in sorted(times):
        window.append(time)
        while window[0] <= time - 1 + 1e-6:  # any window of one second (a microsecond for float rounding)
            window.popleft()
        assert len(window) <= 30
    by_group: dict[str, list[float]] = {}
    for time, chat, _ in sender.sent:
        by_group.setdefault(chat, []).append(time)
    for sends in by_group.values():
        sends.sort()
        for index in range(20, len(sends)):
            assert sends[index] - sends[index - 20] >= 60 - 1e-6
    required = (len(rows) - 1) / 30
    taken = max(times) - START
    assert required <= taken <= required * 1.05, (required, taken)
    assert Counter(chat for _, chat, _ in sender.sent)["group:0"] == per_busy_group + 1


def test_qq_accounts_send_about_one_a_second_with_jitter() -> None:
    limiter = RateLimiter()
    times = [limiter.reserve("qq-1", "onebot", f"group:{n}", START) for n in range(100)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 1.0
    assert max(gaps) <= 1.5 + 1e-6  # a gap of 1.5 drawn, less one float rounding of the large times it is between
    assert len(set(gaps)) > 50  # jittered, not a steady beat


class DatabaseAway:
    """The outbox's database unreachable from cut() until restore(): every transaction fails as a lost connection
    does."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.reachable = outbox.session

    def cut(self) -> None:
        self.monkeypatch.setattr(outbox, "session", self._lost)

    def restore(self) -> None:
        self.monkeypatch.setattr(outbox, "session", self.reachable)

    @staticmethod
    @asynccontextmanager
    async def _lost():
        raise OperationalError("COMMIT", {}, ConnectionResetError("the connection to the server was lost"))
        yield


class CountingSender(RecordingSender):
    """Counts what reaches the chats; the database goes away right after the send number `cut_after`."""

    def __init__(self, clock: FakeClock, away: DatabaseAway, cut_after: int | None = None) -> None:
        super().__init__(clock)
        self.away = away
        self.cut_after = cut_after
        self.arrived: Counter[str] = Counter()

    async def send(self, message: Outgoing, account: str) -> None:
        self.arrived[message.text] += 1
        if self.cut_after is not None and sum(self.arrived.values()) == self.cut_after:
            self.away.cut()


async def five_notices() -> list[str]:
    now = datetime.fromtimestamp(START, timezone.utc)
    texts = [f"审核通过通知 {number}" for number in range(5)]
    async with db.session() as session:
        for number, text in enumerate(texts):
            await outbox.enqueue(session, Destination("telegram", str(-100 - number)), text, not_before=now)
    return texts


async def test_notices_sent_as_the_database_goes_away_are_not_sent_again(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = await five_notices()
    clock = FakeClock()
    away = DatabaseAway(monkeypatch)
    sender = CountingSender(clock, away, cut_after=2)
    journal = SentJournal.in_folder(tmp_path / "data")
    dispatcher = Dispatcher(sender, owner="t", clock=clock, lease=timedelta(minutes=2), journal=journal)
    with pytest.raises(OperationalError):
        await dispatcher.run_once()  # all five went out, and none could be marked sent
    assert sum(sender.arrived.values()) == 5
    clock.t += 30
    with pytest.raises(OperationalError):
        await dispatcher.run_once()  # still away: nothing is claimed, nothing goes out
    away.restore()
    clock.t += 180  # the batch's lease has long run out
    await dispatcher.run_until_empty()
    assert sender.arrived == Counter(texts)  # each once
    assert await count(OutboxMessage.state == OutboxState.sent) == 5
    assert journal.entries() == []
    async with db.session() as session:  # with the database there, a send leaves nothing in the journal
        await outbox.enqueue(session, Destination("telegram", "-200"), "又一条", not_before=clock.datetime())
    assert await dispatcher.run_once() == 1
    assert sender.arrived["又一条"] == 1
    assert journal.path.read_text() == ""


async def test_a_restart_while_the_database_is_away_sends_nothing_twice(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = await five_notices()
    clock = FakeClock()
    away = DatabaseAway(monkeypatch)
    sender = CountingSender(clock, away, cut_after=1)
    journal = SentJournal.in_folder(tmp_path / "data")
    with pytest.raises(OperationalError):
        await Dispatcher(sender, owner="first", clock=clock, journal=journal).run_once()
    assert journal.path.stat().st_mode & 0o777 == 0o600
    with journal.path.open("a") as file:
        file.write("12 1 17")  # a line cut short as the process was killed
    away.restore()
    clock.t += 600
    restarted = Dispatcher(sender, owner="second", clock=clock, journal=SentJournal.in_folder(tmp_path / "data"))
    await restarted.run_until_empty()
    assert sender.arrived == Counter(texts)
    assert restarted.sent == 0
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert {(row.state, row.attempts) for row in rows} == {("sent", 1)}
    assert journal.entries() == []
