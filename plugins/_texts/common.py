"""Wording shared by every domain: who may do what, and the general refusals."""

from __future__ import annotations

from plugins._texts import add_refusals

REFUSALS = {}

add_refusals(REFUSALS)
