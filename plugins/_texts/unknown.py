"""What the bot says to a message it cannot read as any command: the nearest commands, or where to start."""

from __future__ import annotations

from plugins._commands import Command

NO_SUCH_COMMAND = "没有这个命令。"
START_HERE = "发 /帮助 看能用的命令，例如 /任务 看近期任务。"
NOTHING_TO_CANCEL = "现在没有进行中的步骤，不用取消。要取消报名，发 /取消报名 编号。"


def text_for_nearest(commands: list[Command], *, written_as_command: bool) -> str:
    """ "你是不是要发 /帮助 或 /报名 ？", or where to start when nothing is near."""
    opening = NO_SUCH_COMMAND if written_as_command else ""
    if not commands:
        return opening + START_HERE if written_as_command else "我只听命令。" + START_HERE
    written = [f"/{command.name}" for command in commands]
    choices = written[0] if len(written) == 1 else "、".join(written[:-1]) + " 或 " + written[-1]
    return f"{opening}你是不是要发 {choices} ？"
