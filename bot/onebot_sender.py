"""Who sent a QQ group message, read from the message: without asking NapCat twice for each new sender.

nonebot-plugin-uninfo describes a OneBot v11 group message's sender by calling `get_group_info` and
`get_group_member_info` for each new (group, member) pair, and keeps the answer five minutes. At the evening peak
each check-in comes from someone who has not written in that group for hours, so every command waited for two
round trips to the QQ client, about a tenth of its CPU (`bench/command_load.py`). The bot uses only the sender's
name in the group, their account and the group's number, and the message event carries all three: the sender's
group card and nickname. What the calls would have added (the group's name, when the member joined, their gender)
is left empty. Everything else about uninfo is unchanged: other events, private messages, and explicit lookups such
as an @-mentioned member's name still ask the QQ client.

This is the one place that knows OneBot's event fields for identity; plugins still ask uninfo.
"""

# No `from __future__ import annotations` here: uninfo reads the event type from the supplier's annotations.
from typing import Any

from nonebot.adapters.onebot.v11 import Bot, GroupMessageEvent

from bot import patching


async def sender_of_group_message(bot: Bot, event: GroupMessageEvent) -> dict[str, Any]:
    """What uninfo's own supplier returns for a group message, from the event alone."""
    return {
        "group_id": str(event.group_id),
        "group_name": None,
        "user_id": str(event.user_id),
        "name": event.sender.nickname,
        "nickname": event.sender.card,
        "card": event.sender.card,
        "role": event.sender.role,
        "join_time": None,
        "gender": event.sender.sex or "unknown",
    }


def fetcher() -> Any:
    """uninfo's OneBot v11 fetcher (uninfo must be loaded first)."""
    from nonebot_plugin_uninfo.adapters.onebot11 import Loader

    return Loader().get_fetcher()


def apply() -> None:
    fetcher().supply(sender_of_group_message)


PATCH = patching.Patch(
    "bot/onebot_sender.py (a QQ group message's sender read from the message)",
    [
        patching.parameters("uninfo's OneBot v11 fetcher.supply", lambda: fetcher().supply, ["func"]),
        patching.attributes("uninfo's OneBot v11 fetcher", fetcher, ["endpoint"]),
    ],
    apply,
    otherwise="uninfo asks the QQ client about each new sender, as it does without this",
)


def install() -> bool:
    """Read group senders from the message; False (nothing changed, a warning logged) on an uninfo that differs."""
    return PATCH.install()
