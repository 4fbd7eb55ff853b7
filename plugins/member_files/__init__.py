"""The member file (一人一档): /档案 in private, /队员 for leaders and officers, /标签 for specialties."""

from nonebot import require
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, Match, MultiVar

from plugins._arguments import as_number
from plugins._common import CurrentPlace, command, finish, refuse_on_error
from plugins._texts.member_files import (
    FILE_USAGE,
    PRIVATE_ONLY,
    ROSTER_USAGE,
    TAG_USAGE,
    text_for_file,
    text_for_roster,
    text_for_tag_change,
)
from storage.services import member_files, member_tags, team_rosters

__plugin_meta__ = PluginMetadata(
    name="队员档案",
    description="一人一档：私聊看自己的档案，民警和队长看队员的档案和名单，核实特长",
    usage="\n\n".join([FILE_USAGE, ROSTER_USAGE, TAG_USAGE]),
)

file_command = command("档案", "profile", Args["words", MultiVar(str, "*")])
roster_command = command("队员", "roster", Args["words", MultiVar(str, "*")])
tag_command = command("标签", "tag", Args["words", MultiVar(str, "*")])

PLUS, MINUS = ("+", "＋"), ("-", "－", "—")


@file_command.handle()
async def show_file(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    if place.in_group:
        await finish(PRIVATE_ONLY)  # a file is personal: never in a group, whoever asks and whatever for
    given = list(words.result) if words.available else []
    number = as_number(given[0]) if len(given) == 1 else None
    if given and number is None:
        await finish(FILE_USAGE)
    file = await refuse_on_error(member_files.member_file(place.caller, number))
    await finish(text_for_file(file))


@roster_command.handle()
async def show_roster(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = list(words.result) if words.available else []
    page = 1
    if given and (number := as_number(given[-1], low=1)) is not None:
        page, given = number, given[:-1]
    roster = await refuse_on_error(team_rosters.team_roster(place.caller, place.group, given, page))
    await finish(text_for_roster(roster))


@tag_command.handle()
async def change_tags(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = list(words.result) if words.available else []
    number = as_number(given[0]) if given else None
    if number is not None:
        given = given[1:]
    add = [word[1:] for word in given if word.startswith(PLUS)]
    remove = [word[1:] for word in given if word.startswith(MINUS)]
    if not given or len(add) + len(remove) != len(given):
        await finish(TAG_USAGE)
    change = await refuse_on_error(member_tags.change_tags(place.caller, number, add, remove))
    await finish(text_for_tag_change(change))
