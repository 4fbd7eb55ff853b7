"""Importing an existing roster (CSV or XLSX) idempotently: running it twice changes nothing the second time."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, quoted
from storage.models import Member, MembershipStatus, MemberStatus, TeamMembership, id_of
from storage.services.organisation import audit, check_team_name, ensure_team, ensure_unit_path
from storage.services.people import identity_of, link_identity, normalise_name, normalise_phone, parse_tags

PLATFORMS = ("onebot", "telegram", "console")

COLUMNS: dict[str, tuple[str, ...]] = {
    "unit": ("unit", "单位", "所属单位", "单位路径"),
    "team": ("team", "队伍", "队伍名", "队名"),
    "name": ("name", "姓名", "名字"),
    "phone": ("phone", "手机号", "手机", "电话"),
    "tags": ("tags", "特长", "标签", "技能"),
    "accounts": ("platform_ids", "accounts", "平台账号", "账号"),
}
REQUIRED = ("unit", "team", "name")
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
