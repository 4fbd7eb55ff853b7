"""Every command, in the order /帮助, README's table and Telegram's menu list them: by who uses them.

A row starts with the command's name, its English alias, its order of use (1 for the most used: its NoneBot
priority) and who /帮助 shows it to; the fields are described in model.py. A new command gets a row here before
`plugins._common.command()` will declare it; then `python -m plugins._commands` prints README's table and menu to
paste (tests/test_commands.py compares them).
"""

from __future__ import annotations

from plugins._commands.model import Audience, Command, Usage, Where

EVERYONE, LEADERS = Audience.EVERYONE, Audience.LEADERS
OFFICERS, ADMINISTRATORS = Audience.OFFICERS, Audience.ADMINISTRATORS
SAME_LINE = "　"
"""/帮助 puts a command with `continues=SAME_LINE` after the one before, on its line."""

TABLE: tuple[Command | Usage, ...] = (
    # everyone
    Command(
        "帮助", "help", 10, EVERYONE, help=None, menu="帮助", who="everyone",
        what="what you may do here, by role and by chat",
    ),
    Command(
        "加入", "join", 11, EVERYONE, help="姓名 特长　申请加入本队，手机号再私聊发给我",
        where=Where.TEAM_GROUP, in_private="加入队伍请到队伍群里发送 /加入 姓名",
        menu="加入队伍: /join 姓名 特长（手机号私聊发）", usage="姓名 [特长…]", who="anyone in a bound group",
        what="apply to that group's team: the bot asks for the phone number in private (send it there, as "
        "`13800138000` or `/加入 13800138000`); a number typed into the group anyway still applies and is never "
        "said back; applying twice changes nothing",
    ),
    Command(
        "我的", "me", 9, EVERYONE, help="查看成员号、队伍、积分和身份", menu="我的信息", who="everyone",
        what="member number, teams, specialties, roles, status; phone masked (138****0001); in private, in the console "
        "and to administrators also your account as `[bot] superusers` names it (`onebot:12345`)",
    ),
    Command(
        "积分", "points", 7, EVERYONE, help="余额、本月排名、最近记录", menu="我的积分", who="members",
        what="balance (with what anonymous tips paid, shown to you alone), points earned this month and place in "
        "the team and the unit, the last five entries with reasons",
    ),
    Command(
        "排行榜", "leaderboard", 8, EVERYONE, help="[本周|本月|今年|总] [队伍|单位|全市] [积分|时长|线索]",
        menu="排行榜: /leaderboard week city hours", usage="[本周|本月|今年|总] [队伍|单位|全市] [积分|时长|线索]",
        alias_usage="[week|month|year|all] [team|unit|city] [points|hours|tips]", who="members",
        what="top ten and your own place, as text and as a picture (default: this month, this group's team, "
        "points); `/排行榜 单位 分队` ranks the unit's teams by points per member, for the unit's officers and the "
        "leaders of its teams. The tips board counts verified tips reported under a name only",
    ),
    Command(
        "商城", "shop", 15, EVERYONE, help="看奖品", menu="积分商城", who="members, officers",
        what="rewards you can redeem (your units' and the ones in `[shop] rewards`); officers: "
        "`/商城 上架 名称 积分N [库存N] [每人N] [单位:名称]`, `/商城 下架 编号`, `/商城 库存 编号 数量`",
    ),
    Command(
        "兑换", "redeem", 16, EVERYONE, help="编号　/兑换 看我的兑换单", continues=SAME_LINE,
        menu="兑换: /redeem 编号", usage="编号", who="members",
        what="spend points on a reward (never below zero; stock and per-member limits hold even for simultaneous "
        "clicks); `/兑换` lists your redemptions, `/兑换 取消 单号` cancels one not yet handed over and refunds it",
    ),
    Command(
        "任务", "tasks", 6, EVERYONE, help="近期任务；/任务 编号 看名单", menu="任务列表: /tasks 或 /tasks 编号",
        usage="[编号]", who="everyone",
        what="open tasks of this group's team (in private: of your teams); with a number, the task and its roster, "
        "for the members of its teams, their leaders and the officers covering them (anyone else is answered as for "
        "a task that does not exist)",
    ),
    Command(
        "报名", "signup", 3, EVERYONE, help="编号", menu="报名: /signup 编号", usage="编号",
        who="members of a target team",
        what="sign up; past capacity you wait in order and move up when someone cancels",
    ),
    Command(
        "取消报名", "cancel", 5, EVERYONE, help="编号", continues=SAME_LINE, menu="取消报名: /cancel 编号",
        usage="编号", who="volunteers", what="cancel; the first one waiting moves up and is told",
    ),
    Command(
        "签到", "checkin", 1, EVERYONE, help="", menu="签到: /checkin", usage="[编号]", who="volunteers",
        what="from 30 minutes before the start until the end; share your location within a minute to have it "
        "checked",
    ),
    Command(
        "签退", "checkout", 2, EVERYONE, help="", continues=SAME_LINE, menu="签退: /checkout", usage="[编号]",
        who="volunteers", what="check out; hours count only between the task's start and end",
    ),
    Command(
        "线索", "tip", 12, EVERYONE, help="私聊报线索，可匿名", menu="报线索（私聊）", who="members, in private",
        what="report a tip step by step (category, what happened, photos, location, anonymous or not, confirm), or "
        "in one message: `/线索 赌博 某小区3号楼地下室…` (anonymous unless you write 实名); in a group it only "
        "points to private chat",
    ),
    Command(
        "我的线索", "mytips", 14, EVERYONE, help="", continues=SAME_LINE, menu="我的线索", who="reporters",
        what="your tips and their status",
    ),
    Command(
        "补充", "tipadd", 13, EVERYONE, help="编号 内容", continues=SAME_LINE, menu="补充线索: /tipadd 编号 内容",
        usage="编号 内容", who="reporters", what="add text or photos to your tip, or answer an officer's question",
    ),
    Command(
        "响应", "respond", 4, EVERYONE, help="[编号] 预计N分钟　响应紧急呼叫", menu="响应紧急呼叫: /respond 5分钟",
        usage="[编号] [预计N分钟]", who="volunteers",
        what="answer a call-out (without a number: the open one for your unit); the officer is told when enough "
        "have answered, and a call-out short of its need after `[emergency] escalate_after_minutes` goes once more "
        "to the parent unit's groups too",
    ),
    # leaders and officers
    Command(
        "审核", "pending", 18, LEADERS, help="查看待审核的申请", menu="待审核的申请", who="leaders, officers",
        what="applications waiting (in a group: that team's; in private: all you may decide)",
    ),
    Command(
        "通过", "approve", 19, LEADERS, help="编号　通过申请", menu="通过申请: /approve 编号", usage="编号|@某人",
        who="leaders, officers", what="approve; the applicant is told in the group and privately",
    ),
    Command(
        "拒绝", "reject", 20, LEADERS, help="编号 理由　拒绝申请", menu="拒绝申请: /reject 编号 理由",
        usage="编号 [理由]", who="leaders, officers", what="reject, with a reason the applicant is told",
    ),
    Usage("排行榜", LEADERS, "单位 分队　各队人均排名"),
    Command(
        "统计", "stats", 31, LEADERS, help="[上月|今年|时间段] [队伍|单位]　文字和图表", menu="统计: /stats 上月 单位",
        usage="[本周|上周|本月|上月|今年|时间段] [队伍|单位] [单位:名称]", who="officers; leaders for their team",
        what="patrol person-times, check-ins, hours served, tasks, attendance and no-show rates, tips received and "
        "verified, hazards and disputes logged (安全隐患 and 矛盾纠纷 tips, 隐患排查 check-ins, 调解 tasks), new "
        "members, emergency call-outs with the median time to the first answer; a unit's sub-units and teams each "
        "on a line; text and a bar chart",
    ),
    Command(
        "导出", "export", 32, LEADERS, help="[上月|时间段]　私聊发给你 Excel 表格",
        menu="导出表格（私聊）: /export 上月", usage="[期间] [单位:名称]",
        who="officers; leaders for their team; in private",
        what="an XLSX workbook sent to you as a file: members (phones masked), tasks with attendance, each "
        "attendance, the ledger, and for officers the tips (anonymous reporters never named; a tip reward in the "
        "ledger shows its day only, with no tip number; anonymous rewards appear only as one line per weekly payout "
        "of a unit, without names; the members sheet shows points earned, not balances). Refused in a group. A "
        "sheet stops at 100,000 rows, and the reply says so (export a shorter period or a smaller unit)",
    ),
    # officers
    Command(
        "绑定队伍", "bindteam", 33, OFFICERS, help="队伍名　把本群绑定到队伍", where=Where.GROUP,
        in_private="/绑定队伍 请在要绑定的群里发送", menu="绑定队伍: /bindteam 队伍名", usage="队伍名 [单位]",
        who="officers", what="bind this group to a team of your unit (created if new)",
    ),
    Command(
        "发布任务", "newtask", 21, OFFICERS, help="巡逻 明天19:00 2小时 地点 10人 5分",
        menu="发布任务: /newtask 巡逻 明天19:00 2小时 地点 10人", usage="…", who="officers",
        what="post a task in one line (below), or step by step when sent alone; a card goes to every target group",
    ),
    Command(
        "线索列表", "tips", 25, OFFICERS, help="", menu="线索列表（民警）", usage="[状态]", who="officers, in private",
        what="tips of your unit and those below it (number, category, status, who handles it)",
    ),
    Command(
        "查看线索", "tipview", 24, OFFICERS, help="编号", continues=SAME_LINE, menu="查看线索（民警）: /tipview 编号",
        usage="编号", who="officers, in private",
        what="one tip with its history and photos (opening a new one takes it on); `/线索 编号` does the same",
    ),
    Command(
        "核实", "verify", 26, OFFICERS, help="", continues=SAME_LINE, menu="核实线索: /verify 编号 积分",
        usage="编号 [积分] [备注]", who="officers, in private",
        what="verify and reward once (points by category from `[tips]`; an anonymous tip's reward is paid with the "
        "unit's weekly batch, see below); the reporter is told",
    ),
    Command(
        "驳回", "dismiss", 27, OFFICERS, help="", continues=SAME_LINE, menu="驳回线索: /dismiss 编号 理由",
        usage="编号 理由", who="officers, in private",
        what="reject, or `/驳回 编号 重复 原编号` for a duplicate; the reporter is told",
    ),
    Command(
        "回复线索", "tipreply", 28, OFFICERS, help="（均在私聊）", continues=SAME_LINE,
        menu="回复举报人: /tipreply 编号 内容", usage="编号 内容", who="officers, in private",
        what="ask the reporter through the bot, without your name",
    ),
    Command(
        "设为警务群", "setpolicegroup", 36, OFFICERS, help="在只有民警的群里发，新线索提醒发到这里",
        menu="设为警务群（民警）", usage="[单位]", who="officers",
        what="make this officers-only group the place where new tips are announced (number, category and unit only)",
    ),
    Command(
        "紧急", "alert", 17, OFFICERS, help="情况 需要N人 [需要:特长]　/紧急 编号 看响应　/紧急 结束 编号 结果 积分N",
        menu="紧急呼叫（民警）: /alert 情况 需要N人", usage="情况 [需要N人] [需要:特长] [范围:单位]", who="officers",
        what="emergency call-out to every group of your unit and its sub-units, first in the queue; with 需要:特长 "
        "also privately to members with those specialties who are not on a task right now. `/紧急 编号`: who "
        "answered, how many minutes after the call and their ETA; `/紧急 结束 编号 [结果] [积分N]`: close, awarding "
        "each responder once",
    ),
    Command(
        "取消任务", "canceltask", 22, OFFICERS, help="编号 原因", menu="取消任务: /canceltask 编号 原因",
        usage="编号 [原因]", who="officers", what="cancel; everyone signed up or waiting is told",
    ),
    Command(
        "结束任务", "closetask", 23, OFFICERS, help="编号", continues=SAME_LINE, menu="结束任务: /closetask 编号",
        usage="编号", who="officers",
        what="close: no-shows, final attendance, points once, a summary to the groups (also automatic an hour after "
        "the end)",
    ),
    Command(
        "设队长", "setleader", 34, OFFICERS, help="@某人 或 成员号　任命队长", menu="设队长: /setleader 成员号",
        usage="@某人|成员号 [队伍名]", who="officers", what="appoint an active member of the team as its leader",
    ),
    Command(
        "撤销队长", "unsetleader", 38, OFFICERS, help="同样写法", continues="；", menu="撤销队长: /unsetleader 成员号",
        usage="@某人|成员号 [队伍名]", who="officers of the team's unit or above",
        what="end someone's leadership of the team (in its group, or name the team); audited, and they are told "
        "privately",
    ),
    Command(
        "奖励", "award", 29, OFFICERS, help="@某人 或 成员号 分数 理由　奖励或扣分（负数）",
        menu="奖励或扣分（民警）: /award 成员号 分数 理由", usage="@某人|成员号 分数 理由", who="officers",
        what="add points (or take them with a negative number) for members of your units' teams; audited, the "
        "member is told privately; the same award sent twice within a minute counts once. `[points] daily_cap` and "
        "`monthly_cap` hold every kind of earning (a gain over a cap is recorded as far as it allows, and says so)",
    ),
    Usage("商城", OFFICERS, "上架 名称 积分N 库存N [每人N]　/商城 下架 编号　/商城 库存 编号 数量"),
    Command(
        "发放", "fulfil", 30, OFFICERS, help="看待发放；/发放 兑换单号；/发放 取消 兑换单号 理由",
        menu="发放奖品（民警）: /fulfil 兑换单号", usage="[兑换单号]", who="officers",
        what="list what waits to be handed over; mark one handed over (the member is told); `/发放 取消 单号 理由` "
        "cancels and refunds",
    ),
    # administrators
    Command(
        "授权民警", "grant", 35, ADMINISTRATORS, help="@某人 或 成员号 单位名　授权民警",
        menu="授权民警: /grant 成员号 单位名", usage="@某人|成员号 单位名", who="administrators",
        what="make someone an officer of a unit; `市局/分局` creates the path",
    ),
    Command(
        "撤销民警", "revoke", 39, ADMINISTRATORS, help="@某人 或 成员号 [单位名]　撤销民警（不写单位即全部）",
        menu="撤销民警: /revoke 成员号 [单位名]", usage="@某人|成员号 [单位名]", who="administrators",
        what="end someone's officer role in that unit, or in every unit when none is named; audited, and they are "
        "told privately. Takes effect with their next message",
    ),
    Command(
        "发件箱", "outbox", 37, ADMINISTRATORS, help="待发和发送失败的消息；/发件箱 重发 全部", menu="发件箱（管理员）",
        usage="[重发 全部|编号…]", who="administrators",
        what="what waits to be sent and what failed for good (with the reason); put failed ones back",
    ),
)  # fmt: skip
