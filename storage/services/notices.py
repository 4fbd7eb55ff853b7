"""Proactive messages are queued as text rendered, when they are queued, by the face that owns the wording.

A service that tells people something (a task card for other groups, a cancellation, a reminder, a weekly board)
builds a notice: a frozen dataclass of facts. `render(notice)` turns it into the text of the outbox row, through
the renderer the chat face installs when it loads (`plugins/_texts`). Storage never holds the sentences.
A notice sent with a picture (the monthly 义警之星 certificate) also gets, from `picture(notice)`, the description
of that picture with the words the face puts on it (drawn when it is sent, by plugins/_images.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Renderer = Callable[[object], str]
PictureRenderer = Callable[[object], dict[str, Any]]

_renderer: Renderer | None = None
_picture_renderer: PictureRenderer | None = None


def use_renderer(renderer: Renderer) -> None:
    """Install the face's renderer (done once, when `plugins._texts` is imported)."""
    global _renderer
    _renderer = renderer


def use_picture_renderer(renderer: PictureRenderer) -> None:
    """Install the face's picture renderer (done with `use_renderer`)."""
    global _picture_renderer
    _picture_renderer = renderer


def render(notice: object) -> str:
    if _renderer is None:
        raise RuntimeError("no renderer for notices: import plugins._texts before queuing messages")
    return _renderer(notice)


def picture(notice: object) -> dict[str, Any]:
    """The description of the picture a notice is sent with (an outbox row's `image`)."""
    if _picture_renderer is None:
        raise RuntimeError("no renderer for notices: import plugins._texts before queuing messages")
    return _picture_renderer(notice)
