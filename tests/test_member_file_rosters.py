"""The member file in and out of spreadsheets: the roster import's optional file columns (Chinese headings, a bad
row reported and the others imported) and /导出's members sheet, masked unless the officer's own unit is the
member's and `[members] export_full_personal_data` allows whole values."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from plugins._texts import refusal
from plugins._texts.export import export_file
from storage import db
from storage.models import AuditLog, Insurance, Member, utcnow
from storage.services import export, organisation
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.services.roster import import_roster
from storage.services.when import DateRange
from storage.settings import settings
from tests.test_roster_and_cli import write_csv, write_xlsx

STATION = "济南市公安局/历下分局/闫千户派出所"
HEADING = ["单位", "队伍", "姓名", "手机号", "特长", "地区", "工作单位", "行业", "职业", "紧急联系人", "身份证号",
           "保险公司", "保单号", "保险到期"]  # fmt: skip
ROSTER = [
    HEADING,
    [
        STATION,
        "夕阳红巡逻队",
        "王建国",
        "13800000001",
        "驾驶",
        "历下区",
        "银座超市",
        "零售",
        "店员",
        "王妻 13900000001",
        "11010519491231002X",
        "平安",
        "PA-2026-7",
        "2027-06-30",
    ],
    [STATION, "夕阳红巡逻队", "李秀英", "13800000002", "", "", "", "", "", "", "", "", "", ""],
    [STATION, "夕阳红巡逻队", "错证号", "13800000003", "", "", "", "", "", "", "11010519491231003X", "", "", ""],
    [STATION, "夕阳红巡逻队", "缺保单", "13800000004", "", "", "", "", "", "", "", "平安", "", "2027-06-30"],
    [STATION, "夕阳红巡逻队", "坏日期", "13800000005", "", "", "", "", "", "", "", "平安", "PA-1", "明年"],
]
OFFICER, ABOVE = ChatAccount("onebot", "20001"), ChatAccount("onebot", "20002")
"""An officer of the station, and one of the branch above it."""


async def members() -> dict[str, Member]:
    async with db.session() as session:
        return {member.name: member for member in (await session.exec(select(Member))).all()}


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
async def test_the_roster_import_fills_in_the_file_and_reports_bad_rows(database: str, tmp_path: Path, writer) -> None:
    path = writer(tmp_path / f"roster.{'csv' if writer is write_csv else 'xlsx'}", ROSTER)
    report = await import_roster(path)
    assert (report.rows, report.members_created) == (5, 2)
    reasons = {line: refusal(error) for line, error in report.rejected}
    assert reasons == {
        4: "身份证号的校验位对不上，可能有一位写错了：请核对后重新输入。",
        5: "保险要写全 保险公司、保单号、保险到期 三列，或都空着",
        6: "保险到期的日期不对：请写成 2027-06-30",
    }
    found = await members()
    wang = found["王建国"]
    assert (wang.area, wang.employer, wang.industry, wang.profession) == ("历下区", "银座超市", "零售", "店员")
    assert (wang.emergency_contact, wang.id_number) == ("王妻 13900000001", "11010519491231002X")
    assert (found["李秀英"].area, found["李秀英"].id_number) == (None, None)  # the columns are optional
    async with db.session() as session:
        policies = [(p.insurer, p.policy_number, p.valid_until) for p in (await session.exec(select(Insurance))).all()]
    assert policies == [("平安", "PA-2026-7", date(2027, 6, 30))]

    again = await import_roster(path)  # the same file again changes nothing, and records the policy once
    assert (again.members_created, again.members_updated, again.unchanged) == (0, 0, 2)
    async with db.session() as session:
        assert len((await session.exec(select(Insurance))).all()) == 1


async def test_a_roster_without_the_file_columns_still_imports(database: str, tmp_path: Path) -> None:
    report = await import_roster(write_csv(tmp_path / "old.csv", [HEADING[:5], [STATION, "夕阳红巡逻队", "王建国",
                                                                              "13800000001", "驾驶"]]))  # fmt: skip
    assert (report.members_created, report.rejected) == (1, [])


def around_now() -> DateRange:
    return DateRange(utcnow() - timedelta(days=2), utcnow() + timedelta(days=2))


async def members_sheet(caller: ChatAccount) -> dict[str, dict[str, object]]:
    made = await export.export_workbook(caller, None, around_now(), None)
    book = load_workbook(io.BytesIO(export_file(made).content))
    rows = list(book["成员"].iter_rows(values_only=True))
    heading = [str(cell) for cell in rows[0]]
    return {str(row[1]): dict(zip(heading, row, strict=True)) for row in rows[1:]}


async def set_up(tmp_path: Path) -> None:
    await import_roster(write_csv(tmp_path / "roster.csv", ROSTER[:3]))
    admin = ChatAccount("onebot", "10001")
    await organisation.grant_officer(admin, PersonRef(platform="onebot", user_id=OFFICER.user_id), STATION)
    await organisation.grant_officer(
        admin, PersonRef(platform="onebot", user_id=ABOVE.user_id), "济南市公安局/历下分局"
    )


async def test_the_export_masks_the_file_unless_allowed_and_the_officers_own_unit(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await set_up(tmp_path)
    masked = await members_sheet(OFFICER)
    wang = masked["王建国"]
    assert (wang["手机"], wang["身份证号"], wang["紧急联系人"]) == (
        "138****0001",
        "1101**********002X",
        "王妻 139****0001",
    )
    assert (wang["地区"], wang["工作单位"], wang["行业"], wang["职业"]) == ("历下区", "银座超市", "零售", "店员")
    assert (wang["保险公司"], wang["保单号"], wang["保险到期"]) == ("平安", "PA-2026-7", "2027-06-30")
    assert masked["李秀英"]["身份证号"] in ("", None)

    monkeypatch.setattr(settings, "export_full_personal_data", True)
    whole = (await members_sheet(OFFICER))["王建国"]
    assert (whole["手机"], whole["身份证号"], whole["紧急联系人"]) == (
        "13800000001",
        "11010519491231002X",
        "王妻 13900000001",
    )
    from_above = (await members_sheet(ABOVE))["王建国"]  # an officer of the branch above: still masked
    assert (from_above["手机"], from_above["身份证号"]) == ("138****0001", "1101**********002X")
    async with db.session() as session:
        logged = await session.exec(select(AuditLog).where(AuditLog.action == "export").order_by(col(AuditLog.id)))
        assert [entry.detail["personal_data_whole"] for entry in logged.all()] == [0, 2, 0]
