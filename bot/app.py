"""Starting the NoneBot process: drivers, adapters, plugins, the database and the hooks every event passes."""

from __future__ import annotations

import gc
import pkgutil
import re
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import nonebot
import nonebot.log as nonebot_log
import nonebot.message
from nonebot.adapters import Bot, Event
from nonebot.exception import IgnoredException
from nonebot.log import logger
from nonebot.matcher import Matcher
from nonebot.message import event_preprocessor, run_postprocessor
from nonebot.typing import T_DependencyCache

import plugins
from bot import chatter, early_answers, handled_exceptions, patching, sequential_checks, waiting
from bot.config import CONSOLE_USER, Settings
from plugins._commands import reading
from storage import db
from storage.demo import seed_demo
from storage.services.erasure import reapply_erasures
from storage.services.shop import offer_configured_rewards
from storage.settings import configure as configure_storage

if TYPE_CHECKING:
    from loguru import Record

CONSOLE_GROUP = "general"
"""nonechat's default channel: the demo team's group when trying the bot in the console."""

DIALOGUE_TIMEOUT_SECONDS = 300
"""How long a multi-step dialogue (such as /发布任务 step by step) waits for the next answer."""
TIP_COMMANDS = ("/线索", "／线索", "/tip", "/补充", "／补充", "/tipadd")
"""Commands whose text may be a tip: never logged."""
UNEXPECTED_ERROR_REPLY = "出错了，没有办成，请稍后再试。如果一直这样，请告诉民警。"
LOCATION_SEGMENTS = frozenset({"location", "json"})
"""Segments that may carry a shared location (OneBot location, NapCat's map card, Telegram location): a check-in
may be followed by one, so they pass the chatter filter."""
PLUGIN_DEPENDENCIES = (
    "nonebot_plugin_alconna",
    "nonebot_plugin_uninfo",
    "nonebot_plugin_apscheduler",
)


def superusers_of(settings: Settings) -> list[str]:
    superusers = list(settings.bot.superusers)
    if settings.console.enabled and settings.console.demo and CONSOLE_USER not in superusers:
        superusers.append(CONSOLE_USER)
    return superusers


def nonebot_options(settings: Settings) -> dict[str, Any]:
    """What nonebot.init() gets. The reverse WebSocket server runs only where OneBot is enabled."""
    driver = "~fastapi+~aiohttp" if settings.onebot.enabled else "~none+~aiohttp"
    return {
        "driver": driver,
        "host": settings.server.host,
        "port": settings.server.port,
        "log_level": settings.bot.log_level,
        "command_start": set(settings.bot.command_start),
        "command_sep": {"."},
        "superusers": set(superusers_of(settings)),
        "onebot_access_token": settings.onebot.access_token.get_secret_value() or None,
        "telegram_bots": [
            {
                "token": bot.token.get_secret_value(),
                "api_server": bot.api_server,
                **({"proxy": bot.proxy} if bot.proxy else {}),
            }
            for bot in settings.telegram.bots
        ]
        if settings.telegram.enabled
        else [],
        "alconna_use_command_start": True,
        # alconna caches parsed messages by message id alone, but ids repeat across chats (Telegram numbers them
        # per chat) and across QQ accounts: a cached parse would answer one person's command with another's.
        "alconna_cache_message": False,
        "apscheduler_config": {"apscheduler.timezone": settings.bot.timezone},
        "fastapi_reload": False,
        "session_expire_timeout": DIALOGUE_TIMEOUT_SECONDS,
        "yijing_outbox": settings.outbox.model_dump(),
        "yijing_reminder_tick_seconds": settings.reminders.tick_seconds,
        "yijing_escalation_tick_seconds": settings.emergency.check_seconds,
        "yijing_payout_tick_seconds": settings.tips.check_seconds,
        "yijing_limits": {platform: limits.model_dump() for platform, limits in settings.limits.items()},
    }


def secrets_of(settings: Settings) -> list[str]:
    values = [settings.onebot.access_token.get_secret_value()]
    values += [bot.token.get_secret_value() for bot in settings.telegram.bots]
    return [value for value in values if value]


PHONE_IN_TEXT = re.compile(r"(?<!\d)((?:\+?86[\s-]?)?1[3-9]\d)((?:[\s-]?\d){4})((?:[\s-]?\d){4})(?!\d)")
"""A mainland mobile number anywhere in a line, as people type it (13800138000, 138 0013 8000, +86-138-…)."""


def mask_phones(text: str) -> str:
    """Every phone number in the text with its middle four digits hidden: 138****8000."""
    return PHONE_IN_TEXT.sub(lambda found: f"{found.group(1)}****{found.group(3)}", text)


class RedactingStream:
    """A text stream that writes *** in place of every secret, and hides the middle of every phone number;
    NoneBot's log handler writes through it (NoneBot logs each message it handles, with its text)."""

    def __init__(self, stream: TextIO, secrets: list[str]) -> None:
        self._stream = stream
        self._secrets = [secret for secret in secrets if secret]

    def write(self, message: str) -> None:  # loguru's Writable, parameter name included
        for secret in self._secrets:
            message = message.replace(secret, "***")
        self._stream.write(mask_phones(message))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()


def install_log_redaction(settings: Settings) -> None:
    """NoneBot's log, minus what must not be written down.

    - Tokens: every secret from the configuration is written as *** (NoneBot logs its whole configuration at
      DEBUG, the Telegram adapter its API URLs).
    - Private messages, and tip commands typed in a group by mistake: NoneBot logs every event it receives with
      its text and sender; a tip's reporter must stay anonymous, so those lines are not written at all.
    NoneBot's own handler is replaced; the console adapter finds the new one by nonebot.log.logger_id.
    """
    stream = RedactingStream(sys.stdout, secrets_of(settings))

    def keep(record: Record) -> bool:
        if not nonebot_log.default_filter(record):
            return False
        if record["function"] != "handle_event":
            return True
        text = record["message"]
        return "[message.private" not in text and not any(command in text for command in TIP_COMMANDS)

    nonebot_log.logger.remove(nonebot_log.logger_id)
    nonebot_log.logger_id = nonebot_log.logger.add(
        stream,
        level=lowest_level(settings.bot.log_level),
        diagnose=False,
        filter=keep,
        format=nonebot_log.default_format,
    )


def lowest_level(name: str) -> int:
    """The number of the configured log level. Given to the handler (not only checked by NoneBot's filter), it lets
    loguru drop a record below it before building it: NoneBot logs every event it handles, and at DEBUG every
    step, which cost a command about 7 % of its CPU time when the lines were built only to be filtered out."""
    try:
        return nonebot_log.logger.level(name.upper()).no
    except ValueError:
        return int(name) if name.isdigit() else 0


def describe_telegram_segment(segment: Any) -> str:
    """A Telegram segment as nonebot-adapter-telegram means to describe it, with every value as text."""
    if segment.is_text():
        return segment.data.get("text", "")
    params = ", ".join(
        f"{key}=<file {value[0]}>"
        if isinstance(value, tuple)
        else f"{key}={'<bytes>' if isinstance(value, bytes) else value}"
        for key, value in segment.data.items()
        if value is not None
    )
    return f"[{segment.type}{':' if params else ''}{params}]"


def _telegram_segment() -> Any:
    from nonebot.adapters.telegram.message import MessageSegment

    return MessageSegment


def _describe_telegram_segments() -> None:
    _telegram_segment().__repr__ = describe_telegram_segment


TELEGRAM_SEGMENT_REPR = patching.Patch(
    "bot/app.py (Telegram segments described with numbers)",
    [
        # nonebot-adapter-telegram 0.1.0b20's MessageSegment.__repr__, the one that fails on numbers
        patching.source("Telegram MessageSegment.__repr__", lambda: _telegram_segment().__repr__, "c28a7d520e19"),
    ],
    _describe_telegram_segments,
    otherwise="segments are described as the adapter does (check that a shared location still reaches /签到)",
)


def fix_telegram_segment_repr() -> bool:
    """nonebot-adapter-telegram 0.1.0b20 fails to describe a segment whose data holds numbers (a shared location:
    latitude and longitude are floats); NoneBot describes every event it logs, so such a message would be lost
    before any handler saw it. Describe segments the way the adapter means to; False (nothing changed, a warning
    logged) where the adapter's own description is no longer that one."""
    return TELEGRAM_SEGMENT_REPR.install()


def register_adapters(settings: Settings) -> None:
    driver = nonebot.get_driver()
    if settings.onebot.enabled:
        from nonebot.adapters.onebot.v11 import Adapter as OneBotAdapter

        driver.register_adapter(OneBotAdapter)
    if settings.telegram.enabled:
        from nonebot.adapters.telegram import Adapter as TelegramAdapter

        fix_telegram_segment_repr()
        driver.register_adapter(TelegramAdapter)
    if settings.console.enabled:
        from nonebot.adapters.console import Adapter as ConsoleAdapter

        from bot import console_quit

        console_quit.install()
        driver.register_adapter(ConsoleAdapter)


def load_plugins() -> None:
    """Every module in plugins/ is a plugin, except helpers whose names start with an underscore."""
    for dependency in PLUGIN_DEPENDENCIES:
        nonebot.require(dependency)
    for module in sorted(pkgutil.iter_modules(plugins.__path__), key=lambda module: module.name):
        if not module.name.startswith("_"):
            nonebot.load_plugin(f"plugins.{module.name}")


def strip_command_mention(bot: Bot, event: Event) -> None:
    """Telegram writes a command picked from the menu in a group as /join@botname: make it /join."""
    username = getattr(bot, "username", None)
    if not username:
        return
    message = event.get_message()
    if not message or message[0].type != "bot_command":
        return
    command = message[0].data.get("text", "")
    suffix = f"@{username}"
    if command.lower().endswith(suffix.lower()):
        message[0].data["text"] = command[: -len(suffix)]


def install_hooks(command_start: list[str]) -> bool:
    """Hooks every event passes: drop group chatter early, and never let an unexpected error go unanswered. Whether
    chatter is dropped before NoneBot's pre-processors (bot/chatter.py) or, where that patch is refused, by one; the
    error is answered when the matcher's run failed, or, where that patch is refused, by a run post-processor."""
    from plugins._common import dialogue_is_open  # plugin code can only be imported once NoneBot is initialised

    starts = tuple(command_start)

    def is_chatter(bot: Bot, event: Event) -> bool:
        """A message that is neither a command, nor addressed to the bot, nor an answer in an open dialogue."""
        if event.get_type() != "message":
            return False
        if event.is_tome() or dialogue_is_open(event.get_session_id()):
            return False
        if event.get_plaintext().lstrip().startswith(starts):
            return False
        return not any(segment.type in LOCATION_SEGMENTS for segment in event.get_message())

    dropped_early = chatter.install(is_chatter)

    # A pre-processor of its own (a task group per event). It also reads a message as the command its sender meant
    # (plugins/_commands/reading.py), and holds an answer that came before its dialogue's next step listens
    # (bot/early_answers.py): NoneBot registers that step only once the step before has run to its end.
    @event_preprocessor
    async def prepare_message(bot: Bot, event: Event) -> None:
        if event.get_type() != "message":
            return
        strip_command_mention(bot, event)
        if not dropped_early and is_chatter(bot, event):
            raise IgnoredException("not a command")
        reading.read_as_command(event, starts, dialogue_is_open)
        await early_answers.hold_until_listening(event, dialogue_is_open)

    if not ERRORS_ANSWERED_AFTER_RUNS.install():

        @run_postprocessor
        async def answer_after_run(bot: Bot, event: Event, matcher: Matcher, exception: Exception | None) -> None:
            if exception is not None:
                await answer_unexpected_error(bot, event)

    return dropped_early


async def answer_unexpected_error(bot: Bot, event: Event) -> None:
    from nonebot_plugin_alconna import UniMessage

    try:
        await UniMessage.text(UNEXPECTED_ERROR_REPLY).send(target=event, bot=bot)
    except Exception as error:
        logger.warning(f"could not tell the user about an error: {error!r}")


def _answer_errors_after_runs() -> None:
    """A matcher's run that failed is answered before NoneBot's run post-processors (there are none here): as a
    post-processor of its own, the answer had cost every command a task group, a task and its four parameters."""
    original = nonebot.message._apply_run_postprocessors

    async def apply_run_postprocessors(
        bot: Bot,
        event: Event,
        matcher: Matcher,
        exception: Exception | None = None,
        stack: AsyncExitStack | None = None,
        dependency_cache: T_DependencyCache | None = None,
    ) -> None:
        if exception is not None:
            await answer_unexpected_error(bot, event)
        await original(bot, event, matcher, exception, stack, dependency_cache)

    nonebot.message._apply_run_postprocessors = apply_run_postprocessors


ERRORS_ANSWERED_AFTER_RUNS = patching.Patch(
    "bot/app.py (an unexpected error answered once the matcher's run failed)",
    [
        patching.parameters(
            "nonebot.message._apply_run_postprocessors",
            lambda: nonebot.message._apply_run_postprocessors,
            ["bot", "event", "matcher", "exception", "stack", "dependency_cache"],
        ),
    ],
    _answer_errors_after_runs,
    otherwise="it is answered by a run post-processor, which NoneBot runs in a task group after every command",
)


def install_lifecycle(settings: Settings) -> None:
    driver = nonebot.get_driver()

    @driver.on_startup
    async def open_storage() -> None:
        configure_storage(superusers=superusers_of(settings), **settings.domain_settings())
        await db.open_database(settings.database.url)
        await offer_configured_rewards()
        reapplied = await reapply_erasures()
        if reapplied.erased:
            logger.warning(f"{len(reapplied.erased)} erased member(s) a restored database held were erased again")
        if settings.console.enabled and settings.console.demo:
            platform, _, user_id = CONSOLE_USER.partition(":")
            if await seed_demo(platform, user_id, CONSOLE_GROUP):
                logger.info("demo data seeded: you are an administrator and officer; this chat is 夕阳红巡逻队's group")
        settle_memory()

    @driver.on_shutdown
    async def close_storage() -> None:
        await db.close_database()


GC_THRESHOLDS = (5_000, 20, 50)
"""Collect the young generation after 5,000 new objects instead of 700, and the whole heap a fifth as often: an
event's short-lived cycles (exceptions NoneBot raises to end handlers, task groups) are still collected young."""


def settle_memory() -> None:
    """Once started: what start-up built (some 200,000 objects: modules, models, matchers) lives as long as the
    process, so the garbage collector stops looking at it. Each full collection had walked all of it again,
    about 200 ms with the event loop stopped, several times a minute under load."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def setup(settings: Settings) -> None:
    """Initialise NoneBot for these settings; after this, nonebot.run() starts the bot."""
    install_log_redaction(settings)
    nonebot.init(**nonebot_options(settings))
    register_adapters(settings)
    load_plugins()
    if settings.onebot.enabled:
        from bot import client_files, onebot_sender

        onebot_sender.install()
        client_files.install(Path(settings.bot.data_dir))
    install_hooks(settings.bot.command_start)
    waiting.install()
    sequential_checks.install()
    handled_exceptions.install()
    install_lifecycle(settings)
    logger.info(
        f"义警助手 starting from {settings.source}: platforms {', '.join(settings.enabled_platforms()) or 'none'}, "
        f"database {db.describe_url(settings.database.url)}"
    )
