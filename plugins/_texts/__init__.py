"""The chat face's wording: every sentence a user reads in chat, beside the facts the services return.

Each domain has a module here (`tasks`, `tips`, ...) with
- `REFUSALS`: refusal code → message, either a `str.format` template over the error's params or a function of
  them; a refusal still says what to type instead;
- presenters: functions from a service's typed result to the text of a reply;
- notice renderers: `@render_notice.register` functions from a notice dataclass (storage/services/notices.py) to
  the text queued in the outbox; `@render_picture.register` ones for a notice sent with a picture, to the
  description plugins/_images.py draws it from (with the words on it).

Importing this package installs `render_notice` and `render_picture` as the renderers services queue their notices
through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import singledispatch
from typing import Any

from nonebot.log import logger

from storage.errors import DomainError
from storage.services import notices

Refusal = str | Callable[..., str]

UNKNOWN_REFUSAL = "这一步没有办成，什么也没有改。请稍后再试，或发送 /帮助 看看用法。"


@singledispatch
def render_notice(notice: object) -> str:
    raise TypeError(f"no chat wording for {type(notice).__name__}")


@singledispatch
def render_picture(notice: object) -> dict[str, Any]:
    raise TypeError(f"no picture for {type(notice).__name__}")


_refusals: dict[str, Refusal] = {}


def add_refusals(refusals: Mapping[str, Refusal]) -> None:
    """A domain module's refusals join the table; a code is worded once."""
    for code in refusals:
        if code in _refusals:
            raise ValueError(f"refusal {code} is worded twice")
    _refusals.update(refusals)


def refusal_codes() -> frozenset[str]:
    return frozenset(_refusals)


_group_refusals: dict[str, Refusal] = {}


def add_group_refusals(refusals: Mapping[str, Refusal]) -> None:
    """Refusals worded again for a group chat, where the one the caller reads in private would tell everyone in it
    something personal (why the caller was suspended); a face passes `in_group` to choose."""
    for code in refusals:
        if code not in _refusals or code in _group_refusals:
            raise ValueError(f"refusal {code} for groups: worded twice, or not worded for private chat")
    _group_refusals.update(refusals)


def refusal(error: DomainError, *, in_group: bool = False) -> str:
    """What the user reads when a service refuses (in a group, a refusal worded for groups when there is one)."""
    wording = (_group_refusals.get(error.code) if in_group else None) or _refusals.get(error.code)
    if wording is None:
        logger.error(f"no chat wording for refusal {error.code} {error.params}")
        return UNKNOWN_REFUSAL
    try:
        return wording.format(**error.params) if isinstance(wording, str) else wording(**error.params)
    except (KeyError, IndexError, TypeError) as problem:
        logger.error(f"refusal {error.code} {error.params} could not be worded: {problem!r}")
        return UNKNOWN_REFUSAL


notices.use_renderer(render_notice)
notices.use_picture_renderer(render_picture)

# The domains' wording; each module adds its refusals and registers its notice renderers when imported.
from plugins._texts import (
    emergency,  # noqa: F401
    export,  # noqa: F401
    insurance,  # noqa: F401
    lifecycle,  # noqa: F401
    member_files,  # noqa: F401
    membership,  # noqa: F401
    organisation,  # noqa: F401
    own_data,  # noqa: F401
    recruiting,  # noqa: F401
    reminders,  # noqa: F401
    roster,  # noqa: F401
    shop,  # noqa: F401
    standings,  # noqa: F401
    stats,  # noqa: F401
    study,  # noqa: F401
    tasks,  # noqa: F401
    tips,  # noqa: F401
    training,  # noqa: F401
    training_reminders,  # noqa: F401
    when,  # noqa: F401
)
