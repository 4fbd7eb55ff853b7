"""Configuration: the TOML file, environment overrides, the embedded default, secrets kept out of logs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from bot.app import RedactingStream, nonebot_options, secrets_of, superusers_of
from bot.config import CONSOLE_USER, ConfigError, PlatformLimits, Settings, config_path_from, load_settings

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
        assert set(example[section]) == set(model.annotation.model_fields), section
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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[bot]\nsuperusers = ["10001"]\n', "platform:user_id"),
        ('[bot]\ntimezone = "Mars/Olympus"\n', "time zone"),
        ("[bot]\nsuperuser = []\n", "superuser"),
        ("[database\n", "config.toml"),
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
