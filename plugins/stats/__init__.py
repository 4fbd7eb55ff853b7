"""Statistics and export: /统计 as text and a chart, /导出 as an XLSX file sent privately."""

import asyncio
import shutil
import uuid

from nonebot import require
from nonebot.adapters import Bot
from nonebot.log import logger
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, File, Image, Match, MultiVar, UniMessage

from plugins._common import CurrentPlace, command, finish, platform_of, refuse_on_error, shows_pictures
from plugins._images import stats_chart
from plugins._texts.export import SEND_FAILED, export_file, text_for_export
from plugins._texts.stats import text_for_report
from storage.errors import DomainError, quoted
from storage.services import export, stats
from storage.services.when import parse_date_range
from storage.settings import settings

STATS_USAGE = (
    "统计（民警；队长看本队）：/统计 [本周|上周|本月|上月|今年|时间段] [队伍|单位] [单位:名称]\n"
    "例如 /统计 上月 单位；/统计 11月1日至11月20日 队伍"
)
EXPORT_USAGE = "导出表格（民警；队长导出本队，私聊）：/导出 [本月|上月|今年|时间段] [单位:名称]，例如 /导出 上月"
EXPORT_IN_GROUP = "导出的表格里有队员的个人信息，只能私聊发给你：请私聊我发送 /导出"

__plugin_meta__ = PluginMetadata(
    name="统计与导出",
    description="巡逻人次、服务时长、任务、出勤缺勤率、线索、新队员、紧急呼叫响应，文字和图表；XLSX 私聊导出",
    usage="\n\n".join([STATS_USAGE, EXPORT_USAGE]),
)

stats_command = command("统计", "stats", Args["words", MultiVar(str, "*")])
export_command = command("导出", "export", Args["words", MultiVar(str, "*")])

SCOPES = {"队伍": "team", "本队": "team", "team": "team", "单位": "unit", "unit": "unit"}


def _parse(words: Match[tuple[str, ...]]) -> tuple[str, str, str | None]:
    scope, unit, period = "", None, []
    for word in words.result if words.available else ():
        if word in SCOPES:
            scope = SCOPES[word]
        elif word.startswith(("单位:", "单位：")):
            unit = word[3:].strip() or None
        else:
            period.append(word)
    return " ".join(period) or "本月", scope, unit


async def _period(text: str, usage: str):
    try:
        return parse_date_range(text)
    except DomainError:
        await finish(f"看不懂时间段“{quoted(text)}”。\n{usage}")


@stats_command.handle()
async def show_stats(bot: Bot, place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    period_text, scope, unit = _parse(words)
    period = await _period(period_text, STATS_USAGE)
    result = await refuse_on_error(stats.report(place.caller, place.group, period, scope, unit))
    message = UniMessage.text(text_for_report(result))
    if not shows_pictures(bot):
        await message.finish()
    try:
        chart = await asyncio.to_thread(stats_chart, result)
    except Exception as error:  # the figures still answer
        logger.opt(exception=error).error("could not draw the statistics chart")
    else:
        message += Image(raw=chart, mimetype="image/png")
    await message.finish()


@export_command.handle()
async def export_workbook(bot: Bot, place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    if place.in_group:
        await finish(EXPORT_IN_GROUP)
    period_text, _scope, unit = _parse(words)
    period = await _period(period_text, EXPORT_USAGE)
    made = await refuse_on_error(export.export_workbook(place.caller, None, period, unit))
    file = await asyncio.to_thread(export_file, made)
    folder = settings.data_dir / "exports" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file.file_name
    path.write_bytes(file.content)
    if platform_of(bot) == "console":  # the console is this machine: the file stays where it is
        await finish(text_for_export(made, file, path.resolve()))
    try:
        await UniMessage.text(text_for_export(made, file)).send()
        await UniMessage(File(path=path, name=file.file_name)).send()
    except Exception as error:
        logger.opt(exception=error).error("sending the export failed")
        await finish(SEND_FAILED)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # personal data is not kept once sent
