"""Configuration: the TOML file, environment overrides, the embedded default, secrets kept out of logs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from pydantic import BaseModel

from bot.app import RedactingStream, nonebot_options, secrets_of, superusers_of
from bot.config import (
    CONSOLE_USER,
    ConfigError,
    PlatformLimits,
    Settings,
    config_path_from,
    load_settings,
    placeholder_tokens,
    setup_warnings,
)

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_documents_every_key_and_loads() -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    for section, model in Settings.model_fields.items():
        if section == "source":
            continue
        assert section in example, f"[{section}] is missing from config.example.toml"
        if section == "limits":
            for platform in ("onebot", "telegram"):
                assert set(example["limits"][platform]) == set(PlatformLimits.model_fields), platform
            continue
        section_model = model.annotation
        assert isinstance(section_model, type), section
        assert issubclass(section_model, BaseModel), section
        assert set(example[section]) == set(section_model.model_fields), section
    settings = load_settings(ROOT / "config.example.toml", environ={})
    assert settings.bot.superusers == ["onebot:10001", "telegram:123456"]
    assert settings.server.port == 8080
    assert settings.telegram.bots[0].api_server == "https://api.telegram.org/"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[database]\nurl = "sqlite+aiosqlite:///a.db"\n[onebot]\naccess_token = "from-file"\n', "utf-8")
    settings = load_settings(
        path,
        environ={
            "YIJING_DATABASE__URL": "postgresql+asyncpg://u:p@h/db",
            "YIJING_BOT__SUPERUSERS": '["telegram:42"]',
            "YIJING_TELEGRAM__ENABLED": "true",
            "YIJING_TELEGRAM__BOTS": '[{"token": "1:X", "api_server": "http://127.0.0.1:9/"}]',
            "YIJING_SERVER__PORT": "9090",
            "UNRELATED": "x",
        },
    )
    assert settings.database.url == "postgresql+asyncpg://u:p@h/db"
    assert settings.bot.superusers == ["telegram:42"]
    assert settings.server.port == 9090
    assert settings.onebot.access_token.get_secret_value() == "from-file"
    options = nonebot_options(settings)
    assert options["telegram_bots"] == [{"token": "1:X", "api_server": "http://127.0.0.1:9/"}]
    assert options["driver"] == "~fastapi+~aiohttp"
    assert options["alconna_cache_message"] is False  # see test_same_message_id_in_two_chats_is_two_commands
    assert options["alconna_use_command_start"] is True


def test_no_file_named_means_config_toml_or_else_the_embedded_default(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(config_path_from(None, {}), environ={})
    assert settings.source == "embedded default"
    assert settings.console.enabled
    assert not settings.onebot.enabled
    assert settings.database.url.startswith("sqlite+aiosqlite:///data/")
    assert CONSOLE_USER in superusers_of(settings)
    assert nonebot_options(settings)["driver"] == "~none+~aiohttp"

    (tmp_path / "config.toml").write_text("[server]\nport = 9999\n", "utf-8")
    settings = load_settings(config_path_from(None, {}), environ={})
    assert settings.source == "config.toml"
    assert settings.server.port == 9999
    assert not settings.console.enabled


def test_config_path_order() -> None:
    assert config_path_from("a.toml", {"BOT_CONFIG": "b.toml"}) == "a.toml"
    assert config_path_from(None, {"BOT_CONFIG": "b.toml"}) == "b.toml"
    assert config_path_from(None, {}) is None  # ./config.toml if there is one, else the demo


def run_bot(*arguments: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot ...` as an administrator runs it; a bot that starts instead of refusing fails the test."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("YIJING_", "BOT_CONFIG"))}
    environment["PYTHONPATH"] = str(ROOT)
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot", *arguments],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=cwd,
            env={**environment, **(env or {})},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"python -m bot {' '.join(arguments)} started instead of refusing: {expired.stdout!r}")


@pytest.mark.parametrize("how", ["--config", "BOT_CONFIG"])
def test_a_named_config_file_that_is_missing_stops_the_bot_instead_of_starting_the_demo(tmp_path: Path, how) -> None:
    if how == "--config":
        finished = run_bot("--config", "nope.toml", cwd=tmp_path)
    else:
        finished = run_bot(cwd=tmp_path, env={"BOT_CONFIG": "nope.toml"})
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.startswith("配置有误: 配置文件 "), finished.stderr
    assert f"{tmp_path / 'nope.toml'} 不存在" in finished.stderr
    assert "请检查 --config 或 BOT_CONFIG" in finished.stderr
    assert "Traceback" not in finished.stderr
    assert not (tmp_path / "data").exists()  # no demo database was made


def test_a_config_file_saved_as_gbk_is_reported_like_any_other_mistake(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_bytes('[bot]\n# 管理员\nsuperusers = ["onebot:10001"]\n'.encode("gbk"))
    finished = run_bot("--config", "config.toml", "db", "upgrade", cwd=tmp_path)
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.startswith("配置有误: config.toml 不是 UTF-8 编码（第 2 行"), finished.stderr
    assert "请用 UTF-8 重新保存" in finished.stderr
    assert "Traceback" not in finished.stderr

    (tmp_path / "config.toml").write_bytes(b"\xef\xbb\xbf" + '[bot]\n# 管理员\nlog_level = "DEBUG"\n'.encode())
    assert load_settings(tmp_path / "config.toml", environ={}).bot.log_level == "DEBUG"  # UTF-8 with a BOM is fine


def test_the_onboarding_course_is_named_with_its_stage(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[members]\nstages = ["vetted", "trained"]\nonboarding_course = "新队员培训"\n', "utf-8")
    members = load_settings(path, environ={}).members
    assert (members.stages, members.onboarding_course) == (["vetted", "trained"], "新队员培训")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[bot]\nsuperusers = ["10001"]\n', "platform:user_id"),
        ('[bot]\ntimezone = "Mars/Olympus"\n', "time zone"),
        ("[bot]\nsuperuser = []\n", "superuser"),
        ("[database\n", "config.toml"),
        ('[members]\nstages = ["trained"]\n', "needs onboarding_course"),
        ('[members]\nstages = ["vetting"]\n', "unknown stage"),
    ],
)
def test_mistakes_are_reported(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={})


def test_tokens_never_reach_the_log(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[onebot]\naccess_token = "s3cret-token"\n[telegram]\nenabled = true\n'
        'bots = [{ token = "123:TELEGRAM-SECRET" }]\n',
        "utf-8",
    )
    settings = load_settings(path, environ={})
    assert "s3cret" not in repr(settings)
    written = io.StringIO()
    stream = RedactingStream(written, secrets_of(settings))
    stream.write("connecting with s3cret-token to https://api.telegram.org/bot123:TELEGRAM-SECRET/getMe\n")
    assert written.getvalue() == "connecting with *** to https://api.telegram.org/bot***/getMe\n"


# --- a copy of the example, unedited


def test_an_unedited_copy_of_the_example_refuses_to_start_and_says_which_key_to_edit(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text((ROOT / "config.example.toml").read_text("utf-8"), "utf-8")
    finished = run_bot(cwd=tmp_path)
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.startswith('配置有误: [onebot] access_token 还是示例里的 "change-me"'), finished.stderr
    assert "请在配置文件里改成一串只有你知道的字符" in finished.stderr
    assert "Traceback" not in finished.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was made


def test_telegram_enabled_with_the_example_token_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text((ROOT / "config.example.toml").read_text("utf-8"), "utf-8")
    finished = run_bot(
        cwd=tmp_path,
        env={"YIJING_ONEBOT__ENABLED": "false", "YIJING_TELEGRAM__ENABLED": "true"},
    )
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.startswith(
        '配置有误: [telegram] bots 第 1 个的 token 还是示例里的 "123456:ABC-your-bot-token"。'
    ), finished.stderr
    assert "access_token" not in finished.stderr  # OneBot is off: its token does not matter
    assert "请换成 @BotFather 给你的 token" in finished.stderr


def test_the_example_token_of_a_platform_turned_off_does_not_matter_and_db_upgrade_still_works(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text((ROOT / "config.example.toml").read_text("utf-8"), "utf-8")
    upgraded = run_bot("db", "upgrade", cwd=tmp_path)  # not a start: the tokens are not used
    assert upgraded.returncode == 0, upgraded.stderr
    settings = load_settings(tmp_path / "config.toml", environ={"YIJING_ONEBOT__ENABLED": "false"})
    assert placeholder_tokens(settings) == []


@pytest.mark.parametrize(
    ("host", "token", "warned"),
    [("0.0.0.0", "", True), ("192.168.1.5", "", True), ("0.0.0.0", "s3cret", False)]
    + [(host, "", False) for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2")],
)
def test_listening_beyond_this_machine_without_a_token_is_warned(host: str, token: str, warned: bool) -> None:
    settings = Settings.model_validate({"server": {"host": host}, "onebot": {"access_token": token}})
    warnings = setup_warnings(settings)
    assert any("access_token 是空的" in warning for warning in warnings) == warned, warnings
    if warned:
        assert warnings[0].startswith(f'[server] host = "{host}"，别的机器也连得上'), warnings


def test_the_example_superusers_left_in_are_warned_one_by_one() -> None:
    settings = load_settings(ROOT / "config.example.toml", environ={})
    assert setup_warnings(settings) == [
        "[bot] superusers 里的 onebot:10001 是示例里的账号：用这个账号的人会是机器人的管理员。"
        "请换成你自己的账号（私聊机器人发 /我的 就能看到），或者删掉它。",
        "[bot] superusers 里的 telegram:123456 是示例里的账号：用这个账号的人会是机器人的管理员。"
        "请换成你自己的账号（私聊机器人发 /我的 就能看到），或者删掉它。",
    ]
    settings.bot.superusers = ["onebot:3355779"]
    assert setup_warnings(settings) == []


def test_the_example_consent_text_is_the_bots_own() -> None:
    """config.example.toml shows the text an empty `[members] consent_text` stands for."""
    from plugins._texts.recruiting import DEFAULT_CONSENT_TEXT

    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    assert example["members"]["consent_text"] == DEFAULT_CONSENT_TEXT
    assert example["members"]["stages"] == []
    assert load_settings(ROOT / "config.example.toml", environ={}).domain_settings()["stages"] == []
