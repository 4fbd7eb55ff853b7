"""Who acts, and where: what a face resolves from its own identity before it calls a service.

The chat resolves the platform account a message came from and, in a group, the chat group; the web console
resolves the member signed in and the team a page is about. Services take these and find the member, their
rights and the team from them (storage.services.people.member_for and rights_of,
storage.services.organisation.team_at); no service takes a platform's ids one by one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChatAccount:
    """The platform account a chat command came from."""

    platform: str
    user_id: str
    name: str = ""

    @property
    def key(self) -> str:
        """How the audit log and the superusers setting name the account: platform:user_id."""
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class SignedInMember:
    """A member signed in on a face that knows them by member number (the web console)."""

    member_id: int
    name: str = ""

    @property
    def key(self) -> str:
        return f"member:{self.member_id}"


Actor = ChatAccount | SignedInMember


@dataclass(frozen=True)
class ChatGroup:
    """A group chat a command was sent in."""

    platform: str
    group_id: str

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.group_id}"


@dataclass(frozen=True)
class InTeam:
    """A team chosen outside any chat (a console page about one team)."""

    team_id: int


Where = ChatGroup | InTeam
"""Where a command is given, when it is given somewhere: None for a private chat or a page about no one team."""
