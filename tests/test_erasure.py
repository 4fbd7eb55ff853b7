"""/删除我的信息 store by store: what an erasure scrubs in each (the member row, accounts, roles and team places,
applications, vetting and insurance, tips, the ledger's notes, the audit log, the outbox, the sent journal, exports
not yet sent), that the figures stay, what it refuses, what nothing shows afterwards, and that a restored backup
does not bring the person back. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from plugins._outbox.journal import SentEntry, SentJournal
from plugins._texts.export import export_file
from storage import db
from storage.models import (
    AuditLog,
    Erasure,
    Insurance,
    JoinRequest,
    Member,
    MemberTotal,
    OutboxMessage,
    PlatformIdentity,
    PointEntry,
    Role,
    Signup,
    TeamMembership,
    Tip,
    TipEntry,
    Vetting,
    id_of,
    utcnow,
)
from storage.services import erasure, export, membership, organisation, shop, standings, tasks, tips
from storage.services.actors import ChatAccount
from storage.services.outbox import Destination, enqueue
from storage.services.people import PersonRef
from storage.settings import settings
from tests.places import in_group
from tests.refusals import refused
from tests.test_points import ADMIN, GROUPS, NOW, OFFICER, set_up, volunteer
from tests.test_stats_export import around_now

NAME, PHONE, ID_NUMBER = "队员一", "13700000001", "370102199001011234"
ME = volunteer(1)


def patrol() -> list[str]:
    return [*"巡逻 明天19:00 2小时 北区 5人 3分".split()]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class World:
    member_id: int
    task_id: int
    named_tip: int
    anonymous_tip: int
    to_them: int
    """An outbox message to their account."""
    about_them: int
    """A group message naming and @-mentioning them."""
    other: int
    """A message to someone else."""


async def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """队员一 of 一队 with a full file, an attended patrol, points with an officer's words about them, a named tip
    with a photo and an anonymous one, an officer role of their own (and an award they gave), an application begun
    in another group, a vetting and an insurance, messages to and about them, and an export naming them."""
    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    members = await set_up(per_team=2)
    me = members["一队"][0]
    async with db.session() as session:
        member = await session.get(Member, me)
        assert member is not None
        member.id_number, member.emergency_contact, member.area = ID_NUMBER, "妻子 13900000009", "闫千户"
        member.employer, member.industry, member.profession = "历下供电所", "电力", "电工"
        member.verified_tags = ["救援"]
        member.tags = ["驾驶"]
        session.add(member)
        session.add(Vetting(member_id=me, result="passed", checked_on=date(2026, 11, 1), note=f"{NAME}无犯罪记录"))
        session.add(Insurance(member_id=me, insurer="人保", policy_number="PICC-778899", valid_until=date(2027, 1, 1)))
        session.add(JoinRequest(platform="onebot", user_id=ME.user_id, team_id=2, group_id="810002", name=NAME))
    spec = tasks.parse_task_words(patrol(), NOW)
    task = (await tasks.post_task(OFFICER, in_group(GROUPS["一队"]), spec)).view.task
    await tasks.signup_for_task(ME, task.id, NOW)
    await tasks.check_in(ME, task.id, task.start_at)
    await tasks.close_task(OFFICER, task.id, task.end_at)
    await standings.award_points(OFFICER, PersonRef(member_number=me), 20, f"表扬{NAME}协助寻人")
    named = (await tips.report_tip(ME, "治安", "路灯坏了", anonymous=False, photos=[tips.Photo(png(), ".png")])).tip
    await tips.verify_tip(OFFICER, id_of(named), 5, None)
    anonymous = (await tips.report_tip(ME, "盗窃", "车棚丢车")).tip
    await tips.verify_tip(OFFICER, id_of(anonymous), 8, None)  # due: waits for a payout with others
    await organisation.grant_officer(ADMIN, PersonRef(member_number=me), "市局/历下分局/闫千户派出所")
    await standings.award_points(ME, PersonRef(member_number=members["一队"][1]), 3, "我亲手写的理由")
    async with db.session() as session:
        await enqueue(session, Destination("onebot", ME.user_id, private=True), f"{NAME}，你好")
        await enqueue(session, Destination("onebot", GROUPS["一队"]), f"请 {NAME} 签到", mentions=[ME.user_id, "30002"])
        await enqueue(session, Destination("onebot", "30002", private=True), "队员二，你好")
        honour = {"kind": "honour", "team": "一队", "member": NAME, "points": 28}
        await enqueue(session, Destination("onebot", GROUPS["二队"]), "本月义警之星", image=honour)
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    to_them = next(row.id for row in rows if row.text == f"{NAME}，你好")
    about = next(row.id for row in rows if row.text == f"请 {NAME} 签到")
    other = next(row.id for row in rows if row.text == "队员二，你好")
    assert to_them
    assert about
    assert other
    return World(me, task.id, id_of(named), id_of(anonymous), to_them, about, other)


async def erase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    world = await build(tmp_path, monkeypatch)
    await erasure.erase_me(ME)
    return world


async def test_the_member_row_names_no_one_and_keeps_the_figures(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build(tmp_path, monkeypatch)
    async with db.session() as session:
        before = sorted(
            (t.period, t.points, t.minutes, t.tips, t.spendable)
            for t in (await session.exec(select(MemberTotal).where(MemberTotal.member_id == world.member_id))).all()
        )
        amounts = sorted(e.amount for e in (await session.exec(select(PointEntry))).all())
    done = await erasure.erase_me(ME)
    assert done.member_id == world.member_id
    async with db.session() as session:
        member = await session.get(Member, world.member_id)
        assert member is not None
        assert (member.name, member.phone, member.id_number, member.emergency_contact) == (
            erasure.ERASED_NAME,
            None,
            None,
            None,
        )
        assert (member.area, member.employer, member.industry, member.profession) == (None, None, None, None)
        assert (member.tags, member.verified_tags, member.status) == ([], [], "left")
        assert member.erased_at is not None
        after = sorted(
            (t.period, t.points, t.minutes, t.tips, t.spendable)
            for t in (await session.exec(select(MemberTotal).where(MemberTotal.member_id == world.member_id))).all()
        )
        assert after == before  # the figures stay, attached to the neutral row
        assert sorted(e.amount for e in (await session.exec(select(PointEntry))).all()) == amounts
        (signup,) = (await session.exec(select(Signup).where(Signup.member_id == world.member_id))).all()
        assert (signup.status, signup.minutes_served) == ("attended", 120)
        (listed,) = (await session.exec(select(Erasure))).all()
        assert listed.member_id == world.member_id
    assert erasure.read_list() == {world.member_id: listed.erased_at}


async def test_platform_accounts_go_and_the_same_account_joins_again_as_a_new_member(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await erase(tmp_path, monkeypatch)
    async with db.session() as session:
        assert (await session.exec(select(PlatformIdentity).where(PlatformIdentity.user_id == ME.user_id))).all() == []
    with refused("没有你的信息"):
        await erasure.erase_me(ME)
    applied = await membership.apply_to_team(ME, in_group(GROUPS["一队"]), "新队员", PHONE, [])
    assert applied.member.id != world.member_id
    await membership.decide_application(OFFICER, approve=True, number=applied.number)
    profile = await membership.my_profile(ME)
    assert profile.member is not None
    assert (profile.member.id, profile.member.name) == (applied.member.id, "新队员")
    # the patrol the old member served is still counted, and not as the new member's
    detail = await tasks.task_detail(OFFICER, world.task_id)
    assert [line.name for line in detail.signed + detail.absent] == [erasure.ERASED_NAME]


async def test_roles_and_team_places(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = await erase(tmp_path, monkeypatch)
    async with db.session() as session:
        assert (await session.exec(select(Role).where(Role.member_id == world.member_id))).all() == []
        (place,) = (await session.exec(select(TeamMembership).where(TeamMembership.member_id == world.member_id))).all()
        assert (place.status, place.applied_group_id, place.applied_platform, place.reason) == (
            "left",
            None,
            None,
            None,
        )


async def test_applications_begun_in_a_group(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await erase(tmp_path, monkeypatch)
    async with db.session() as session:
        assert (await session.exec(select(JoinRequest))).all() == []


async def test_vetting_notes_and_insurance(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = await erase(tmp_path, monkeypatch)
    async with db.session() as session:
        (vetting,) = (await session.exec(select(Vetting))).all()
        assert (vetting.member_id, vetting.result, vetting.note) == (world.member_id, "passed", "")
        assert (await session.exec(select(Insurance))).all() == []


async def test_tips_stay_for_the_police_unlinked_with_their_photos(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build(tmp_path, monkeypatch)
    photos = sorted((tmp_path / "data" / "tips").rglob("*.*"))
    assert len(photos) == 1
    await erasure.erase_me(ME)
    assert sorted((tmp_path / "data" / "tips").rglob("*.*")) == photos  # evidence stays
    async with db.session() as session:
        kept = (await session.exec(select(Tip).order_by(col(Tip.id)))).all()
        assert [tip.id for tip in kept] == [world.named_tip, world.anonymous_tip]
        reporters = {tip.reporter_id for tip in kept}
        assert world.member_id not in reporters
        assert len(reporters) == 1
        placeholder = await session.get(Member, reporters.pop())
        assert placeholder is not None
        assert placeholder.name == erasure.REPORTER_NAME
        # the anonymous reward still due stays due: the weekly payout adds up as the officers expect, and pays the
        # placeholder, whose points nobody can spend
        assert kept[1].reward_state == "due"
        entries = (await session.exec(select(TipEntry).where(TipEntry.tip_id == world.named_tip))).all()
        assert any(entry.photos for entry in entries)
    view = await tips.view_tip(OFFICER, world.named_tip)
    assert view.reporter is not None
    assert (view.reporter.name, view.reporter.phone_masked) == (erasure.REPORTER_NAME, "未登记")
    assert view.reporter.member_number != world.member_id
    later = (await tips.report_tip(volunteer(2), "治安", "井盖丢了", anonymous=False)).tip
    async with db.session() as session:
        tip = await session.get(Tip, later.id)
        assert tip is not None
        tip.reporter_id = view.reporter.member_number  # as if its reporter had been erased before it was verified
        session.add(tip)
    assert (await tips.verify_tip(OFFICER, id_of(later), 5, None)).points == 0  # nobody is left to reward


async def test_the_ledger_keeps_its_amounts_without_the_officers_words_naming_them(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await erase(tmp_path, monkeypatch)
    async with db.session() as session:
        notes = [
            e.note for e in (await session.exec(select(PointEntry).where(PointEntry.member_id == world.member_id)))
        ]
    assert f"表扬{erasure.ERASED_NAME}协助寻人" in notes
    assert not any(NAME in note for note in notes)


async def test_the_audit_log_keeps_what_happened_and_not_who(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await erase(tmp_path, monkeypatch)
    async with db.session() as session:
        log = (await session.exec(select(AuditLog).order_by(col(AuditLog.id)))).all()
    text = repr([(entry.actor, entry.target, entry.detail) for entry in log])
    for word in (NAME, PHONE, ID_NUMBER, ME.key, "我亲手写的理由"):
        assert word not in text
    by_them = [entry for entry in log if entry.actor_member_id == world.member_id]
    assert [(entry.action, entry.actor, entry.detail["reason"]) for entry in by_them] == [
        ("award", erasure.ERASED_ACTOR, erasure.REMOVED)
    ]
    assert by_them[0].detail["amount"] == 3  # what was done stays
    (record,) = [entry for entry in log if entry.action == erasure.ERASED_ACTION]
    assert (record.actor, record.actor_member_id, record.target, record.detail) == (erasure.ERASED_ACTOR, None, "", {})
    about = [entry for entry in log if entry.target == f"member:{world.member_id}" and entry.action == "award"]
    assert about[0].detail["reason"] == f"表扬{erasure.ERASED_NAME}协助寻人"


async def test_the_outbox_keeps_no_message_to_them_and_no_name(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build(tmp_path, monkeypatch)
    done = await erasure.erase_me(ME)
    async with db.session() as session:
        rows = {row.id: row for row in (await session.exec(select(OutboxMessage))).all()}
    assert world.to_them in done.outbox_deleted
    assert not any(row.chat_key == f"user:{ME.user_id}" for row in rows.values())
    assert all(NAME not in row.text for row in rows.values())
    assert rows[world.about_them].text == f"请 {erasure.ERASED_NAME} 签到"
    assert rows[world.about_them].mentions == ["30002"]
    assert rows[world.other].text == "队员二，你好"
    (honour,) = [row for row in rows.values() if row.image is not None]
    assert honour.image == {"kind": "honour", "team": "一队", "member": erasure.ERASED_NAME, "points": 28}


async def test_the_sent_journal_forgets_their_messages(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build(tmp_path, monkeypatch)
    journal = SentJournal.in_folder(settings.data_dir)
    journal.record([SentEntry(world.to_them, 1, 1.0), SentEntry(world.other, 1, 2.0)])
    done = await erasure.erase_me(ME)
    journal.forget_messages(done.outbox_deleted)  # what plugins/mydata does after the erasure
    assert [entry.message_id for entry in journal.entries()] == [world.other]


async def test_exports_not_yet_sent_that_name_them_are_deleted(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build(tmp_path, monkeypatch)
    folder = tmp_path / "data" / "exports"
    for name, caller in (("theirs", OFFICER), ("elsewhere", ChatAccount("onebot", "20002"))):
        made = await export.export_workbook(caller, None, around_now(), None)
        (folder / name).mkdir(parents=True)
        (folder / name / "export.xlsx").write_bytes(export_file(made).content)
    done = await erasure.erase_me(ME)
    assert done.exports_deleted == 1
    assert sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.xlsx")) == ["elsewhere/export.xlsx"]


async def test_refused_while_a_redemption_waits_or_a_place_is_held(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build(tmp_path, monkeypatch)
    cup, _ = await shop.add_reward(OFFICER, "保温杯", 10, 5, None)
    redeemed = await shop.redeem(ME, id_of(cup))
    with refused(f"兑换单（{redeemed.redemption.id} 号）"):
        await erasure.check_erasable(ME)
    with refused("/兑换 取消"):
        await erasure.erase_me(ME)
    await shop.cancel_redemption(ME, id_of(redeemed.redemption))
    spec = tasks.parse_task_words(patrol(), utcnow())
    task = (await tasks.post_task(OFFICER, in_group(GROUPS["一队"]), spec)).view.task
    await tasks.signup_for_task(ME, task.id)
    with refused(f"/取消报名 {task.id}"):
        await erasure.erase_me(ME)
    async with db.session() as session:
        member = await session.get(Member, world.member_id)
        assert member is not None
        assert member.name == NAME
        assert member.erased_at is None
        assert (await session.exec(select(Erasure))).all() == []
    await tasks.cancel_signup(ME, task.id)
    assert (await erasure.check_erasable(ME)).member_id == world.member_id


async def test_afterwards_boards_rosters_exports_and_tip_views_name_no_one(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await erase(tmp_path, monkeypatch)
    team = await standings.leaderboard(OFFICER, in_group(GROUPS["一队"]), "all", "team")
    assert NAME not in repr(team)
    city = await standings.leaderboard(OFFICER, None, "all", "city")
    assert NAME not in repr(city)
    assert erasure.ERASED_NAME in [row.name for row in city.rows]  # their points still count, as no one's
    detail = await tasks.task_detail(OFFICER, world.task_id)
    assert NAME not in repr(detail)
    made = await export.export_workbook(OFFICER, None, around_now(), None)
    content = repr(made)
    for word in (NAME, "137****0001", ID_NUMBER):
        assert word not in content
    for number in (world.named_tip, world.anonymous_tip):
        assert NAME not in repr(await tips.view_tip(OFFICER, number))
    assert NAME not in repr(await tips.list_tips(OFFICER))


async def _restore(database: str, backup: Path, request: pytest.FixtureRequest) -> str:
    """Put the backup back as the database, as README says an administrator does; the database it becomes."""
    await db.close_database()
    if database.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{backup}"
    restored = request.getfixturevalue("empty_postgres_url")
    parsed = make_url(restored)
    where = ["-h", parsed.host or "localhost", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    command = ["pg_restore", "--no-owner", *where, "-d", parsed.database or "", str(backup)]
    await asyncio.to_thread(subprocess.run, command, check=True, capture_output=True, timeout=120)
    return restored


async def _backup(database: str, tmp_path: Path) -> Path:
    if database.startswith("sqlite"):
        source = db.sqlite_file(database)
        assert source is not None
        return db.backup_sqlite(source, tmp_path / "backup.db").path
    parsed = make_url(database)
    target = tmp_path / "backup.dump"
    where = ["-h", parsed.host or "localhost", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    command = ["pg_dump", "-Fc", *where, "-d", parsed.database or "", "-f", str(target)]
    await asyncio.to_thread(subprocess.run, command, check=True, capture_output=True, timeout=120)
    return target


async def test_a_restored_backup_does_not_bring_the_person_back(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    world = await build(tmp_path, monkeypatch)
    backup = await _backup(database, tmp_path)  # last night's backup, from before the erasure
    await erasure.erase_me(ME)

    await db.open_database(await _restore(database, backup, request))
    async with db.session() as session:
        member = await session.get(Member, world.member_id)
        assert member is not None
        assert member.name == NAME
    again = await erasure.reapply_erasures()  # what start-up does (bot/app.py)
    assert again.erased == (world.member_id,)
    async with db.session() as session:
        member = await session.get(Member, world.member_id)
        assert member is not None
        assert (member.name, member.phone) == (erasure.ERASED_NAME, None)
        assert (await session.exec(select(PlatformIdentity).where(PlatformIdentity.user_id == ME.user_id))).all() == []
        assert [row.member_id for row in (await session.exec(select(Erasure))).all()] == [world.member_id]
        log = repr((await session.exec(select(AuditLog))).all())
    assert NAME not in log
    assert (await erasure.reapply_erasures()).erased == ()  # once is enough

    # a member number given to someone new after the erasure is not theirs
    async with db.session() as session:
        member = await session.get(Member, world.member_id)
        assert member is not None
        member.created_at = utcnow() + timedelta(seconds=1)
        member.erased_at = None
        member.name = "另一个人"
        session.add(member)
    assert (await erasure.reapply_erasures()).erased == ()
    async with db.session() as session:
        member = await session.get(Member, world.member_id)
        assert member is not None
        assert member.name == "另一个人"


async def test_the_list_is_rebuilt_from_the_database_when_its_file_is_lost(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await erase(tmp_path, monkeypatch)
    erasure.list_path().unlink()
    assert (await erasure.reapply_erasures()).listed == 1
    assert list(erasure.read_list()) == [world.member_id]
