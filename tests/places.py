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
