"""The organisation as chat shows it (units, teams, officers, leaders), and the role refusals every domain raises.

The role refusals name the act that was refused by a key (`act="post_task"`): "organisation.officers_only" says
只有民警可以发布任务。 A service of any domain raises them as they are; the act's words are in the tables below.
"""

from __future__ import annotations

from plugins._texts import add_refusals, render_notice
from storage.services.organisation import Binding, Grant, Leadership
from storage.services.revocation import LeaderRemoved, LeadershipEndedNotice, OfficerRevoked, OfficerRoleEndedNotice

OFFICERS_MAY = {
    "list_tips": "查看线索列表",
    "set_police_group": "设置警务群",
    "raise_alert": "发紧急呼叫",
    "bind_team": "绑定队伍",
    "set_leader": "设队长",
    "unset_leader": "撤销队长",
    "post_task": "发布任务",
    "cancel_task": "取消任务",
    "close_task": "结束任务",
    "post_reward": "上架奖品",
    "manage_rewards": "管理奖品",
    "hand_out_rewards": "发放奖品",
    "award_points": "奖励或扣分",
}
"""只有民警可以…: what an act is called when only officers may do it."""
ADMINS_MAY = {"grant_officer": "授权民警", "revoke_officer": "撤销民警"}
"""只有管理员可以…"""
DONE_TO_A_UNIT = {"bind_team": "绑定队伍", "post_task": "发任务"}
"""你不是“某单位”的民警，不能给它…"""
DONE_TO_A_TEAM = {"set_leader": "设队长", "unset_leader": "撤销它的队长", "post_task": "发任务"}
"""“某队”不归你的单位管，不能…"""
UNIT_EXAMPLES = {
    "set_police_group": "/设为警务群 历下分局",
    "raise_alert": "/紧急 内容 需要5人 范围:闫千户派出所",
    "post_reward": "/商城 上架 保温杯 积分200 库存50 每人1 单位:历下分局",
    "create_course": "/课程 新建 山地救援 有效期2年 授予:救援 单位:历下分局",
}
"""How the unit is written in the command an officer sent, when the refusal asks which unit is meant."""


def _unit_example(act: str) -> str:
    return UNIT_EXAMPLES[act]


def _unit_not_yours(text: str, act: str) -> str:
    return f"没有你能管的单位“{text}”：请写你的单位或下级单位，例如 {_unit_example(act)}"


def _which_unit(act: str) -> str:
    return f"请写明单位，例如 {_unit_example(act)}"


def _several_units(name: str, paths: list[str]) -> str:
    return f"有几个单位叫“{name}”（{'、'.join(paths)}）：请写全路径。"


def _which_unit_for_team(units: list[str], team: str) -> str:
    return f"你是几个单位的民警（{'、'.join(units)}）：请写明单位，例如 /绑定队伍 {team} {units[0]}"


REFUSALS = {
    # who may do what: raised by every domain
    "organisation.officers_only": lambda act: f"只有民警可以{OFFICERS_MAY[act]}。",
    "organisation.admins_only": lambda act: f"只有管理员可以{ADMINS_MAY[act]}。",
    "organisation.unit_not_yours_to": lambda unit, act: f"你不是“{unit}”的民警，不能给它{DONE_TO_A_UNIT[act]}。",
    "organisation.team_not_yours": lambda team, act: f"“{team}”不归你的单位管，不能{DONE_TO_A_TEAM[act]}。",
    "organisation.not_in_team": "你还没有加入队伍：在队伍群里发送 /加入 姓名",
    "organisation.not_registered": "你还没有登记：请先在队伍群里发送 /加入 姓名",
    # naming someone in a command
    "people.no_such_member": "没有成员号 {number}：请先用 /我的 查看对方的成员号。",
    "people.not_registered": "此人还没有登记：请对方先在队伍群里发送 /加入 姓名。",
    "people.who": "请 @ 此人，或写他的成员号（对方发送 /我的 可以看到）。",
    # units
    "organisation.bad_unit_name": "单位名不对：例如 历下分局，或带上级 济南市公安局/历下分局。",
    "organisation.unit_name_too_long": "单位名“{name}”太长：不超过{most}个字。",
    "organisation.unit_name_not_plain": "单位名请只写汉字、字母和数字，例如 历下分局。",
    "organisation.several_units": _several_units,
    "organisation.no_such_unit": "没有叫“{text}”的单位：请写完整的单位名，例如 历下分局。",
    "organisation.unit_not_yours": _unit_not_yours,
    "organisation.which_unit": _which_unit,
    # teams and their groups
    "organisation.bad_team_name": "队伍名请填1到{most}个字（汉字、字母和数字），例如 夕阳红巡逻队。",
    "organisation.bound_elsewhere": "本群已绑定“{team}”（{unit}），你无权改绑。",
    "organisation.no_unit_for_team": "没有单位“{text}”：请写你所在单位的名字，例如 /绑定队伍 {team} 历下分局",
    "organisation.which_unit_for_team": _which_unit_for_team,
    "organisation.unit_for_team_needed": "请写明队伍所属单位，例如 /绑定队伍 {team} 历下分局",
    "organisation.no_such_team": "没有叫“{name}”的队伍：请检查队名，或在该队的群里发送。",
    "organisation.several_teams": "有几个队伍叫“{name}”：请到该队的群里发送。",
    "organisation.group_not_bound": "本群还没有绑定队伍：民警请先发送 /绑定队伍 队伍名",
    "organisation.team_needed": "请在队伍群里发送，或在最后写上队伍名。",
    "organisation.not_active_member": "{name}还不是“{team}”的正式队员：请先通过他的加入申请。",
}


def text_for_grant(grant: Grant) -> str:
    state = "已授权" if grant.new else "本来就是"
    return f"{grant.member.name}（成员号 {grant.member.id}）{state}“{grant.unit.path}”的民警。"


def text_for_binding(binding: Binding) -> str:
    lines = [f"本群已绑定到“{binding.team.name}”（{binding.unit.path}）。"]
    if binding.created_team:
        lines.append("这是新建的队伍。")
    if binding.previous_team is not None:
        lines.append(f"原来绑定的是“{binding.previous_team.name}”。")
    lines.append("队员请发送：/加入 姓名 特长")
    return "\n".join(lines)


def text_for_leadership(leadership: Leadership) -> str:
    state = "已设为" if leadership.new else "本来就是"
    return f"{leadership.member.name}{state}“{leadership.team.name}”的队长。"


def text_for_officer_revoked(revoked: OfficerRevoked, unit_text: str | None) -> str:
    """`unit_text`: the unit as the administrator wrote it, if they named one."""
    who = f"{revoked.member.name}（成员号 {revoked.member.id}）"
    if not revoked.units:
        where = f"“{unit_text}”的" if unit_text is not None else ""
        return f"{who}本来就不是{where}民警，没有可撤销的。"
    lines = [f"已撤销{who}在“{'、'.join(revoked.units)}”的民警权限，已私信告知。"]
    if revoked.still:
        lines.append(f"他仍是“{'、'.join(revoked.still)}”的民警。")
    return "\n".join(lines)


def text_for_leader_removed(removed: LeaderRemoved) -> str:
    if not removed.changed:
        return f"{removed.member.name}本来就不是“{removed.team.name}”的队长。"
    return f"{removed.member.name}已不再是“{removed.team.name}”的队长，已私信告知。"


@render_notice.register
def _officer_role_ended(notice: OfficerRoleEndedNotice) -> str:
    return f"管理员已撤销你在“{'、'.join(notice.units)}”的民警权限。"


@render_notice.register
def _leadership_ended(notice: LeadershipEndedNotice) -> str:
    return f"你已不再是“{notice.team}”的队长（民警已撤销）。"


add_refusals(REFUSALS)
