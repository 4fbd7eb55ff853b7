"""The demo data a newcomer gets in the console: an officer who is also a member of the console chat's team."""

from __future__ import annotations

from storage.demo import DEMO_TEAM, seed_demo
from storage.services import membership, organisation, shop, standings, tasks
from storage.services.actors import ChatAccount
from tests.places import in_group

CONSOLE = ChatAccount("console", "user", "User")


async def test_demo_is_seeded_once_and_every_command_can_be_tried(database: str) -> None:
    assert await seed_demo("console", "user", "general")
    assert not await seed_demo("console", "user", "general")
    located = await organisation.get_team_at(in_group("general", "console"))
    assert located.team.name == DEMO_TEAM
    profile = await membership.my_profile(CONSOLE)
    assert profile.officer_units == ["示范市公安局/示范分局/示范派出所"]
    pending, total = await membership.list_pending(CONSOLE, in_group("general", "console"))
    assert total == 1
    assert (pending[0].name, pending[0].number) == ("赵敏", 5)  # README's quick start says /通过 5
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 闫千户片区 10人 5分".split())
    posted = await tasks.post_task(CONSOLE, in_group("general", "console"), spec)
    signed = await tasks.signup_for_task(CONSOLE, posted.view.task.id)
    assert signed.status == "signed"
    board = await standings.leaderboard(CONSOLE, in_group("general", "console"), "month", "team", "points")
    assert [(row.name, row.value) for row in board.rows] == [("体验民警", 40), ("王建国", 30), ("李秀英", 20)]
    shelf = await shop.list_rewards(CONSOLE)
    assert [reward.name for reward, _ in shelf.rewards] == ["义警纪念徽章", "保温杯"]
    assert (await shop.redeem(CONSOLE, shelf.rewards[0][0].id)).balance == 20
