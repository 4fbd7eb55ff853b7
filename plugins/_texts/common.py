"""Wording shared by every domain: who may do what, and the general refusals."""

from __future__ import annotations

from plugins._texts import add_refusals

REFUSALS = {
    "common.not_registered": "你还没有登记：请先在队伍群里发送 /加入 姓名",
}

add_refusals(REFUSALS)
