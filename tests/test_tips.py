"""Tips: who may see them, what officers see of an anonymous reporter, rewards once, photos kept."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlmodel import select

from plugins._texts.tips import text_for_reporter, text_for_tip_view
from storage import db
from storage.errors import NotAllowed
from storage.models import AuditLog, OutboxMessage, PointEntry, TipEntry, id_of
from storage.services import membership, organisation, tips
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.settings import configure
from tests.places import in_group
from tests.refusals import refused

ADMIN = ChatAccount("onebot", "10001")
STATION = ChatAccount("onebot", "20001", "李警官")
BRANCH = ChatAccount("onebot", "20002", "分局民警")
ELSEWHERE = ChatAccount("onebot", "20003", "七里山民警")
REPORTER = ChatAccount("onebot", "30001", "铁柱")
GROUP = "555001"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
"""A one-pixel PNG with nothing but the picture: kept as it is."""


@pytest.fixture
async def station(database: str, tmp_path: Path) -> None:
    configure(data_dir=str(tmp_path / "data"), tip_points={"赌博": 20}, tip_points_default=10)
    for caller, unit in (
        (STATION, "市局/历下分局/闫千户派出所"),
        (BRANCH, "市局/历下分局"),
        (ELSEWHERE, "市局/市中分局"),
    ):
        person = PersonRef(platform="onebot", user_id=caller.user_id, display_name=caller.name)
        await organisation.grant_officer(ADMIN, person, unit)
    await organisation.bind_group(STATION, in_group(GROUP), "夕阳红巡逻队")
    application = await membership.apply_to_team(REPORTER, in_group(GROUP), "赵铁柱", "13912345678", [])
    await membership.decide_application(STATION, approve=True, number=application.number)


async def test_only_members_report_and_the_text_is_checked(station: None) -> None:
    with refused("先成为队员"):
        await tips.report_tip(ChatAccount("onebot", "39999"), "赌博", "有人赌博")
    with refused("类别"):
        await tips.report_tip(REPORTER, "八卦", "有人赌博")
    with refused("发生了什么"):
        await tips.report_tip(REPORTER, "赌博", "  ")


async def test_an_anonymous_tip_is_seen_by_its_units_officers_without_the_reporter(station: None) -> None:
    receipt = await tips.report_tip(
        REPORTER, "赌博", "三号楼地下室聚赌", photos=[tips.Photo(PNG, ".png")], location=(36.6, 117.1)
    )
    tip = receipt.tip
    async with db.session() as session:
        announcements = (await session.exec(select(OutboxMessage).where(OutboxMessage.text.contains("新线索")))).all()
    assert sorted(m.chat_key for m in announcements) == ["user:20001"]  # the station's officer, privately
    assert "三号楼" not in announcements[0].text
    assert "铁柱" not in announcements[0].text

    with pytest.raises(NotAllowed):
        await tips.view_tip(ELSEWHERE, tip.id)
    with pytest.raises(NotAllowed):
        await tips.view_tip(REPORTER, tip.id)
    seen = await tips.view_tip(BRANCH, tip.id)  # the parent unit's officer may look, and takes it on
    assert text_for_reporter(seen.reporter) == "匿名"
    assert seen.handler == "分局民警"
    assert seen.history[0].text == "三号楼地下室聚赌"
    stored = tips.photo_path(seen.history[0].photos[0])
    assert stored.read_bytes() == PNG
    listed = await tips.list_tips(STATION)
    assert [(t.number, t.status, t.handler) for t in listed] == [(tip.id, "reviewing", "分局民警")]
    assert await tips.list_tips(ELSEWHERE) == []
    async with db.session() as session:
        audited = (await session.exec(select(AuditLog.action).where(AuditLog.target == f"tip:{tip.id}"))).all()
    assert "view_tip" in audited


async def test_a_named_tip_shows_the_reporter_with_a_masked_phone(station: None) -> None:
    tip = (await tips.report_tip(REPORTER, "治安", "路灯坏了", anonymous=False)).tip
    seen = await tips.view_tip(STATION, tip.id)
    assert text_for_reporter(seen.reporter) == "赵铁柱（成员号 4，139****5678）"


async def test_verifying_rewards_once_and_the_ledger_names_no_tip(station: None) -> None:
    tip = (await tips.report_tip(REPORTER, "赌博", "三号楼地下室聚赌")).tip
    first = await tips.verify_tip(STATION, tip.id, None, "已查处")
    assert (first.changed, first.points) == (True, 20)
    again = await tips.verify_tip(STATION, tip.id, 50, None)
    assert not again.changed
    async with db.session() as session:
        entries = (await session.exec(select(PointEntry))).all()
        told = (await session.exec(select(OutboxMessage.text).where(OutboxMessage.chat_key == "user:30001"))).all()
    assert entries == []  # an anonymous reward waits for the unit's weekly payout (tests/test_anonymous_rewards.py)
    assert any("奖励 20 分" in text and "每周" in text for text in told)
    named = (await tips.report_tip(REPORTER, "赌博", "四号楼也有", anonymous=False)).tip
    await tips.verify_tip(STATION, named.id, None, None)
    async with db.session() as session:
        entries = (await session.exec(select(PointEntry))).all()
    assert [(entry.amount, entry.reason, entry.note, entry.private) for entry in entries] == [
        (20, "tip", "线索奖励", False)
    ]
    with refused("已核实"):
        await tips.add_to_tip(REPORTER, tip.id, "还有")
    with refused("已核实"):
        await tips.dismiss_tip(STATION, tip.id, "不对")


async def test_duplicates_are_not_rewarded_and_the_reporter_hears_every_change(station: None) -> None:
    first = (await tips.report_tip(REPORTER, "盗窃", "车棚丢车")).tip
    second = (await tips.report_tip(REPORTER, "盗窃", "车棚又丢车")).tip
    with refused("理由"):
        await tips.dismiss_tip(STATION, second.id, "")
    decision = await tips.dismiss_tip(STATION, second.id, "", duplicate_of=first.id)
    assert decision.status == "duplicate"
    await tips.reply_to_tip(STATION, first.id, "几点丢的？")
    await tips.add_to_tip(REPORTER, first.id, "晚上八点")
    async with db.session() as session:
        to_reporter = (
            await session.exec(select(OutboxMessage.text).where(OutboxMessage.chat_key == "user:30001"))
        ).all()
    assert any("与更早的一条相同" in text for text in to_reporter)
    assert any(text.startswith(f"民警回复（线索 {first.id}）：几点丢的？") for text in to_reporter)
    assert not any("李警官" in text for text in to_reporter)
    assert [(t.number, t.status) for t in await tips.my_tips(REPORTER)] == [(second.id, "duplicate"), (first.id, "new")]


async def test_the_history_reads_the_same_for_status_changes_written_before_they_were_kept_as_facts(
    station: None,
) -> None:
    number = id_of((await tips.report_tip(REPORTER, "盗窃", "车棚丢车")).tip)
    async with db.session() as session:  # as versions before the notes were kept apart wrote them
        session.add(TipEntry(tip_id=number, kind="status", text=f"你的线索 {number} 经核查未予采纳：不属实"))
    await tips.dismiss_tip(STATION, number, "不属实")
    seen = text_for_tip_view(await tips.view_tip(STATION, number))
    said = f"状态：你的线索 {number} 经核查未予采纳：不属实"
    assert seen.count(said) == 2
