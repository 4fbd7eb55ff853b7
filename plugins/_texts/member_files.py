"""The member file (/档案), a team's members (/队员) and specialties (/标签) as chat shows them."""

from __future__ import annotations

from datetime import datetime

from plugins._texts import add_refusals, render_notice
from plugins._texts.membership import MEMBER_STATUS_NAMES, MEMBERSHIP_STATUS_NAMES, specialties_text
from plugins._texts.training import held_line
from storage.models import utcnow
from storage.services.member_files import ErasedMember, MemberFile, View
from storage.services.member_tags import TagChange, TagsChangedNotice
from storage.services.team_rosters import Roster
from storage.services.when import local

ERASED_LABEL = "已注销的成员"
"""Who an erased member is shown as: nothing of the person is left."""
PRIVATE_ONLY = "档案里有个人信息，请私聊我发送 /档案（/profile）。"
VETTING_NAMES = {"passed": "通过", "failed": "未通过"}
NOT_GIVEN = "未填"

FILE_USAGE = "看自己的档案：私聊我发送 /档案；民警、队长看队员的档案：/档案 成员号，例如 /档案 12"
ROSTER_USAGE = "队员名单：/队员 [特长] [页码]，例如 /队员 救援、/队员 2；私聊时写队伍名：/队员 夕阳红巡逻队 救援"
TAG_USAGE = (
    "改自己的特长：/标签 +驾驶 -摄影（+ 加上，- 去掉）。\n"
    "民警核实队员的特长：/标签 成员号 +救援 -驾驶，例如 /标签 12 +救援"
)

REFUSALS = {
    "member_files.not_yours": "你不能查看成员 {number} 的档案：只有本人、所在单位的民警和本队队长可以查看。",
    "member_files.roster_not_allowed": "只有队长和民警可以看队员名单。",
    "member_files.roster_team_not_yours": "只有“{team}”的队长和所在单位的民警可以看它的队员名单。",
    "member_files.no_team_of_yours": "你管的队伍里没有“{name}”：请写你的队伍名，例如 /队员 夕阳红巡逻队 救援",
    "member_files.which_team": "请写队伍名，例如 /队员 夕阳红巡逻队；或在队伍群里发送 /队员",
    "member_files.no_such_page": "没有第{page}页：共{pages}页，例如 /队员 {pages}",
    "member_files.roster_usage": ROSTER_USAGE,
    "member_tags.nothing": TAG_USAGE,
    "member_tags.both": "“{tag}”不能同时加上又去掉：例如 /标签 +救援 -驾驶",
    "member_tags.officers_only": "只有成员所在单位的民警可以核实别人的特长；改自己的：/标签 +驾驶 -摄影",
    "member_tags.not_yours": "你不能修改成员 {number} 的特长：只有其所在单位的民警可以。",
}


def _day(moment: datetime | None) -> str:
    return f"{local(moment):%Y-%m-%d}" if moment else NOT_GIVEN


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".removesuffix(".0")


def text_for_file(file: MemberFile | ErasedMember) -> str:
    if isinstance(file, ErasedMember):
        return f"成员号 {file.number}：{ERASED_LABEL}"
    status = MEMBER_STATUS_NAMES.get(file.status, file.status)
    if file.status_reason:
        status += f"（{file.status_reason}）"
    heading = "你的档案" if file.view == View.own else "档案"
    lines = [
        f"{heading}：{file.name}，成员号 {file.number}",
        f"手机：{file.phone}",
    ]
    if file.view != View.leader:
        lines.append(f"身份证：{file.id_number or NOT_GIVEN}")
        lines.append(f"紧急联系人：{file.emergency_contact or NOT_GIVEN}")
    lines += [
        f"地区：{file.area or NOT_GIVEN}　工作单位：{file.employer or NOT_GIVEN}",
        f"行业：{file.industry or NOT_GIVEN}　职业：{file.profession or NOT_GIVEN}",
        f"特长：{specialties_text(file.specialties)}"
        + ("（✓ 为民警核实）" if any(s.verified for s in file.specialties) else ""),
        f"状态：{status}　入队：{_day(file.joined_at)}",
    ]
    for vetting in file.vettings:
        note = f"，{vetting.note}" if vetting.note else ""
        by = f"，{vetting.officer}" if vetting.officer else ""
        lines.append(
            f"政审：{VETTING_NAMES.get(vetting.result, vetting.result)}（{vetting.checked_on:%Y-%m-%d}{by}{note}）"
        )
    if file.insurance is not None:
        policy = file.insurance
        ended = "（已过期）" if policy.valid_until < local(utcnow()).date() else ""
        lines.append(f"保险：{policy.insurer} {policy.policy_number}，有效期至 {policy.valid_until:%Y-%m-%d}{ended}")
    else:
        lines.append("保险：未登记")
    if file.qualifications:
        lines += [f"资质：{held_line(held)}" for held in file.qualifications]
    for team in file.teams:
        leader = "，队长" if team.is_leader else ""
        lines.append(f"队伍：{team.team}（{MEMBERSHIP_STATUS_NAMES.get(team.status, team.status)}{leader}）")
    lines += [f"民警：{unit}" for unit in file.officer_units]
    figures = file.figures
    lines.append(
        f"服务 {_hours(figures.minutes)} 小时，出勤 {figures.tasks_attended} 次，核实线索 {figures.tips_verified} 条，"
        f"累计积分 {figures.points}，义警之星 {figures.honours} 次"
    )
    if figures.balance is not None:
        lines.append(f"可用积分：{figures.balance}")
    return "\n".join(lines)


def text_for_roster(roster: Roster, command: str = "/队员") -> str:
    tag = f"（特长：{roster.tag}）" if roster.tag else ""
    lines = [f"“{roster.team}”队员 {roster.total} 人{tag}"]
    if not roster.lines:
        lines.append("没有符合的队员。")
    for line in roster.lines:
        leader = "（队长）" if line.is_leader else ""
        phone = f"｜{line.phone}" if line.phone is not None else ""
        lines.append(f"{line.number}｜{line.name}{leader}{phone}｜{specialties_text(line.specialties)}")
    if roster.pages > 1:
        words = [command] + ([roster.team] if roster.team_named else []) + ([roster.tag] if roster.tag else [])
        if roster.page < roster.pages:
            lines.append(
                f"第{roster.page}页，共{roster.pages}页，发 {' '.join([*words, str(roster.page + 1)])} 看下一页"
            )
        else:
            lines.append(f"第{roster.page}页，共{roster.pages}页")
    if not roster.phones_shown:
        lines.append("手机号只在私聊显示。")
    return "\n".join(lines)


def _changes(verified: tuple[str, ...], added: tuple[str, ...], removed: tuple[str, ...]) -> list[str]:
    parts = []
    if verified:
        parts.append(f"核实了 {'、'.join(verified)}")
    if added:
        parts.append(f"加上了 {'、'.join(added)}")
    if removed:
        parts.append(f"去掉了 {'、'.join(removed)}")
    return parts


def text_for_tag_change(change: TagChange) -> str:
    now = f"现在的特长：{specialties_text(change.specialties)}"
    if not change.changed:
        return f"没有变化。{now}"
    done = "，".join(_changes(change.verified, change.added, change.removed))
    if change.by_officer:
        return f"已为{change.name}（成员号 {change.number}）{done}。已私信告知。\n{now}"
    return f"已{done}。{now}"


@render_notice.register
def _tags_changed(notice: TagsChangedNotice) -> str:
    done = "，".join(_changes(notice.verified, notice.added, notice.removed))
    return f"民警为你的特长{done}。现在的特长：{specialties_text(notice.specialties)}（✓ 为民警核实）"


add_refusals(REFUSALS)
