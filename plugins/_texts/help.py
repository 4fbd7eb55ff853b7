"""/帮助's words: the short menu's first and last lines, a topic's list, one command's help, and the welcome a new
member reads at their first /帮助 in a group. The commands' own words are the command table's
(plugins/_commands/table.py)."""

from __future__ import annotations

from plugins._commands import Audience, Command, Where

MENU_IN_TEAM_GROUP = "本群队伍：{team}，常用命令："
MENU_IN_UNBOUND_GROUP = "本群还没有绑定队伍，常用命令："
MENU_IN_PRIVATE = "常用命令："
MORE = "更多：{help} {topics}"
"""{help} is /帮助, or /help where only Latin names are commands."""
WELCOME = (
    "欢迎加入！队员常做三件事：",
    "1. 看任务、报名：发 {任务}，再发 {报名} 编号",
    "2. 到了现场发 {签到}，离开时发 {签退}",
    "3. 发现可疑情况，私聊我发 {线索}，可以匿名",
)
"""Each {命令名} is written as the command is typed here (/任务, or /tasks where only Latin names are commands)."""
TOPIC_HEAD = "【{topic}】"
TOPIC_TAIL = "命令不带内容发送会告诉你怎么写；看例子发 /帮助 /{name}"
NOTHING_HERE = "“{topic}”里没有你在这里能用的命令。"
UNKNOWN = "没有这个主题或命令。可以发：/帮助 {topics}，或 /帮助 命令名，例如 /帮助 报名"
WHO = {Audience.LEADERS: "队长和民警用", Audience.OFFICERS: "民警用", Audience.ADMINISTRATORS: "管理员用"}
WHERE = {Where.GROUP: "在群里发", Where.TEAM_GROUP: "在队伍群里发"}


def text_for_command(row: Command) -> str:
    """/帮助 命令名: what it does (and who uses it where), how to write it, an example (unless it is just that)."""
    notes = [note for note in (WHO.get(row.audience), WHERE.get(row.where)) if note]
    first = f"/{row.name}（/{row.alias}）{row.does}"
    if notes:
        first += f"（{'，'.join(notes)}）"
    written = f"/{row.name} {row.usage}" if row.usage else f"/{row.name}"
    lines = [first, f"写法：{written}"]
    if row.example != written:
        lines.append(f"例如 {row.example}")
    return "\n".join(lines)
