"""Insurance: /保险 for a member's own policy, and for officers to record and look up their members' policies;
the daily reminders before a policy runs out."""

from nonebot import get_driver, require
from nonebot.adapters import Bot
from nonebot.log import logger
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")
require("nonebot_plugin_apscheduler")

from nonebot_plugin_alconna import Args, At, Match, MultiVar
from nonebot_plugin_apscheduler import scheduler

from plugins._arguments import NumberOrMention
from plugins._common import CurrentPlace, command, finish, person_from, refuse_on_error
from plugins._texts.insurance import USAGE, text_for_member_policy, text_for_own_policy, text_for_recorded
from storage.services import insurance

__plugin_meta__ = PluginMetadata(
    name="保险",
    description="队员的意外保险：民警登记和查看，本人查看，到期前提醒",
    usage=USAGE,
)

insurance_command = command("保险", "insurance", Args["who?", NumberOrMention]["words", MultiVar(str, "*")])


@insurance_command.handle()
async def insurance_policy(bot: Bot, place: CurrentPlace, who: Match[At | int], words: Match[tuple[str, ...]]) -> None:
    given = list(words.result) if words.available else []
    if not who.available:
        if given:
            await finish(USAGE)
        await finish(text_for_own_policy(await refuse_on_error(insurance.my_policy(place.caller))))
    target = await person_from(bot, who.result, place)
    if target is None:
        await finish(USAGE)
    masked = place.in_group  # a policy number is shown whole to the officer in private only
    if not given:
        found = await refuse_on_error(insurance.policy_for_officer(place.caller, target))
        await finish(text_for_member_policy(found.member_id, found.policy, masked))
    if len(given) < 3:
        await finish(USAGE)
    insurer, policy_number, valid_until = given[0], given[1], " ".join(given[2:])
    recorded = await refuse_on_error(insurance.record_policy(place.caller, target, insurer, policy_number, valid_until))
    await finish(text_for_recorded(recorded, masked))


async def send_insurance_reminders() -> None:
    """At each reminder tick (`[reminders] tick_seconds`): from the configured time of day, today's reminders
    before policies run out (once a day; a tick after that finds the day's run made and does nothing)."""
    try:
        if queued := await insurance.send_expiry_reminders():
            logger.info(f"{queued} insurance reminder(s) queued")
    except Exception as error:
        logger.opt(exception=error).error("queuing the insurance reminders failed; will try again at the next tick")


REMINDER_TICK = int(getattr(get_driver().config, "yijing_reminder_tick_seconds", 30))
scheduler.add_job(
    send_insurance_reminders,
    "interval",
    seconds=REMINDER_TICK,
    id="yijing_insurance_reminders",
    replace_existing=True,
    misfire_grace_time=None,
)
