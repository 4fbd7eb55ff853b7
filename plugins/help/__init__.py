"""/帮助 /help: what the caller may do here, by role and by chat."""

from nonebot import require
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")


from plugins._common import CurrentPlace, command, finish
from storage.services.organisation import get_group_team, get_rights

__plugin_meta__ = PluginMetadata(name="帮助", description="按身份和场合列出能用的命令", usage="/帮助 或 /help")

help_command = command("帮助", "help")

EVERYONE = [
    "/我的（/me）查看成员号、队伍、积分和身份",
    "/积分（/points）余额、本月排名、最近记录",
    "/排行榜（/leaderboard）[本周|本月|今年|总] [队伍|单位|全市] [积分|时长|线索]",
    "/商城（/shop）看奖品　/兑换（/redeem）编号　/兑换 看我的兑换单",
]
VOLUNTEER = [
    "/任务（/tasks）近期任务；/任务 编号 看名单",
    "/报名（/signup）编号　/取消报名（/cancel）编号",
    "/签到（/checkin）　/签退（/checkout）",
    "/线索（/tip）私聊报线索，可匿名　/我的线索（/mytips）　/补充（/tipadd）编号 内容",
    "/响应（/respond）[编号] 预计N分钟　响应紧急呼叫",
]
JOIN_IN_GROUP = "/加入（/join）姓名 特长　申请加入本队，手机号再私聊发给我"
LEADER = [
    "/审核（/pending）查看待审核的申请",
    "/通过（/approve）编号　通过申请",
    "/拒绝（/reject）编号 理由　拒绝申请",
    "/排行榜 单位 分队　各队人均排名",
    "/统计（/stats）[上月|今年|时间段] [队伍|单位]　文字和图表",
    "/导出（/export）[上月|时间段]　私聊发给你 Excel 表格",
]
OFFICER_GROUP = ["/绑定队伍（/bindteam）队伍名　把本群绑定到队伍"]
OFFICER = [
    "/发布任务（/newtask）巡逻 明天19:00 2小时 地点 10人 5分",
    "/线索列表（/tips）　/线索 编号　/核实（/verify）　/驳回（/dismiss）　/回复线索（/tipreply）（均在私聊）",
    "/设为警务群（/setpolicegroup）在只有民警的群里发，新线索提醒发到这里",
    "/紧急（/alert）情况 需要N人 [需要:特长]　/紧急 编号 看响应　/紧急 结束 编号 结果 积分N",
    "/取消任务（/canceltask）编号 原因　/结束任务（/closetask）编号",
    "/设队长（/setleader）@某人 或 成员号　任命队长；/撤销队长（/unsetleader）同样写法",
    "/奖励（/award）@某人 或 成员号 分数 理由　奖励或扣分（负数）",
    "/商城 上架 名称 积分N 库存N [每人N]　/商城 下架 编号　/商城 库存 编号 数量",
    "/发放（/fulfil）看待发放；/发放 兑换单号；/发放 取消 兑换单号 理由",
]
ADMIN = [
    "/授权民警（/grant）@某人 或 成员号 单位名　授权民警",
    "/撤销民警（/revoke）@某人 或 成员号 [单位名]　撤销民警（不写单位即全部）",
    "/发件箱（/outbox）待发和发送失败的消息；/发件箱 重发 全部",
]


@help_command.handle()
async def show_help(place: CurrentPlace) -> None:
    rights = await get_rights(place.caller)
    located = await get_group_team(place.caller.platform, place.group_id) if place.in_group else None
    lines = ["义警助手，能用的命令："]
    if place.in_group:
        if located is None:
            lines.append("本群还没有绑定队伍。")
        else:
            lines.append(f"本群是“{located.team.name}”（{located.unit.path}）的队伍群。")
            lines.append(JOIN_IN_GROUP)
    else:
        lines.append("加入队伍请到队伍群里发送 /加入 姓名")
    lines.extend(EVERYONE)
    lines.extend(VOLUNTEER)
    if rights.is_officer or rights.leader_team_ids:
        lines.append("【队长和民警】")
        lines.extend(LEADER)
    if rights.is_officer:
        lines.append("【民警】")
        if place.in_group:
            lines.extend(OFFICER_GROUP)
        else:
            lines.append("/绑定队伍 请在要绑定的群里发送")
        lines.extend(OFFICER)
    if rights.is_admin:
        lines.append("【管理员】")
        lines.extend(ADMIN)
    lines.append("每个命令不带内容发送，会告诉你怎么写。")
    await finish("\n".join(lines))
