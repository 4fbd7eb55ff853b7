"""Proactive messages are queued as text rendered, when they are queued, by the face that owns the wording.

A service that tells people something (a task card for other groups, a cancellation, a reminder, a weekly board)
builds a notice: a frozen dataclass of facts. `render(notice)` turns it into the text of the outbox row, through
the renderer the chat face installs when it loads (`plugins/_texts`). Storage never holds the sentences.
"""

from __future__ import annotations

from collections.abc import Callable

Renderer = Callable[[object], str]

_renderer: Renderer | None = None


def use_renderer(renderer: Renderer) -> None:
    """Install the face's renderer (done once, when `plugins._texts` is imported)."""
    global _renderer
    _renderer = renderer


def render(notice: object) -> str:
    if _renderer is None:
        raise RuntimeError("no renderer for notices: import plugins._texts before queuing messages")
    return _renderer(notice)
