"""The tables. Every time is stored in UTC; the configured time zone only applies when showing or parsing."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _time_column(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_column_kwargs=kwargs, sa_type=DateTime(timezone=True))


class MemberStatus(str, Enum):
    applied = "applied"
    active = "active"
    suspended = "suspended"
    left = "left"


class MembershipStatus(str, Enum):
    applied = "applied"
    active = "active"
    rejected = "rejected"
    left = "left"


class RoleKind(str, Enum):
    admin = "admin"
    officer = "officer"
    leader = "leader"


class Unit(SQLModel, table=True):
    """A police unit; units form a tree (city bureau → branch → station → workstation)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    path: str = Field(max_length=512, unique=True, description="names from the root, joined by '/'")
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    created_at: datetime = _time_column()


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("unit_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    created_at: datetime = _time_column()


class GroupBinding(SQLModel, table=True):
    """A group chat on one platform that belongs to a team."""

    __table_args__ = (UniqueConstraint("platform", "group_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    group_id: str = Field(max_length=64)
    team_id: int = Field(foreign_key="team.id", index=True)
    bound_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _time_column()


class Member(SQLModel, table=True):
    """A person. The id is the short member number people use in commands."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    phone: str | None = Field(default=None, max_length=20, unique=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=MemberStatus.applied.value, max_length=16)
    created_at: datetime = _time_column()


class PlatformIdentity(SQLModel, table=True):
    """One platform account of a member (a person may reach the bot from several platforms)."""

    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    member_id: int = Field(foreign_key="member.id", index=True)
    created_at: datetime = _time_column()


class TeamMembership(SQLModel, table=True):
    """A member's place in a team; while applied, its id is the application number."""

    __table_args__ = (UniqueConstraint("team_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    status: str = Field(default=MembershipStatus.applied.value, max_length=16)
    applied_at: datetime = _time_column()
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    decided_by: int | None = Field(default=None, foreign_key="member.id")
    reason: str | None = Field(default=None, max_length=200)
    applied_platform: str | None = Field(default=None, max_length=16)
    applied_group_id: str | None = Field(default=None, max_length=64)


class Role(SQLModel, table=True):
    """A right: administrator (scope 0), officer of a unit (scope = unit id), leader of a team (scope = team id)."""

    __table_args__ = (UniqueConstraint("member_id", "kind", "scope_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    kind: str = Field(max_length=16)
    scope_id: int = Field(default=0)
    granted_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _time_column()


class AuditLog(SQLModel, table=True):
    """Every officer or administrator action."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time_column(index=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    actor: str = Field(max_length=100, description="platform:user_id, or cli")
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
