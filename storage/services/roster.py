"""Importing an existing roster (CSV or XLSX) idempotently: running it twice changes nothing the second time."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, quoted
from storage.models import Insurance, Member, MembershipStatus, MemberStatus, TeamMembership, id_of
from storage.services.organisation import audit, check_team_name, ensure_team, ensure_unit_path
from storage.services.people import (
    identity_of,
    link_identity,
    normalise_id_number,
    normalise_name,
    normalise_phone,
    parse_tags,
)

PLATFORMS = ("onebot", "telegram", "console")

COLUMNS: dict[str, tuple[str, ...]] = {
    "unit": ("unit", "单位", "所属单位", "单位路径"),
    "team": ("team", "队伍", "队伍名", "队名"),
    "name": ("name", "姓名", "名字"),
    "phone": ("phone", "手机号", "手机", "电话"),
    "tags": ("tags", "特长", "标签", "技能"),
    "accounts": ("platform_ids", "accounts", "平台账号", "账号"),
    # the member file (一人一档), each optional
    "area": ("area", "地区", "片区", "所在地区"),
    "employer": ("employer", "工作单位"),
    "industry": ("industry", "行业"),
    "profession": ("profession", "职业"),
    "emergency_contact": ("emergency_contact", "紧急联系人"),
    "id_number": ("id_number", "身份证号", "身份证", "身份证号码"),
    "insurer": ("insurer", "保险公司", "承保公司"),
    "policy_number": ("policy_number", "保单号", "保险单号"),
    "insured_until": ("insured_until", "保险到期", "保险有效期至", "保险到期日"),
}
REQUIRED = ("unit", "team", "name")
FILE_TEXTS = {"area": 64, "employer": 64, "industry": 64, "profession": 64, "emergency_contact": 100}
"""The file's text columns and the most characters each holds (as the member table does)."""
INSURANCE = ("insurer", "policy_number", "insured_until")
DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+00:00(?::00)?)?$")
"""A day as rosters write it: 2027-06-30, 2027/6/30, 2027.6.30, 2027年6月30日, or as a spreadsheet's date cell reads
(2027-06-30 00:00:00)."""
ACCOUNT_SEPARATORS = ("；", ",", "，")
"""Between accounts, besides ";"."""


@dataclass
class ImportReport:
    rows: int = 0
    members_created: int = 0
    members_updated: int = 0
    memberships_added: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, DomainError]] = field(default_factory=list)


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV (UTF-8, with or without BOM, or GBK) or XLSX file, keyed by the column headers."""
    if not path.is_file():
        raise DomainError("roster.no_file", path=str(path))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        values = [
            ["" if cell is None else str(cell).strip() for cell in row] for row in sheet.iter_rows(values_only=True)
        ]
        workbook.close()
    elif path.suffix.lower() in (".csv", ".txt"):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gbk")
        values = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise DomainError("roster.unknown_type", suffix=path.suffix)
    if not values:
        raise DomainError("roster.empty")
    header = [_column_key(cell) for cell in values[0]]
    missing = [key for key in REQUIRED if key not in header]
    if missing:
        raise DomainError("roster.missing_columns", columns=tuple(column_name(key) for key in missing))
    return [
        {key: row[index] if index < len(row) else "" for index, key in enumerate(header) if key} for row in values[1:]
    ]


def column_name(key: str) -> str:
    """The heading a roster gives a column (单位, 队伍, 姓名 ...): how a refusal names it."""
    return COLUMNS[key][1]


def _column_key(header: str) -> str | None:
    cleaned = header.strip().lower()
    for key, names in COLUMNS.items():
        if cleaned in names:
            return key
    return None


def parse_day(text: str, column: str) -> date:
    found = DATE.match(text.strip())
    try:
        if found is None:
            raise ValueError(text)
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError as error:
        raise DomainError("roster.bad_date", column=column_name(column)) from error


@dataclass(frozen=True)
class FileFields:
    """The member-file columns of a row, checked: only those the row fills in."""

    texts: dict[str, str]
    id_number: str | None
    insurance: tuple[str, str, date] | None


def file_fields(row: dict[str, str]) -> FileFields:
    texts = {}
    for key, most in FILE_TEXTS.items():
        value = " ".join(row.get(key, "").split())
        if len(value) > most:
            raise DomainError("roster.too_long", column=column_name(key), most=most)
        if value:
            texts[key] = value
    id_text = row.get("id_number", "").strip()
    id_number = normalise_id_number(id_text) if id_text else None
    given = [row.get(key, "").strip() for key in INSURANCE]
    insurance = None
    if any(given):
        if not all(given):
            raise DomainError("roster.insurance_incomplete", columns=tuple(column_name(key) for key in INSURANCE))
        insurer, policy_number, until = given
        if len(insurer) > 64 or len(policy_number) > 64:
            raise DomainError("roster.too_long", column=column_name("policy_number"), most=64)
        insurance = (insurer, policy_number, parse_day(until, "insured_until"))
    return FileFields(texts, id_number, insurance)


async def _apply_file(db: AsyncSession, member: Member, fields: FileFields) -> bool:
    """Fill in the file from the row (a column left empty keeps what the member has); whether anything changed.
    A policy is recorded once: the same policy number and end day again adds nothing."""
    changed = False
    for key, value in [*fields.texts.items(), *([("id_number", fields.id_number)] if fields.id_number else [])]:
        if getattr(member, key) != value:
            setattr(member, key, value)
            changed = True
    if fields.insurance is not None:
        insurer, policy_number, until = fields.insurance
        existing = (
            await db.exec(
                select(Insurance.id).where(
                    Insurance.member_id == member.id,
                    Insurance.policy_number == policy_number,
                    Insurance.valid_until == until,
                )
            )
        ).first()
        if existing is None:
            db.add(Insurance(member_id=id_of(member), insurer=insurer, policy_number=policy_number, valid_until=until))
            changed = True
    return changed


def parse_accounts(text: str) -> list[tuple[str, str]]:
    """Accounts written as onebot:10001;telegram:123456."""
    accounts = []
    for separator in ACCOUNT_SEPARATORS:
        text = text.replace(separator, ";")
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        platform, _, user_id = item.partition(":")
        platform, user_id = platform.strip().lower(), user_id.strip()
        if platform not in PLATFORMS or not user_id:
            raise DomainError("roster.bad_account", account=quoted(item))
        accounts.append((platform, user_id))
    return accounts


async def import_roster(path: Path) -> ImportReport:
    rows = await asyncio.to_thread(read_rows, path)
    report = ImportReport(rows=len(rows))
    async with session() as db:
        for number, row in enumerate(rows, start=2):
            if not any(value.strip() for value in row.values()):
                report.rows -= 1
                continue
            try:
                async with db.begin_nested():
                    outcome, joined_team = await _import_row(db, row)
            except DomainError as error:
                report.rejected.append((number, error))
                continue
            if outcome == "created":
                report.members_created += 1
            elif outcome == "updated" or joined_team:
                report.members_updated += 1
            else:
                report.unchanged += 1
            report.memberships_added += joined_team
        await audit(
            db,
            None,
            None,
            "import_roster",
            path.name,
            rows=report.rows,
            created=report.members_created,
            updated=report.members_updated,
            rejected=len(report.rejected),
        )
    return report


async def _import_row(db: AsyncSession, row: dict[str, str]) -> tuple[str, bool]:
    """Apply one row: what happened to the member (created, updated, unchanged), and whether it joined a team."""
    for key in REQUIRED:
        if not row.get(key, "").strip():
            raise DomainError("roster.missing_value", column=column_name(key))
    name = normalise_name(row["name"])
    phone = normalise_phone(row["phone"]) if row.get("phone", "").strip() else None
    tags = parse_tags(row.get("tags", ""))
    accounts = parse_accounts(row.get("accounts", ""))
    fields = file_fields(row)
    if phone is None and not accounts:
        raise DomainError("roster.unrecognisable")
    team_name = check_team_name(row["team"])

    member = (await db.exec(select(Member).where(Member.phone == phone))).first() if phone else None
    for platform, user_id in accounts:
        identity = await identity_of(db, platform, user_id)
        if identity is None:
            continue
        if member is None:
            member = await db.get(Member, identity.member_id)
            if member is None:  # the identity's key says the member is there
                raise LookupError(f"identity {platform}:{user_id} has no member {identity.member_id}")
            if phone and member.phone and member.phone != phone:
                raise DomainError("roster.account_taken", account=f"{platform}:{user_id}", member=identity.member_id)
        elif identity.member_id != member.id:
            raise DomainError("roster.account_taken", account=f"{platform}:{user_id}", member=identity.member_id)

    outcome = "unchanged"
    if member is None:
        member = Member(name=name, phone=phone, tags=tags, status=MemberStatus.active)
        db.add(member)
        await db.flush()
        outcome = "created"
    else:
        merged_tags = list(dict.fromkeys([*member.tags, *tags]))
        if member.name != name or (phone and member.phone != phone) or merged_tags != member.tags:
            member.name = name
            member.phone = phone or member.phone
            member.tags = merged_tags
            outcome = "updated"
        if member.status != MemberStatus.active:
            member.status = MemberStatus.active
            outcome = "updated"
        db.add(member)
    if await _apply_file(db, member, fields) and outcome == "unchanged":
        outcome = "updated"
    db.add(member)
    for platform, user_id in accounts:
        existing = await identity_of(db, platform, user_id)
        if existing is None:
            await link_identity(db, member, platform, user_id)
            if outcome == "unchanged":
                outcome = "updated"

    unit = await ensure_unit_path(db, row["unit"])
    team = await ensure_team(db, unit, team_name)
    membership = (
        await db.exec(
            select(TeamMembership).where(TeamMembership.team_id == team.id, TeamMembership.member_id == member.id)
        )
    ).first()
    if membership is not None and membership.status == MembershipStatus.active:
        return outcome, False
    membership = membership or TeamMembership(team_id=id_of(team), member_id=id_of(member))
    membership.status = MembershipStatus.active
    db.add(membership)
    await db.flush()
    return outcome, True
