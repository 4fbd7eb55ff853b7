"""The configuration: one TOML file, every key overridable by an environment variable.

An environment variable YIJING_<SECTION>__<KEY> overrides [section] key, e.g. YIJING_DATABASE__URL or
YIJING_ONEBOT__ACCESS_TOKEN. Lists and tables are written as JSON: YIJING_BOT__SUPERUSERS='["onebot:10001"]',
YIJING_TELEGRAM__BOTS='[{"token": "123:ABC"}]'. Booleans as true/false.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomllib
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from storage.settings import STAGES_AVAILABLE

ENV_PREFIX = "YIJING_"
PLATFORMS = ("onebot", "telegram", "console")
CONSOLE_USER = "console:user"
"""The account of the person typing in the console adapter (its user id is "user")."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BotSection(Section):
    superusers: list[str] = Field(default_factory=list)
    timezone: str = "Asia/Shanghai"
    command_start: list[str] = Field(default_factory=lambda: ["/", "／"])
    log_level: str = "INFO"
    data_dir: str = "data"

    @field_validator("superusers")
    @classmethod
    def _platform_and_user(cls, value: list[str]) -> list[str]:
        for entry in value:
            platform, _, user_id = entry.partition(":")
            if platform not in PLATFORMS or not user_id:
                raise ValueError(f"superuser {entry!r} must be platform:user_id with platform one of {PLATFORMS}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value


class ServerSection(Section):
    host: str = "127.0.0.1"
    port: int = 8080


class DatabaseSection(Section):
    url: str = "sqlite+aiosqlite:///data/yijing.db"
    echo: bool = False


class OneBotSection(Section):
    enabled: bool = True
    access_token: SecretStr = SecretStr("")


class TelegramBot(Section):
    token: SecretStr
    api_server: str = "https://api.telegram.org/"
    proxy: str | None = None

    @field_validator("api_server")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"


class TelegramSection(Section):
    enabled: bool = False
    bots: list[TelegramBot] = Field(default_factory=list)


class ConsoleSection(Section):
    enabled: bool = False
    demo: bool = True


class TasksSection(Section):
    checkin_opens_before_minutes: int = Field(default=30, ge=0, le=24 * 60)
    close_after_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)


WEEKDAY_NAMES = "一二三四五六日"


class PointsSection(Section):
    per_hour: int = Field(default=0, ge=0, le=1000)
    no_show_penalty: int = Field(default=0, ge=0, le=1000)
    daily_cap: int = Field(default=0, ge=0, le=1_000_000)
    monthly_cap: int = Field(default=0, ge=0, le=1_000_000)
    allow_overdraft: bool = False
    weekly_board: str = "周一 09:00"
    honours_time: str = "09:00"

    @field_validator("weekly_board")
    @classmethod
    def _weekly(cls, value: str) -> str:
        if value.strip():
            parse_weekly(value)
        return value

    @field_validator("honours_time")
    @classmethod
    def _honours(cls, value: str) -> str:
        if value.strip():
            parse_clock(value)
        return value


def parse_clock(text: str) -> tuple[int, int]:
    hour, _, minute = text.strip().partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError(f"write a time of day such as 09:00, not {text!r}")
    return int(hour), int(minute)


def parse_weekly(text: str) -> tuple[int, int, int]:
    day, _, clock = text.strip().partition(" ")
    day = day.removeprefix("周").removeprefix("星期")
    if len(day) != 1 or day not in WEEKDAY_NAMES + "天":
        raise ValueError(f"write a weekday and a time such as 周一 09:00, not {text!r}")
    return (WEEKDAY_NAMES.index(day) if day != "天" else 6), *parse_clock(clock.strip())


class Reward(Section):
    name: str = Field(min_length=1, max_length=40)
    cost: int = Field(ge=1, le=100_000)
    stock: int | None = Field(default=None, ge=0)
    per_member: int | None = Field(default=None, ge=1)


class ShopSection(Section):
    rewards: list[Reward] = Field(default_factory=list)


class TipsSection(Section):
    default_points: int = Field(default=10, ge=0, le=1000)
    points: dict[str, int] = Field(default_factory=lambda: {"赌博": 20, "毒品": 30, "诈骗": 20})
    anonymous_payout: str = "周一 10:00"
    anonymous_min_reporters: int = Field(default=3, ge=1, le=100)
    check_seconds: int = Field(default=60, ge=1, le=3600)

    @field_validator("anonymous_payout")
    @classmethod
    def _weekly(cls, value: str) -> str:
        parse_weekly(value)
        return value


class EmergencySection(Section):
    escalate_after_minutes: float = Field(default=5, gt=0, le=24 * 60)
    check_seconds: int = Field(default=20, ge=1, le=600)


class RemindersSection(Section):
    before_start_minutes: list[int] = Field(default_factory=lambda: [24 * 60, 60])
    at_checkin_open: bool = True
    deadline_notice_before_minutes: int = Field(default=120, ge=0)
    tick_seconds: int = Field(default=30, ge=1, le=3600)


class MembersSection(Section):
    ask_id_number: bool = False
    consent_text: str = ""
    """Empty: the bot's own text (plugins/_texts/recruiting.py DEFAULT_CONSENT_TEXT, also in config.example.toml)."""
    stages: list[str] = Field(default_factory=list)
    onboarding_course: str = Field(default="", max_length=30)
    """With the stage "trained": the course an applicant completes before approval, by its name."""
    invite_days: int = Field(default=7, ge=1, le=366)
    invite_places: int = Field(default=30, ge=0, le=100_000)
    tell_vetting_note: bool = False
    required_tags_from: Literal["declared", "verified", "qualified"] = "declared"
    export_full_personal_data: bool = False
    require_insurance: bool = False
    insurance_reminder_days: list[int] = Field(default_factory=lambda: [30, 7])
    insurance_reminder_time: str = "09:00"

    @field_validator("insurance_reminder_days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(not 1 <= days <= 366 for days in value):
            raise ValueError("write days before the end of a policy between 1 and 366, such as [30, 7]")
        return value

    @field_validator("insurance_reminder_time")
    @classmethod
    def _time(cls, value: str) -> str:
        if value.strip():
            parse_clock(value)
        return value

    @field_validator("stages")
    @classmethod
    def _available(cls, value: list[str]) -> list[str]:
        for stage in value:
            if stage not in STAGES_AVAILABLE:
                raise ValueError(f"unknown stage {stage!r}: write one of {list(STAGES_AVAILABLE)}")
        return value

    @model_validator(mode="after")
    def _onboarding_course_named(self) -> MembersSection:
        if "trained" in self.stages and not self.onboarding_course.strip():
            raise ValueError(
                'stage "trained" needs onboarding_course: the name of the course applicants complete before '
                'approval, such as onboarding_course = "新队员培训"'
            )
        return self


class TrainingSection(Section):
    pass_mark: int = Field(default=80, ge=1, le=100)
    retry_after_hours: float = Field(default=24, ge=0, le=24 * 366)
    reminder_days: list[int] = Field(default_factory=lambda: [30])
    reminder_time: str = "09:00"

    @field_validator("reminder_days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(not 1 <= days <= 366 for days in value):
            raise ValueError("write days before a qualification runs out between 1 and 366, such as [30]")
        return value

    @field_validator("reminder_time")
    @classmethod
    def _time(cls, value: str) -> str:
        if value.strip():
            parse_clock(value)
        return value


class OutboxSection(Section):
    batch_size: int = Field(default=100, ge=1, le=5000)
    lookahead_seconds: float = Field(default=10, gt=0, le=600)
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    lease_seconds: float = Field(default=60, ge=1, le=3600)


class PlatformLimits(Section):
    per_second: float = Field(gt=0)
    group_per_minute: int = Field(gt=0)
    private_per_second: float = Field(gt=0)
    jitter_ms: int = Field(default=0, ge=0, le=10_000)


def _default_limits() -> dict[str, PlatformLimits]:
    return {
        "onebot": PlatformLimits(per_second=1, group_per_minute=20, private_per_second=1, jitter_ms=500),
        "telegram": PlatformLimits(per_second=30, group_per_minute=20, private_per_second=1),
    }


class Settings(Section):
    bot: BotSection = Field(default_factory=BotSection)
    server: ServerSection = Field(default_factory=ServerSection)
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    onebot: OneBotSection = Field(default_factory=OneBotSection)
    telegram: TelegramSection = Field(default_factory=TelegramSection)
    console: ConsoleSection = Field(default_factory=ConsoleSection)
    tasks: TasksSection = Field(default_factory=TasksSection)
    points: PointsSection = Field(default_factory=PointsSection)
    shop: ShopSection = Field(default_factory=ShopSection)
    reminders: RemindersSection = Field(default_factory=RemindersSection)
    tips: TipsSection = Field(default_factory=TipsSection)
    emergency: EmergencySection = Field(default_factory=EmergencySection)
    members: MembersSection = Field(default_factory=MembersSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    outbox: OutboxSection = Field(default_factory=OutboxSection)
    limits: dict[str, PlatformLimits] = Field(default_factory=_default_limits)
    source: str = Field(default="", exclude=True)
    """Where the settings came from (the file, or the embedded default)."""

    def enabled_platforms(self) -> list[str]:
        return [name for name in PLATFORMS if getattr(self, name).enabled]

    def domain_settings(self) -> dict[str, Any]:
        """What storage.settings.configure() takes from this file."""
        return {
            "timezone": self.bot.timezone,
            "checkin_opens_before_minutes": self.tasks.checkin_opens_before_minutes,
            "close_after_minutes": self.tasks.close_after_minutes,
            "points_per_hour": self.points.per_hour,
            "no_show_penalty": self.points.no_show_penalty,
            "reminders_before_minutes": self.reminders.before_start_minutes,
            "remind_at_checkin_open": self.reminders.at_checkin_open,
            "deadline_notice_before_minutes": self.reminders.deadline_notice_before_minutes,
            "data_dir": self.bot.data_dir,
            "tip_points": self.tips.points,
            "tip_points_default": self.tips.default_points,
            "anonymous_payout_at": parse_weekly(self.tips.anonymous_payout),
            "anonymous_min_reporters": self.tips.anonymous_min_reporters,
            "alert_escalate_after_minutes": self.emergency.escalate_after_minutes,
            "daily_cap": self.points.daily_cap,
            "monthly_cap": self.points.monthly_cap,
            "allow_overdraft": self.points.allow_overdraft,
            "weekly_board_at": parse_weekly(self.points.weekly_board) if self.points.weekly_board.strip() else None,
            "honours_at": parse_clock(self.points.honours_time) if self.points.honours_time.strip() else None,
            "rewards": [reward.model_dump() for reward in self.shop.rewards],
            "require_insurance": self.members.require_insurance,
            "insurance_reminder_days": self.members.insurance_reminder_days,
            "insurance_reminder_at": (
                parse_clock(self.members.insurance_reminder_time)
                if self.members.insurance_reminder_time.strip()
                else None
            ),
            "required_tags_from": self.members.required_tags_from,
            "export_full_personal_data": self.members.export_full_personal_data,
            "ask_id_number": self.members.ask_id_number,
            "consent_text": self.members.consent_text,
            "stages": self.members.stages,
            "onboarding_course": self.members.onboarding_course,
            "invite_valid_days": self.members.invite_days,
            "invite_places": self.members.invite_places,
            "vetting_note_to_applicant": self.members.tell_vetting_note,
            "pass_mark": self.training.pass_mark,
            "quiz_retry_after_hours": self.training.retry_after_hours,
            "qualification_reminder_days": self.training.reminder_days,
            "training_reminder_at": (
                parse_clock(self.training.reminder_time) if self.training.reminder_time.strip() else None
            ),
        }


EXAMPLE_ACCESS_TOKEN = "change-me"
"""config.example.toml's [onebot] access_token: anyone who has read the example could connect as the QQ client."""
EXAMPLE_TELEGRAM_TOKEN = "123456:ABC-your-bot-token"
"""config.example.toml's Telegram token: no bot logs in with it."""
EXAMPLE_SUPERUSERS = ("onebot:10001", "telegram:123456")
"""config.example.toml's administrators: whoever has these accounts would run the bot."""


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach a server listening on `host`."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def placeholder_tokens(settings: Settings) -> list[str]:
    """Why the bot must not start with these settings: a platform enabled with the example's placeholder token.
    One plain sentence per key, saying what to write there instead (empty when nothing is wrong)."""
    problems: list[str] = []
    if settings.onebot.enabled and settings.onebot.access_token.get_secret_value() == EXAMPLE_ACCESS_TOKEN:
        problems.append(
            f'[onebot] access_token 还是示例里的 "{EXAMPLE_ACCESS_TOKEN}"，看过示例的人都能冒充 QQ 客户端连上机器人。'
            "请在配置文件里改成一串只有你知道的字符（NapCat / Lagrange 里填同一串）；"
            "不用 QQ 就写 [onebot] enabled = false。"
        )
    if settings.telegram.enabled:
        for number, bot in enumerate(settings.telegram.bots, start=1):
            if bot.token.get_secret_value() == EXAMPLE_TELEGRAM_TOKEN:
                problems.append(
                    f'[telegram] bots 第 {number} 个的 token 还是示例里的 "{EXAMPLE_TELEGRAM_TOKEN}"。'
                    "请换成 @BotFather 给你的 token；不用 Telegram 就写 [telegram] enabled = false。"
                )
    return problems


def setup_warnings(settings: Settings) -> list[str]:
    """What the bot starts with but the log should say plainly: a OneBot server open beyond this machine without a
    token, and the example's administrators left in."""
    warnings: list[str] = []
    if settings.onebot.enabled and not settings.onebot.access_token.get_secret_value():
        if not is_loopback(settings.server.host):
            warnings.append(
                f'[server] host = "{settings.server.host}"，别的机器也连得上，但 [onebot] access_token 是空的：'
                "谁都能冒充 QQ 客户端连上机器人。请设一个 access_token（NapCat / Lagrange 里填同一串）。"
            )
    for account in settings.bot.superusers:
        if account in EXAMPLE_SUPERUSERS:
            warnings.append(
                f"[bot] superusers 里的 {account} 是示例里的账号：用这个账号的人会是机器人的管理员。"
                "请换成你自己的账号（私聊机器人发 /我的 就能看到），或者删掉它。"
            )
    return warnings


EMBEDDED_DEFAULT: dict[str, Any] = {"console": {"enabled": True, "demo": True}, "onebot": {"enabled": False}}
"""Without a configuration file: SQLite under ./data, the console adapter with demo data, nothing listening."""


class ConfigError(Exception):
    pass


def _environment_overrides(environ: dict[str, str]) -> dict[str, dict[str, Any]]:
    overrides: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if section not in Settings.model_fields or section == "source":
            continue
        overrides.setdefault(section, {})[key] = _env_value(raw)
    return overrides


def _env_value(raw: str) -> Any:
    text = raw.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"environment value {text[:20]!r}… is not valid JSON: {error}") from error
    return raw


DEFAULT_CONFIG_FILE = "config.toml"
"""Read when neither --config nor BOT_CONFIG names a file; without it the bot starts on the embedded default."""


def load_settings(path: str | os.PathLike[str] | None, environ: dict[str, str] | None = None) -> Settings:
    """Settings from the TOML file at `path`, then the environment.

    `path` None means no file was named: ./config.toml if there is one, else the embedded default (the demo). A
    file that was named must exist: a mistyped --config or BOT_CONFIG must not start the demo instead.
    """
    environ = dict(os.environ if environ is None else environ)
    if path is None:
        file_path: Path | None = Path(DEFAULT_CONFIG_FILE) if Path(DEFAULT_CONFIG_FILE).is_file() else None
    else:
        file_path = Path(path)
        if not file_path.is_file():
            what = "是一个文件夹，不是文件" if file_path.is_dir() else "不存在"
            raise ConfigError(
                f"配置文件 {file_path.absolute()} {what}。请检查 --config 或 BOT_CONFIG 写的路径；两个都不写时读"
                f"当前文件夹的 {DEFAULT_CONFIG_FILE}，没有它就用内置的演示配置。"
            )
    if file_path is not None:
        data: dict[str, Any] = _read_toml(file_path)
        source = str(file_path)
    else:
        data = json.loads(json.dumps(EMBEDDED_DEFAULT))
        source = "embedded default"
    for section, values in _environment_overrides(environ).items():
        data.setdefault(section, {}).update(values)
    try:
        settings = Settings.model_validate(data)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from error
    settings.source = source
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        reason = error.strerror or error
        raise ConfigError(f"读不了配置文件 {path}：{reason}。请让运行机器人的用户能读这个文件。") from error
    try:
        text = raw.decode("utf-8-sig")  # Windows editors may write a BOM
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(
            f"{path} 不是 UTF-8 编码（第 {line} 行有读不懂的字节，可能是按 GBK 保存的）。"
            "请用 UTF-8 重新保存这个文件（记事本：另存为，编码选 UTF-8），再启动。"
        ) from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from error


def config_path_from(argument: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """--config wins, then BOT_CONFIG; None when neither names a file (see load_settings)."""
    variables = os.environ if environ is None else environ
    return argument or variables.get("BOT_CONFIG") or None
