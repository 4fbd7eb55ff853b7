"""A member known by number rather than by chat account (signed in on the web console) acts under the same rules.

The services take an actor and a place the face resolves (storage.services.actors): a chat account in a group
chat, or a member signed in with the team a page is about. Each pair of calls below is the same act from the
two faces, and must come out the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import select

from storage import db
from storage.errors import NotAllowed
from storage.models import Member, OutboxMessage
from storage.services import membership, organisation, people, standings, tasks
from storage.services.actors import ChatAccount, InTeam, SignedInMember
from storage.services.people import PersonRef
from tests.places import in_group
from tests.refusals import refused

ADMIN = ChatAccount("onebot", "10001")
OFFICER = ChatAccount("onebot", "20001", "李警官")
VOLUNTEER = ChatAccount("onebot", "30001", "张三")
STRANGER = ChatAccount("onebot", "39999", "路人")
GROUP = "555001"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Shanghai


async def member_number(account: ChatAccount) -> int:
    async with db.session() as session:
        member = await people.member_of(session, account.platform, account.user_id)
        assert member is not None
        assert member.id is not None
        return member.id


async def queued_for_the_group() -> int:
    async with db.session() as session:
        return len((await session.exec(select(OutboxMessage).where(OutboxMessage.chat_key == f"group:{GROUP}"))).all())


async def team_with_one_volunteer() -> organisation.Binding:
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id=OFFICER.user_id), "市局/历下分局")
    binding = await organisation.bind_group(OFFICER, in_group(GROUP), "夕阳红巡逻队")
    application = await membership.apply_to_team(VOLUNTEER, in_group(GROUP), "张三", "13900000001", [])
    await membership.decide_application(OFFICER, approve=True, number=application.number)
    return binding


async def test_an_officer_signed_in_posts_to_a_team_and_the_group_gets_the_card(database: str) -> None:
    binding = await team_with_one_volunteer()
    officer = SignedInMember(await member_number(OFFICER))
    team = InTeam(binding.team.id or 0)
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 北区 3人".split(), NOW)

    queued_before = await queued_for_the_group()

    posted = await tasks.post_task(officer, team, spec)

    # posted from outside the group, the card goes to the group (from the group, the reply carries it)
    assert posted.view.team_names == ["夕阳红巡逻队"]
    assert posted.announced == 1
    assert not posted.posted_here
    assert await queued_for_the_group() == queued_before + 1
    listed = await tasks.list_open_tasks(officer, team, NOW)
    assert [view.task.id for view in listed] == [posted.view.task.id]


async def test_a_volunteer_signed_in_signs_up_checks_in_and_out_like_in_chat(database: str) -> None:
    binding = await team_with_one_volunteer()
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 北区 3人".split(), NOW)
    task = (await tasks.post_task(OFFICER, in_group(GROUP), spec)).view.task
    volunteer = SignedInMember(await member_number(VOLUNTEER))

    signed = await tasks.signup_for_task(volunteer, task.id, NOW)
    again_from_chat = await tasks.signup_for_task(VOLUNTEER, task.id, NOW)

    assert (signed.status, signed.changed, signed.places_left) == ("signed", True, 2)
    assert again_from_chat.changed is False  # one member, whichever face they come from
    checked_in = await tasks.check_in(volunteer, None, task.start_at + timedelta(minutes=5))
    assert checked_in.changed
    assert checked_in.task.id == task.id
    checked_out = await tasks.check_out(volunteer, task.id, task.start_at + timedelta(minutes=65))
    assert (checked_out.changed, checked_out.minutes) == (True, 60)
    board = await standings.leaderboard(
        volunteer, InTeam(binding.team.id or 0), "month", "team", "minutes", now=task.end_at
    )
    assert board.scope_name == "夕阳红巡逻队"
    assert board.own is not None
    assert board.own.value == 60


async def test_someone_signed_in_is_held_to_the_same_refusals(database: str) -> None:
    binding = await team_with_one_volunteer()
    team = InTeam(binding.team.id or 0)
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 北区 3人".split(), NOW)
    task = (await tasks.post_task(OFFICER, in_group(GROUP), spec)).view.task
    volunteer = SignedInMember(await member_number(VOLUNTEER))
    async with db.session() as session:
        outsider = Member(name="外队队员")
        session.add(outsider)
        await session.commit()
        await session.refresh(outsider)
    assert outsider.id is not None

    with refused("只有民警可以发布任务", kind=NotAllowed):
        await tasks.post_task(volunteer, team, spec)
    with refused("你还没有加入队伍"):
        await tasks.signup_for_task(SignedInMember(987654), task.id, NOW)  # no such member
    with refused("你还没有加入队伍"):
        await tasks.check_in(SignedInMember(987654), task.id, task.start_at)
    with refused("没有你能看到的任务"):
        await tasks.signup_for_task(SignedInMember(outsider.id), task.id, NOW)  # not of the task's teams
    with refused("只有民警可以发布任务", kind=NotAllowed):
        await tasks.post_task(SignedInMember(outsider.id), team, spec)
    # a team that does not exist is answered as a group without a team
    with refused("还没有绑定队伍"):
        await tasks.post_task(SignedInMember(await member_number(OFFICER)), InTeam(987654), spec)
    with refused("只有本队队长和民警可以审核", kind=NotAllowed):
        await membership.list_pending(SignedInMember(outsider.id), team)
