"""Domain settings the services read; the bot sets them once at start-up from the configuration file."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


@dataclass
class DomainSettings:
    superusers: frozenset[str] = field(default_factory=frozenset)
    """Administrators as "platform:user_id"."""
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))


settings = DomainSettings()


def configure(*, superusers: list[str] | None = None, timezone: str | None = None) -> DomainSettings:
    if superusers is not None:
        settings.superusers = frozenset(superusers)
    if timezone is not None:
        settings.timezone = ZoneInfo(timezone)
    return settings
