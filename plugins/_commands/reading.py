"""A message read as the command its sender meant, before NoneBot looks for one: `/HELP` is `/help`, and `帮助` or
`报名 3` sent to the bot (in private, or @-mentioning it in a group) is `/帮助` or `/报名 3`.

Telegram's `/start CODE`, what its deep links send, is read as `/join CODE` (READ_AS).

Only the message's first word is changed, in place, in the segment that holds it (a text segment, or Telegram's
command segment), by the bot's event pre-processor (bot/app.py). A group's chatter is never looked at: it was
dropped before this (bot/chatter.py). A message that answers an open dialogue is never changed either (a bare word
there is an answer: 巡逻 stays a task's kind), nor a reply to one of the bot's messages (what a reply means is the
reply's business). Nothing here imports NoneBot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from plugins._commands.nearest import by_alias, by_name

if TYPE_CHECKING:
    from nonebot.adapters import Event

WORD_SEGMENTS = ("text", "bot_command")
READ_AS = {"start": "join"}
"""Commands of a platform's own read as ours: Telegram's deep link t.me/<bot>?start=CODE (an invite's QR code)
arrives as `/start CODE`, which is `/join CODE`."""


def is_reply(event: Event) -> bool:
    """Whether the message quotes another one (OneBot's reply, Telegram's reply_to_message)."""
    return getattr(event, "reply", None) is not None or getattr(event, "reply_to_message", None) is not None


def addressed_to_bot(event: Event) -> bool:
    """A private message, or one that @-mentions the bot in a group, that is not a reply."""
    return event.is_tome() and not is_reply(event)


def read_as_command(event: Event, starts: tuple[str, ...], dialogue_is_open: Callable[[str], bool]) -> None:
    """Write the message's first word as the command it names (see the module's description); nothing else."""
    message = event.get_message()
    if not message or message[0].type not in WORD_SEGMENTS:
        return
    segment = message[0]
    text = segment.data.get("text")
    if not isinstance(text, str):
        return
    stripped = text.lstrip()
    first, _, rest = stripped.partition(" ")
    if first.startswith(starts):
        start, word = first[0], first[1:]
        if word in READ_AS:
            segment.data["text"] = f"{start}{READ_AS[word]}" + (f" {rest}" if rest else "")
            return
        command = by_alias(word)
        if command is None or word == command.alias:
            return
        segment.data["text"] = f"{start}{command.alias}" + (f" {rest}" if rest else "")
        return
    if not addressed_to_bot(event) or dialogue_is_open(event.get_session_id()):
        return
    command = by_name(first)
    if command is None:
        return
    word = command.name if first == command.name else command.alias
    segment.data["text"] = f"{starts[0]}{word}" + (f" {rest}" if rest else "")
