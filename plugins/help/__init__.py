"""/帮助 /help: a short menu of what the caller does most here, by role and by chat; `/帮助 主题` for a topic's
commands, `/帮助 命令名` for one command with an example; a new member's first /帮助 in a group welcomes them. All of
it read from the command table (plugins/_commands/table.py)."""

from functools import cache

from nonebot import require
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, Match, MultiVar

from plugins._commands import BY_ALIAS, BY_NAME, MENUS, TABLE, Audience, Command, Topic, Usage, Where, topic_of
from plugins._common import CurrentPlace, command, finish
from plugins._texts import help as texts
from storage.services.guidance import HelpFacts, help_for
from storage.services.people import Rights

__plugin_meta__ = PluginMetadata(
    name="帮助",
    description="按身份和场合列出常用命令，按主题或命令名看更多",
    usage="/帮助　/帮助 主题（如 /帮助 任务）　/帮助 命令名（如 /帮助 报名）",
)

help_command = command("帮助", "help", Args["words", MultiVar(str, "*")])

JOIN = "加入"
"""/加入 is on the menu only for who is not yet in this group's team."""
SLASHES = ("/", "／")
LATIN_ONLY = frozenset({"telegram"})
"""Platforms whose chat turns only Latin command names into links to tap: their menu writes the English aliases."""


def sees(rights: Rights, audience: Audience) -> bool:
    """Whether the caller may use a command of this audience: leaders theirs, officers theirs and the leaders', and
    so on."""
    if audience is Audience.LEADERS:
        return rights.is_officer or bool(rights.leader_team_ids)
    if audience is Audience.OFFICERS:
        return rights.is_officer
    if audience is Audience.ADMINISTRATORS:
        return rights.is_admin
    return True


def role_of(rights: Rights) -> Audience:
    """The highest role the caller has, whose menu they are shown."""
    for audience in (Audience.ADMINISTRATORS, Audience.OFFICERS, Audience.LEADERS):
        if sees(rights, audience):
            return audience
    return Audience.EVERYONE


def usable_here(row: Command | Usage, in_group: bool, in_team_group: bool) -> bool:
    where = BY_NAME[row.name].where
    if where is Where.TEAM_GROUP:
        return in_team_group
    if where is Where.GROUP:
        return in_group
    return True


def seen_by(rights: Rights) -> frozenset[Audience]:
    """The audiences whose commands the caller may use: all /帮助 needs to know of their rights."""
    return frozenset(audience for audience in Audience if sees(rights, audience))


def topic_lines(rights: Rights, topic: Topic, in_group: bool, in_team_group: bool) -> list[str]:
    """The lines of a topic's commands the caller may use here ("/name（/alias）help", continued lines joined)."""
    return list(_topic_lines(seen_by(rights), topic, in_group, in_team_group))


@cache
def _topic_lines(seen: frozenset[Audience], topic: Topic, in_group: bool, in_team_group: bool) -> tuple[str, ...]:
    """topic_lines, for each of the few kinds of caller and chat once (the table does not change while the bot
    runs; every /帮助 walked it once for each topic)."""
    lines: list[str] = []
    for row in TABLE:
        if topic_of(row) is not topic or row.audience not in seen:
            continue
        if isinstance(row, Usage):
            lines.append(f"/{row.name} {row.help}")
            continue
        if row.help is None:
            continue
        if not usable_here(row, in_group, in_team_group):
            if not in_group and row.in_private:
                lines.append(row.in_private)
            continue
        written = f"/{row.name}（/{row.alias}）{row.help}"
        if row.continues is None or not lines:
            lines.append(written)
        else:
            lines[-1] += row.continues + written
    return tuple(lines)


def topics_of(rights: Rights, in_group: bool, in_team_group: bool) -> list[Topic]:
    seen = seen_by(rights)
    return [topic for topic in Topic if _topic_lines(seen, topic, in_group, in_team_group)]


def menu_lines(facts: HelpFacts, in_group: bool, latin: bool = False) -> list[str]:
    """The short menu: the caller's role's lines, of the commands they may use here (`latin`: by their English
    aliases)."""
    in_team_group = facts.located is not None
    lines: list[str] = []
    for names in MENUS[role_of(facts.rights)]:
        shown = []
        for name in names:
            row = BY_NAME[name]
            if not sees(facts.rights, row.audience) or not usable_here(row, in_group, in_team_group):
                continue
            if name == JOIN and facts.in_team_here:
                continue
            shown.append(f"/{row.alias if latin else name} {row.brief}".rstrip())
        if shown:
            lines.append("　".join(shown))
    return lines


def more_line(facts: HelpFacts, in_group: bool, latin: bool = False) -> str:
    topics = topics_of(facts.rights, in_group, facts.located is not None)
    written = f"/{BY_NAME['帮助'].alias}" if latin else "/帮助"
    return texts.MORE.format(help=written, topics=" ".join(topic.value for topic in topics))


def menu(facts: HelpFacts, in_group: bool, latin: bool = False) -> str:
    if facts.welcome:
        written = {row.name: f"/{row.alias if latin else row.name}" for row in BY_NAME.values()}
        return "\n".join([*(line.format_map(written) for line in texts.WELCOME), more_line(facts, in_group, latin)])
    if facts.located is not None:
        head = texts.MENU_IN_TEAM_GROUP.format(team=facts.located.team.name)
    elif in_group:
        head = texts.MENU_IN_UNBOUND_GROUP
    else:
        head = texts.MENU_IN_PRIVATE
    return "\n".join([head, *menu_lines(facts, in_group, latin), more_line(facts, in_group, latin)])


def asked_for(word: str) -> Topic | Command | None:
    """What `/帮助 word` asks about: a topic (typed without a slash), or a command by name or English alias."""
    slashed = word.startswith(SLASHES)
    name = word.lstrip("".join(SLASHES))
    if not slashed:
        for topic in Topic:
            if topic.value == name:
                return topic
    return BY_NAME.get(name) or BY_ALIAS.get(name.lower())


def topic_text(facts: HelpFacts, topic: Topic, in_group: bool) -> str:
    in_team_group = facts.located is not None
    lines = topic_lines(facts.rights, topic, in_group, in_team_group)
    if not lines:
        topics = " ".join(t.value for t in topics_of(facts.rights, in_group, in_team_group))
        return "\n".join([texts.NOTHING_HERE.format(topic=topic.value), texts.MORE.format(help="/帮助", topics=topics)])
    visible = (
        row for row in TABLE if isinstance(row, Command) and row.topic is topic and sees(facts.rights, row.audience)
    )
    first = next(visible, BY_NAME["报名"])
    return "\n".join([texts.TOPIC_HEAD.format(topic=topic.value), *lines, texts.TOPIC_TAIL.format(name=first.name)])


@help_command.handle()
async def show_help(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = list(words.result) if words.available else []
    facts = await help_for(place.caller, place.group, menu=not given)
    if not given:
        await finish(menu(facts, place.in_group, latin=place.caller.platform in LATIN_ONLY))
    wanted = asked_for(given[0])
    if isinstance(wanted, Topic):
        await finish(topic_text(facts, wanted, place.in_group))
    if isinstance(wanted, Command):
        await finish(texts.text_for_command(wanted))
    topics = " ".join(t.value for t in topics_of(facts.rights, place.in_group, facts.located is not None))
    await finish(texts.UNKNOWN.format(topics=topics))
