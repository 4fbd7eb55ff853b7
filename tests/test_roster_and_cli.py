"""The administrator's command line: roster import (CSV and XLSX, idempotent) and granting officer rights."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import func, select

from plugins._texts import refusal
from storage import db
from storage.models import Member, PlatformIdentity, Team, TeamMembership, Unit
from storage.services.actors import ChatAccount
from storage.services.membership import my_profile
from storage.services.roster import import_roster

ROSTER = [
    ["单位", "队伍", "姓名", "手机号", "特长", "平台账号"],
    ["济南市公安局/历下分局/闫千户派出所", "夕阳红巡逻队", "王建国", "13800000001", "巡逻、驾驶", "onebot:40001"],
    ["济南市公安局/历下分局/闫千户派出所", "夕阳红巡逻队", "李秀英", "138 0000 0002", "调解", ""],
    [
        "济南市公安局/历下分局/闫千户派出所",
        "青春飞扬",
        "张伟",
        "13800000003",
        "医护 救援",
        "onebot:40003;telegram:5003",
    ],
    ["济南市公安局/历下分局/闫千户派出所", "青春飞扬", "王建国", "13800000001", "", ""],
    ["", "青春飞扬", "无单位", "13800000009", "", ""],
    ["济南市公安局/历下分局", "青春飞扬", "坏号码", "1234", "", ""],
    ["济南市公安局/历下分局", "青春飞扬", "没联系方式", "", "", ""],
    ["济南市公安局/历下分局", "青春飞扬", "抢账号", "13800000010", "", "onebot:40001"],
    ["济南市公安局/历下分局", "青春飞扬", "张三🚓", "13800000011", "", ""],
]


async def count(model) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8-sig")
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    workbook = Workbook()
    for row in rows:
        workbook.active.append([int(cell) if cell.isdigit() else cell for cell in row])
    workbook.save(path)
    return path


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
async def test_roster_import_is_idempotent_and_reports_rejected_rows(database: str, tmp_path: Path, writer) -> None:
    path = writer(tmp_path / f"roster.{'csv' if writer is write_csv else 'xlsx'}", ROSTER)
    report = await import_roster(path)
    assert report.rows == 9
    assert report.members_created == 3
    assert report.memberships_added == 4  # 王建国 is in two teams
    reasons = {line: refusal(error) for line, error in report.rejected}
    assert sorted(reasons) == [6, 7, 8, 9, 10]
    assert "缺少单位" in reasons[6]
    assert "手机号位数不对：写了4位" in reasons[7]
    assert "手机号或平台账号" in reasons[8]
    assert "已属于另一名成员" in reasons[9]
    assert reasons[10].startswith("姓名只写汉字或字母（2到20个字")
    assert await count(Member) == 3
    assert await count(Team) == 2
    assert await count(Unit) == 3
    assert await count(PlatformIdentity) == 3

    again = await import_roster(path)
    assert again.members_created == 0
    assert again.memberships_added == 0
    assert again.unchanged == 4
    assert await count(Member) == 3
    assert await count(TeamMembership) == 4

    async with db.session() as session:
        phones = sorted(str(member.phone) for member in (await session.exec(select(Member))).all())
    assert phones == ["13800000001", "13800000002", "13800000003"]  # 138 0000 0002 as the 11 digits
    profile = await my_profile(ChatAccount("telegram", "5003"))
    assert profile.member.name == "张伟"
    assert profile.member.tags == ["医护", "救援"]
    assert [team.status for team in profile.teams] == ["active"]


def run_cli(*arguments: str, config: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("YIJING_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )


def test_admin_command_line(tmp_path: Path) -> None:
    database_path = tmp_path / "cli.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{database_path}"\n', encoding="utf-8")
    roster = write_csv(tmp_path / "roster.csv", ROSTER[:4])

    first = run_cli("admin", "import-roster", str(roster), config=config)
    assert first.returncode == 0, first.stderr
    assert "新建成员 3" in first.stdout
    second = run_cli("admin", "import-roster", str(roster), config=config)
    assert "新建成员 0" in second.stdout
    assert "未变 3" in second.stdout

    granted = run_cli(
        "admin", "grant", "--account", "onebot:20001", "--name", "李警官", "--unit", "历下分局", config=config
    )
    assert granted.returncode == 0, granted.stderr
    assert "李警官（成员号 4）已授权“济南市公安局/历下分局”的民警" in granted.stdout
    by_number = run_cli(
        "admin", "grant", "--member", "1", "--unit", "济南市公安局/历下分局/闫千户派出所", config=config
    )
    assert "王建国（成员号 1）已授权" in by_number.stdout

    missing = run_cli("admin", "import-roster", str(tmp_path / "nope.csv"), config=config)
    assert missing.returncode == 1
    assert "找不到文件" in missing.stderr
    assert "Traceback" not in missing.stderr
    wrong = run_cli("admin", "grant", "--member", "99", "--unit", "历下分局", config=config)
    assert wrong.returncode == 1
    assert "没有成员号 99" in wrong.stderr
