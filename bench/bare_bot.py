"""The baseline: a bare NoneBot with the OneBot v11 adapter and one /ping handler, nothing else.

python bench/bare_bot.py PORT TOKEN
"""

import sys

import nonebot
from nonebot.adapters.onebot.v11 import Adapter, MessageSegment

nonebot.init(
    driver="~fastapi+~aiohttp",
    host="127.0.0.1",
    port=int(sys.argv[1]),
    onebot_access_token=sys.argv[2],
    command_start={"/"},
    log_level="WARNING",
)
nonebot.get_driver().register_adapter(Adapter)

ping = nonebot.on_command("ping")


@ping.handle()
async def pong() -> None:
    await ping.finish(MessageSegment.text("pong"))


nonebot.run()
