"""Reminders before qualifications run out: to the member some days before (with the course to retake), and on
the first of a month the list to each unit's officers of what runs out next month."""

from nonebot import get_driver, require
from nonebot.log import logger
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_apscheduler")

from nonebot_plugin_apscheduler import scheduler

import plugins._texts  # noqa: F401  (the notices' wording)
from storage.services.training import reminders

__plugin_meta__ = PluginMetadata(
    name="资质到期提醒",
    description="资质到期前私聊提醒本人复训；每月1日把下月到期的资质名单私聊发给单位民警",
    usage="",
)


async def send_training_reminders() -> None:
    """At each reminder tick (`[reminders] tick_seconds`): from `[training] reminder_time`, today's reminders to
    members and, on the first of a month, the officers' lists (each once; a later tick finds the run made)."""
    try:
        if queued := await reminders.send_expiry_reminders():
            logger.info(f"{queued} qualification reminder(s) queued")
    except Exception as error:
        logger.opt(exception=error).error("queuing the qualification reminders failed; will try again at the next tick")
    try:
        if queued := await reminders.send_monthly_lists():
            logger.info(f"{queued} monthly list(s) of expiring qualifications queued")
    except Exception as error:
        logger.opt(exception=error).error("queuing the monthly qualification lists failed; will try at the next tick")


REMINDER_TICK = int(getattr(get_driver().config, "yijing_reminder_tick_seconds", 30))
scheduler.add_job(
    send_training_reminders,
    "interval",
    seconds=REMINDER_TICK,
    id="yijing_training_reminders",
    replace_existing=True,
    misfire_grace_time=None,
)
