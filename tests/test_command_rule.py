"""The cheap first look before alconna parses (plugins/_common._written_as): it never turns away a command."""

from __future__ import annotations

from nonebot.adapters.onebot.v11 import Message, MessageSegment

from tests.chat import onebot_group_message


async def test_only_other_commands_are_turned_away_before_parsing() -> None:
    from plugins._common import _written_as  # plugin code is imported once NoneBot is initialised

    could_be_signup = _written_as("报名", "signup")

    async def looks(message: str | Message) -> bool:
        return await could_be_signup(onebot_group_message(555001, 30001, message))

    for text in ("/报名 12", "／报名 12", "/signup 12", "  /报名", "/报名"):
        assert await looks(text), text
    for text in ("/签到", "/签到 12", "/报名12", "/取消报名 12", "/signupx"):
        assert not await looks(text), text
    # not written as a command here: alconna decides, as before
    assert await looks("报名 12")
    assert await looks(Message([MessageSegment.image("https://example.com/a.png")]))
