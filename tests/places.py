"""Where the tests' service calls are made: a group chat by its id, as the chat face resolves it."""

from __future__ import annotations

from typing import overload

from storage.services.actors import ChatGroup


@overload
def in_group(group_id: str | int, platform: str = "onebot") -> ChatGroup: ...
@overload
def in_group(group_id: None, platform: str = "onebot") -> None: ...
def in_group(group_id: str | int | None, platform: str = "onebot") -> ChatGroup | None:
    """The group chat with this id (None for a private chat), on OneBot unless another platform is named."""
    return ChatGroup(platform, str(group_id)) if group_id is not None else None


DIGITS = "零一二三四五六七八九"


def volunteer_name(number: int) -> str:
    """A test volunteer's name: 队员一, 队员十二 (a person's name holds no digits)."""
    tens, ones = divmod(number, 10)
    if number < 10:
        return f"队员{DIGITS[number]}"
    if number >= 100:
        raise ValueError("tests name at most 99 volunteers")
    return f"队员{'' if tens == 1 else DIGITS[tens]}十{DIGITS[ones] if ones else ''}"
