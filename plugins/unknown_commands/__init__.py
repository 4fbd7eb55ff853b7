"""A message that names no command gets an answer: the nearest commands (/帮主 → /帮助), or where to start.

It is the last matcher: a message reaches it only when no command and no dialogue took it. It answers a message
written as a command (a slash in front) anywhere, and one addressed to the bot (in private, or @-mentioning it in a
group; not a reply to the bot's messages) that is not a shared location. A group's chatter never gets this far
(bot/chatter.py drops it first).
"""

from nonebot import on_message, require
from nonebot.adapters import Event
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule

require("nonebot_plugin_alconna")

from nonebot_plugin_alconna import UniMsg

from plugins._commands.nearest import nearest
from plugins._commands.reading import addressed_to_bot
from plugins._common import LATER, command_starts, finish, is_cancel, location_in
from plugins._texts.unknown import NOTHING_TO_CANCEL, text_for_nearest

__plugin_meta__ = PluginMetadata(
    name="没有这个命令", description="打错的命令：告诉最接近的命令", usage="发错命令时自动回答"
)


async def _unanswered(event: Event, message: UniMsg) -> bool:
    if event.get_type() != "message":
        return False
    if event.get_plaintext().lstrip().startswith(command_starts()):
        return True
    return addressed_to_bot(event) and location_in(message) is None


unknown = on_message(rule=Rule(_unanswered), priority=LATER + 1, block=True)


@unknown.handle()
async def answer_unknown(event: Event) -> None:
    text = event.get_plaintext().strip()
    if is_cancel(text):
        await finish(NOTHING_TO_CANCEL)
    written_as_command = text.startswith(command_starts())
    word = text.lstrip("".join(command_starts())).split(maxsplit=1)
    await finish(text_for_nearest(nearest(word[0]) if word else [], written_as_command=written_as_command))
