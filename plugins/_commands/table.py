"""Every command, in the order /帮助, README's table and Telegram's menu list them: by who uses them.

A row starts with the command's name, its English alias, its order of use (1 for the most used: its NoneBot
priority) and who /帮助 shows it to; the fields are described in model.py. A new command gets a row here before
`plugins._common.command()` will declare it; then `python -m plugins._commands` prints README's table and menu to
paste (tests/test_commands.py compares them).
"""

from __future__ import annotations

from plugins._commands.model import Audience, Command, Topic, Usage, Where

EVERYONE, LEADERS = Audience.EVERYONE, Audience.LEADERS
OFFICERS, ADMINISTRATORS = Audience.OFFICERS, Audience.ADMINISTRATORS
SAME_LINE = "　"
"""/帮助 puts a command with `continues=SAME_LINE` after the one before, on its line."""

TABLE: tuple[Command | Usage, ...] = (
    # everyone
    Command(
        "帮助", "help", 10, EVERYONE, help=None, menu="帮助", who="everyone",
        brief="", does="看你在这里常用的命令；加主题或命令名看更多", example="/帮助 报名",
        usage="[主题|命令名]",
        what="a short menu (at most 12 lines on a phone) of what you do most here, by role and by chat, naming "
        "your topics; `/帮助 任务` (a topic) lists its commands you may use here, `/帮助 报名` or `/help signup` (a "
        "command) says what it does, how to write it and gives an example. A member's first `/帮助` in a group "
        "shows the three things volunteers do instead",
    ),
    Command(
        "加入", "join", 11, EVERYONE, help="姓名 特长　申请加入本队，登记问题再私聊回答；/加入 邀请码（私聊）",
        topic=Topic.TEAM, brief="姓名 特长　申请入队",
        does="申请加入本群的队伍，登记问题私聊回答；有邀请码就私聊发 /加入 邀请码",
        example="/加入 张三 驾驶 医护",
        where=Where.TEAM_GROUP, in_private="加入队伍：有邀请码就发送 /加入 邀请码；没有就到队伍群里发送 /加入 姓名",
        menu="加入队伍: /join 姓名 特长，或私聊 /join 邀请码", usage="姓名 [特长…] | 邀请码",
        who="anyone in a bound group; anyone with an invite code, in private",
        what="apply to that group's team (a name is 2–20 letters, Chinese or Latin, `·` between parts: no "
        "digits, emoji or markup), or, in private, `/加入 AB3CD5EF` to the team of an invite code (Telegram's "
        "`/start AB3CD5EF`, what the invite's link sends, is the same). The bot then asks in private, one question "
        "at a time: name (with a code), phone (`13800138000`, `138 0013 8000`, `+86 138-0013-8000`), ID number "
        "(only with `[members] ask_id_number`; checked by its check digit), area, employer, profession, specialties "
        "(`无` skips), an emergency contact (who and a phone), then the consent text (`[members] consent_text`): "
        "`同意` sends the application, `不同意` keeps nothing. Answers are shown back masked and kept between steps "
        "(a restart loses nothing; an unfinished application is deleted after 3 days); `取消` or another command "
        "ends it and deletes them. A number typed into the group anyway is kept for the application, never said "
        "back, and the rest is asked in private as always (a number another member holds is asked for again "
        "there); applying twice changes nothing. An expired, revoked or full code is refused",
    ),
    Command(
        "我的", "me", 9, EVERYONE, help="查看成员号、队伍、积分和身份", menu="我的信息", who="everyone",
        topic=Topic.TEAM, brief="看成员号和队伍", does="看自己的成员号、队伍、特长、积分和身份",
        example="/我的",
        what="member number, teams, specialties, roles, status; phone masked (138****0001); in private, in the console "
        "and to administrators also your account as `[bot] superusers` names it (`onebot:12345`)",
    ),
    Command(
        "档案", "profile", 46, EVERYONE, help="私聊看自己的档案", continues=SAME_LINE, menu="我的档案（私聊）",
        topic=Topic.TEAM, brief="私聊看档案", does="私聊看自己的档案：身份（打码）、特长、政审、保险、队伍和成绩",
        example="/档案", usage="[成员号]", who="members, in private; officers and leaders with a number",
        what="your file (一人一档) in private: name, phone and ID number masked (138****0001, 3701**********1234), "
        "emergency contact, area, employer, industry, profession, specialties (✓ verified by an officer), joining "
        "date, vetting (its result and day; the officer's note only with `[members] tell_vetting_note`, never "
        "who checked), insurance, teams and roles, hours, tasks, verified tips, points and 义警之星 months. "
        "`/档案 成员号`: an officer sees a member of a team in their units or below, a leader a member of their "
        "own team (without ID number, emergency contact or vetting notes), both written to the audit log; anyone "
        "else is refused alike whether the member exists or not. In a group it only points to private chat",
    ),
    Command(
        "标签", "tag", 48, EVERYONE, help="+驾驶 -摄影　改自己的特长",
        topic=Topic.TEAM, brief="+特长 -特长", does="增减自己填的特长；民警核实后会标 ✓",
        example="/标签 +驾驶 -摄影", menu="改特长: /tag +驾驶 -摄影", usage="[成员号] +特长 -特长",
        who="members; officers with a number",
        what="add (+) or remove (-) the specialties you declared (unverified); an officer of the member's unit "
        "writes `/标签 成员号 +救援 -驾驶`: + marks a declared specialty verified or adds a new one verified, - "
        "removes it from both; audited, and the member is told privately. Which ones a task's 需要: accepts is "
        "`[members] required_tags_from`",
    ),
    Command(
        "我的数据", "mydata", 44, EVERYONE, help="私聊要一份自己的全部数据", menu="我的数据（私聊）",
        who="members, in private",
        topic=Topic.TEAM, brief="私聊要一份自己的数据",
        does="私聊把机器人记着的关于你的全部信息发给你，一个表格文件，一小时一次",
        example="/我的数据",
        what="an XLSX file, one sheet per kind, of everything the bot holds about you, unmasked (it is yours): your "
        "file, accounts, teams and roles, applications, sign-ups and attendance, points history, the tips you "
        "reported with their history (never which officer handled them), redemptions, emergency responses, vetting, "
        "insurance and the audit entries by or about you; once an hour; in a group it only points to private chat",
    ),
    Command(
        "删除我的信息", "forgetme", 45, EVERYONE, help="删除自己的信息（要确认）", continues=SAME_LINE,
        menu="删除我的信息（私聊）", who="members, in private",
        topic=Topic.TEAM, brief="",
        does="私聊删除你的个人信息和平台账号，回复“确认”才删；积分、时长的数字留着，不再属于任何人",
        example="/删除我的信息",
        what="erase yourself after answering 确认 within a minute: name, phone, ID number, emergency contact, file "
        "fields, tags, accounts, roles, applications and messages to you go; points, attendance and hours stay "
        "as figures of no one (shown as 已注销队员); your tips stay for the police, no longer linked to you. "
        "Refused while a redemption of yours waits (/兑换 取消 单号) or you hold a place on a task not over "
        "(/取消报名 编号). The same account can /加入 again later, as a new member",
    ),
    Command(
        "课程", "course", 52, EVERYONE, help="[编号]　看可以参加的培训课程", menu="培训课程: /course 编号",
        topic=Topic.TRAINING, brief="看课程", does="看你可以参加的培训课程，加编号看一门课程和你是否已完成",
        example="/课程 3",
        usage="[编号] | 新建 名称 [有效期2年|6个月|长期] 授予:资质 [及格80分] [线上] [单位:名称] [说明] | "
        "资料 编号 文字 [链接] | 停用 编号",
        alias_usage="[编号] | new … | material 编号 … | retire 编号",
        who="everyone; officers define, give material and retire",
        what="a member sees the courses of their teams' units and the units above (what each grants, how long it "
        "counts, whether they completed it); `/课程 编号` shows one, how to complete it (a session, its quiz, or "
        "online) and their own completion. An officer sees their units' courses and those above with how many "
        "hold each, and in private who completed a course and who is due to renew (runs out within 30 days or "
        "ran out); `/课程 新建 山地救援 有效期2年 授予:救援 及格80分 说明…` defines one for their unit (`单位:` "
        "names another of theirs; `线上`: passing the quiz completes it; without a validity it counts for good); "
        "`/课程 资料 编号 文字 链接` with pictures in the same message is what `/学习` shows first; `/课程 停用 "
        "编号` retires it (what it granted stays valid until it runs out). All audited. A course of another unit "
        "reads as one that does not exist",
    ),
    Command(
        "资质", "quals", 54, EVERYONE, help="看自己的资质和到期时间", continues=SAME_LINE, menu="我的资质",
        topic=Topic.TRAINING, brief="看资质", does="看你完成课程取得的资质、到期时间和要复训的课程",
        example="/资质", who="members",
        what="your qualifications (what completed courses grant), each with its last day (长期 for good), those "
        "running out within 30 days and those run out, with the course to retake; a task's `需要:` always accepts "
        "a valid qualification for what it grants",
    ),
    Command(
        "学习", "study", 55, EVERYONE, help="课程编号　私聊看资料、考试", menu="学习课程: /study 编号",
        topic=Topic.TRAINING, brief="课程编号", does="私聊看课程的资料，再一题一题考试；及格就结业或等培训结业",
        example="/学习 3", usage="课程编号", who="members, in private",
        what="in private: shows a course's material (text, link, pictures), then asks its quiz one question at a "
        "time (`B`, `AC`, `对`/`错`; 取消 stops), scores it and records the attempt. A pass completes an online "
        "course and grants its qualifications at once; for a course with sessions it counts once a session of it "
        "is attended. The result names the questions answered wrong with the right answer. After a failed attempt "
        "the next waits `quiz_retry_after_hours` ([training]); a quiz left unanswered expires and records nothing. "
        "In a group it only says to send it in private",
    ),
    Command(
        "积分", "points", 7, EVERYONE, help="余额、本月排名、最近记录", menu="我的积分", who="members",
        topic=Topic.POINTS, brief="看余额", does="看积分余额、本月排名和最近的积分记录",
        example="/积分",
        what="balance (with what anonymous tips paid, shown to you alone), points earned this month and place in "
        "the team and the unit, the last five entries with reasons",
    ),
    Command(
        "排行榜", "leaderboard", 8, EVERYONE, help="[本周|上月|10月|去年|总] [队伍|单位|全市] [积分|时长|线索]",
        topic=Topic.BOARDS, brief="看排名", does="看前十名和自己的名次，默认本月、本队、积分",
        example="/排行榜 本周 全市 时长",
        menu="排行榜: /leaderboard week city hours", usage="[本周|上周|本月|上月|10月|今年|去年|总] "
        "[队伍|单位|全市] [积分|时长|线索]",
        alias_usage="[week|month|year|all] [team|unit|city] [points|hours|tips]", who="members",
        what="top ten and your own place as text, and the top ten as a picture, the same for everyone who asks "
        "(none while nobody is on the board) (default: this month, this group's team, points); a past week, "
        "month or year is written as `/统计` takes it (上周, 上月, 10月, 2026年10月, 去年) "
        "and named in the heading and on the picture; `/排行榜 单位 分队` ranks the unit's teams by points per "
        "member, for the unit's officers and the "
        "leaders of its teams. The tips board counts verified tips reported under a name only",
    ),
    Command(
        "商城", "shop", 15, EVERYONE, help="看奖品", menu="积分商城", who="members, officers",
        topic=Topic.POINTS, brief="看奖品", does="看能用积分兑换的奖品",
        example="/商城",
        what="rewards you can redeem (your units' and the ones in `[shop] rewards`); officers: "
        "`/商城 上架 名称 积分N [库存N] [每人N] [单位:名称]`, `/商城 下架 编号`, `/商城 库存 编号 数量`",
    ),
    Command(
        "兑换", "redeem", 16, EVERYONE, help="编号　/兑换 看我的兑换单", continues=SAME_LINE,
        topic=Topic.POINTS, brief="编号", does="用积分兑换奖品；不带编号看我的兑换单",
        example="/兑换 3",
        menu="兑换: /redeem 编号", usage="编号", who="members",
        what="spend points on a reward (never below zero; stock and per-member limits hold even for simultaneous "
        "clicks); `/兑换` lists your redemptions, `/兑换 取消 单号` cancels one not yet handed over and refunds it",
    ),
    Command(
        "任务", "tasks", 6, EVERYONE, help="近期任务；/任务 编号 看名单", menu="任务列表: /tasks 或 /tasks 编号",
        topic=Topic.TASKS, brief="看近期任务", does="看近期任务；带编号看这个任务和报名名单",
        example="/任务 12",
        usage="[编号]", who="everyone",
        what="open tasks of this group's team (in private: of your teams); with a number, the task and its roster, "
        "for the members of its teams, their leaders and the officers covering them (anyone else is answered as for "
        "a task that does not exist)",
    ),
    Command(
        "报名", "signup", 3, EVERYONE, help="编号", menu="报名: /signup 编号", usage="编号",
        topic=Topic.TASKS, brief="编号", does="报名参加任务；满员后排队，有人取消就补上",
        example="/报名 12",
        who="members of a target team",
        what="sign up; past capacity you wait in order and move up when someone cancels",
    ),
    Command(
        "取消报名", "cancel", 5, EVERYONE, help="编号", continues=SAME_LINE, menu="取消报名: /cancel 编号",
        topic=Topic.TASKS, brief="编号", does="取消报名，排队的第一个人会补上",
        example="/取消报名 12",
        usage="编号", who="volunteers", what="cancel; the first one waiting moves up and is told",
    ),
    Command(
        "签到", "checkin", 1, EVERYONE, help="到场发", menu="签到: /checkin", usage="[编号]", who="volunteers",
        topic=Topic.ATTENDANCE, brief="到场发", does="到场签到（开始前30分钟到结束前）；签到后一分钟内发位置可以核对",
        example="/签到",
        what="from 30 minutes before the start until the end; share your location within a minute to have it "
        "checked",
    ),
    Command(
        "签退", "checkout", 2, EVERYONE, help="离开发", continues=SAME_LINE, menu="签退: /checkout", usage="[编号]",
        topic=Topic.ATTENDANCE, brief="离开发", does="离开时签退，按任务时间算时长",
        example="/签退",
        who="volunteers", what="check out; hours count only between the task's start and end",
    ),
    Command(
        "线索", "tip", 12, EVERYONE, help="私聊报线索，可匿名", menu="报线索（私聊）", usage="[类别 内容]",
        who="members, in private",
        topic=Topic.TIPS, brief="私聊报线索，可匿名", does="私聊报线索，一步步来，或一句话写完；默认匿名",
        example="/线索 赌博 某小区3号楼地下室每晚有人聚赌",
        what="report a tip step by step (category, what happened, photos, location, anonymous or not, confirm), or "
        "in one message: `/线索 赌博 某小区3号楼地下室…` (anonymous unless you write 实名); in a group it only "
        "points to private chat",
    ),
    Command(
        "我的线索", "mytips", 14, EVERYONE, help="看进度", continues=SAME_LINE, menu="我的线索", who="reporters",
        topic=Topic.TIPS, brief="", does="看自己报的线索和处理进度",
        example="/我的线索",
        what="your tips and their status",
    ),
    Command(
        "补充", "tipadd", 13, EVERYONE, help="编号 内容", continues=SAME_LINE, menu="补充线索: /tipadd 编号 内容",
        topic=Topic.TIPS, brief="编号 内容", does="给自己的线索补充文字或照片，或回答民警的问题",
        example="/补充 12 今晚又来了五六个人",
        usage="编号 内容", who="reporters", what="add text or photos to your tip, or answer an officer's question",
    ),
    Command(
        "响应", "respond", 4, EVERYONE, help="[编号] 预计N分钟　响应紧急呼叫", menu="响应紧急呼叫: /respond 5分钟",
        topic=Topic.EMERGENCY, brief="响应紧急呼叫", does="响应紧急呼叫，可以写预计几分钟到",
        example="/响应 预计10分钟",
        usage="[编号] [预计N分钟]", who="volunteers",
        what="answer a call-out (without a number: the open one for your unit); answering again with 预计N分钟 "
        "updates your estimate, from then, in the officer's `/紧急 编号`; the officer is told when enough "
        "have answered, and a call-out short of its need after `[emergency] escalate_after_minutes` goes once more "
        "to the parent unit's groups too",
    ),
    Command(
        "保险", "insurance", 40, EVERYONE, help="看自己的保险", menu="我的保险",
        who="members; officers for their units' members",
        topic=Topic.TEAM, brief="看自己的保险", does="看自己登记的保险和有效期（保单号部分隐去）",
        example="/保险",
        usage="[成员号 [保险公司 保单号 有效期至]]",
        what="your own policy as officers recorded it (insurer, policy number partly masked, valid until). Officers "
        "of the member's units: `/保险 成员号 保险公司 保单号 有效期至` records one (a date as people write it: "
        "2027-6-30, 2027年6月30日; audited, the member is told privately), `/保险 成员号` shows the member's current "
        "policy (the number whole in private, masked in a group). The member and the leaders of their teams are "
        "reminded privately 30 and 7 days before it runs out (`[members] insurance_reminder_days`), once each; "
        "with `[members] require_insurance` a member without a policy valid on a task's day cannot sign up for it",
    ),
    Command(
        "退出", "leave", 41, EVERYONE, help="[队伍名]　退出队伍（要回复确认）", menu="退出队伍: /leave 队伍名",
        topic=Topic.TEAM, brief="[队伍名]　退出队伍", does="退出队伍，你报名的这个队伍还没开始的任务会一并取消",
        example="/退出 夕阳红巡逻队",
        usage="[队伍名]", who="members",
        what="leave a team (your only team, or the one named; in a team's group, that team) after 确认 within a "
        "minute: your sign-ups to its open tasks not yet started are cancelled (not those also for another team "
        "you stay in), the first one waiting on each moves up and is told, the team's leaders are told, and a "
        "leader's leadership of the team ends. Your history (attendance, points) stays; `/加入` applies again",
    ),
    # leaders and officers
    Command(
        "审核", "pending", 18, LEADERS, help="查看待审核的申请", menu="待审核的申请", who="leaders, officers",
        topic=Topic.TEAM, brief="看申请", does="看等待审核的入队申请",
        example="/审核",
        what="applications waiting (in a group: that team's; in private: all you may decide); with the vetting "
        "stage or the onboarding course on (`[members] stages`), by stage: 待政审 (by member number, for `/政审`), "
        "待培训 (for `/结业`) and 待审批",
    ),
    Command(
        "通过", "approve", 19, LEADERS, help="编号　通过申请", menu="通过申请: /approve 编号", usage="编号|@某人",
        topic=Topic.TEAM, brief="编号", does="通过入队申请，申请人会收到通知",
        example="/通过 12",
        who="leaders, officers", what="approve; the applicant is told in the group and privately; with the "
        'vetting stage on, refused until an officer recorded a passed check (`/政审`); with "trained", until the '
        "applicant completed `[members] onboarding_course`, saying how",
    ),
    Command(
        "认领", "claim", 51, LEADERS, help="编号 通过|拒绝 [理由]　确认名册认领", menu="确认名册认领: /claim 编号 通过",
        topic=Topic.TEAM, brief="编号 通过", does="核对是本人后，让申请人的账号接管名册里导入的队员",
        example="/认领 3 通过", usage="编号 通过|拒绝 [理由]", alias_usage="编号 pass|reject [理由]",
        who="leaders, officers",
        what="someone whose name and phone are those of a member the roster import registered (who has no account "
        "yet) applies, in the team's group or with its invite code: the account becomes that member only once a "
        "leader of the team or an officer of its unit confirms it is the same person. The claim is listed in "
        "`/审核` and the team's leaders (without one, its officers) are told privately; `通过` links the account "
        "(its answers fill what the record lacks), `拒绝` keeps nothing; the claimant is told either way, audited. "
        "A claim nobody decides lapses after 14 days, the claimant told",
    ),
    Command(
        "拒绝", "reject", 20, LEADERS, help="编号 理由　拒绝申请", menu="拒绝申请: /reject 编号 理由",
        topic=Topic.TEAM, brief="编号 理由", does="拒绝入队申请，理由会告诉申请人",
        example="/拒绝 12 不是本小区居民",
        usage="编号 [理由]", who="leaders, officers", what="reject, with a reason the applicant is told",
    ),
    Command(
        "招募", "invite", 49, LEADERS,
        help="[队伍名] [有效期] [名额]　发邀请码和二维码；/招募 看我的；/招募 撤销 邀请码",
        topic=Topic.TEAM, brief="招新队员", does="发一个邀请码和二维码，没进群的人私聊我 /加入 邀请码 就能申请",
        example="/招募 夕阳红巡逻队 7天 30人",
        menu="招募（邀请码）: /invite 队伍名 7天 30人", usage="[队伍名] [有效期] [名额|不限] | 撤销 邀请码",
        who="leaders for their team, officers for their units' teams",
        what="an invite code (8 letters and digits, at least two digits, no 0/O/1/I/l) for a team, valid for "
        "`[members] invite_days` and `invite_places` applications unless given (`7天`, `2周`, `48小时`; `30人`, "
        "`不限`), with a QR picture: on Telegram of the bot's `t.me/<bot>?start=CODE` link, elsewhere of the "
        "words to send (`/加入 CODE`); `/招募` alone lists your live codes (team, used/places, expiry); "
        "`/招募 撤销 CODE` ends one (applications it brought stay); a code also ends when its maker may no longer "
        "invite for the team (a leader removed or gone, an officer's role ended). Audited",
    ),
    Usage("排行榜", LEADERS, "单位 分队　各队人均排名"),
    Command(
        "队员", "roster", 47, LEADERS, help="[队伍名] [特长]　本队队员，可按特长筛选",
        topic=Topic.TEAM, brief="[特长]", does="看本队队员和特长，可按特长筛选；私聊时显示打码手机号",
        example="/队员 救援", menu="队员名单: /roster 救援", usage="[队伍名] [特长] [页码]",
        who="leaders (their team), officers (teams in their units)",
        what="the team's active members with member numbers and specialties (✓ verified), 15 a page (`/队员 2`, "
        "`/队员 救援 2` for the next); in a group the team of that group, in private your team or the one named "
        "(`/队员 夕阳红巡逻队 救援`). Phones (masked) only in private: a group holds people who are not the leader",
    ),
    Usage("标签", OFFICERS, "成员号 +救援 -驾驶　核实、添加或去掉特长"),

    Command(
        "统计", "stats", 31, LEADERS, help="[上月|今年|时间段] [队伍|单位]　文字和图表", menu="统计: /stats 上月 单位",
        topic=Topic.BOARDS, brief="看数字", does="看巡逻人次、服务时长、出勤率、线索等统计，附图表",
        example="/统计 上月 单位",
        usage="[本周|上周|本月|上月|今年|时间段] [队伍|单位] [单位:名称]", who="officers; leaders for their team",
        what="patrol person-times, check-ins, hours served, tasks, attendance and no-show rates, tips received and "
        "verified, hazards and disputes logged (安全隐患 and 矛盾纠纷 tips, 隐患排查 check-ins, 调解 tasks), new "
        "members, emergency call-outs with the median time to the first answer, training sessions and "
        "person-times, quiz attempts and pass rate, members holding each qualification (valid / running out "
        "within 30 days / run out); a unit's sub-units and teams each on a line; text and a bar chart",
    ),
    Command(
        "导出", "export", 32, LEADERS, help="[上月|时间段]　私聊发给你 Excel 表格",
        topic=Topic.BOARDS, brief="私聊发 Excel", does="把统计表格（Excel）私聊发给你",
        example="/导出 上月",
        menu="导出表格（私聊）: /export 上月", usage="[期间] [单位:名称]",
        who="officers; leaders for their team; in private",
        what="an XLSX workbook sent to you as a file: members with their file (area, employer, industry, "
        "profession, insurance; phone, ID number and emergency contact masked, whole only for an officer of the "
        "member's own unit where `[members] export_full_personal_data` allows it; a leader gets neither ID number "
        "nor emergency contact, and the policy number masked, as in /档案), tasks with attendance, each "
        "attendance, the ledger, training sessions and each member's qualifications, and for officers the tips "
        "(anonymous reporters never named; a tip reward in the "
        "ledger shows its day only, with no tip number; anonymous rewards appear only as one line per weekly payout "
        "of a unit, without names; the members sheet shows points earned, not balances). Refused in a group. A "
        "sheet stops at 100,000 rows, and the reply says so (export a shorter period or a smaller unit)",
    ),
    # officers
    Command(
        "绑定队伍", "bindteam", 33, OFFICERS, help="队伍名　把本群绑定到队伍", where=Where.GROUP,
        topic=Topic.OFFICERS, brief="队伍名　绑定本群", does="把本群绑定到你单位的队伍，没有就新建",
        example="/绑定队伍 夕阳红巡逻队",
        in_private="/绑定队伍 请在要绑定的群里发送", menu="绑定队伍: /bindteam 队伍名", usage="队伍名 [单位]",
        who="officers", what="bind this group to a team of your unit (created if new)",
    ),
    Command(
        "发布任务", "newtask", 21, OFFICERS, help="巡逻 明天19:00 2小时 地点 10人 5分",
        topic=Topic.TASKS, brief="巡逻 明天19:00 2小时 地点 10人", does="发布任务，一行写完，或只发 /发布任务 一步步来",
        example="/发布任务 巡逻 明天19:00 2小时 闫千户片区 10人 5分",
        menu="发布任务: /newtask 巡逻 明天19:00 2小时 地点 10人", usage="类型 时间 时长 地点 人数 [积分]",
        who="officers",
        what="post a task in one line (below), or step by step when sent alone; a card goes to every target group. "
        "The same kind, start and place for the same teams again within a minute is posted only on 确认 (a double "
        "send makes one task)",
    ),
    Command(
        "线索列表", "tips", 25, OFFICERS, help="看线索（以下均在私聊）",
        menu="线索列表（民警）", usage="[状态]", who="officers, in private",
        topic=Topic.TIPS, brief="私聊看线索", does="看本单位和下级单位的线索",
        example="/线索列表",
        what="tips of your unit and those below it (number, category, status, who handles it)",
    ),
    Command(
        "查看线索", "tipview", 24, OFFICERS, help="编号", continues=SAME_LINE, menu="查看线索（民警）: /tipview 编号",
        topic=Topic.TIPS, brief="编号", does="看一条线索的经过和照片，新线索看了就由你处理",
        example="/查看线索 12",
        usage="编号", who="officers, in private",
        what="one tip with its history and photos (opening a new one takes it on); `/线索 编号` does the same",
    ),
    Command(
        "核实", "verify", 26, OFFICERS, help="编号 积分 备注", menu="核实线索: /verify 编号 积分",
        topic=Topic.TIPS, brief="编号 积分", does="核实线索并奖励积分，举报人会收到通知",
        example="/核实 12 20 已查处",
        usage="编号 [积分] [备注]", who="officers, in private",
        what="verify and reward once (points by category from `[tips]`; an anonymous tip's reward is paid with the "
        "unit's weekly batch, see below); the reporter is told",
    ),
    Command(
        "驳回", "dismiss", 27, OFFICERS, help="编号 理由", menu="驳回线索: /dismiss 编号 理由",
        topic=Topic.TIPS, brief="编号 理由", does="驳回线索，或标为重复；举报人会收到通知",
        example="/驳回 12 重复 8",
        usage="编号 理由", who="officers, in private",
        what="reject, or `/驳回 编号 重复 原编号` for a duplicate; the reporter is told",
    ),
    Command(
        "回复线索", "tipreply", 28, OFFICERS, help="编号 内容　问举报人",
        topic=Topic.TIPS, brief="编号 内容", does="通过机器人问举报人，不显示你的名字",
        example="/回复线索 12 大概几点有人聚集？",
        menu="回复举报人: /tipreply 编号 内容", usage="编号 内容", who="officers, in private",
        what="ask the reporter through the bot, without your name",
    ),
    Command(
        "设为警务群", "setpolicegroup", 36, OFFICERS, help="在只有民警的群里发，新线索提醒发到这里",
        topic=Topic.OFFICERS, brief="", does="在只有民警的群里发，新线索的提醒发到这里",
        example="/设为警务群",
        menu="设为警务群（民警）", usage="[单位]", who="officers",
        what="make this officers-only group the place where new tips are announced (number, category and unit only)",
    ),
    Command(
        "紧急", "alert", 17, OFFICERS, help="情况 需要N人 [需要:特长]　/紧急 编号 看响应　/紧急 结束 编号 结果 积分N",
        topic=Topic.EMERGENCY, brief="情况 需要N人", does="紧急呼叫本单位所有队伍群，可以按特长私聊通知",
        example="/紧急 走失老人，蓝色外套，最后在北园大街 需要10人",
        menu="紧急呼叫（民警）: /alert 情况 需要N人", usage="情况 [需要N人] [需要:特长] [范围:单位]", who="officers",
        what="emergency call-out to every group of your unit and its sub-units, first in the queue; with 需要:特长 "
        "also privately to members with those specialties who are not on a task right now. `/紧急 编号`: who "
        "answered, how many minutes after the call and their ETA; `/紧急 结束 编号 [结果] [积分N]`: close, awarding "
        "each responder once",
    ),
    Command(
        "取消任务", "canceltask", 22, OFFICERS, help="编号 原因", menu="取消任务: /canceltask 编号 原因",
        topic=Topic.TASKS, brief="编号 原因", does="取消任务，报名的人都会收到通知",
        example="/取消任务 12 暴雨停止户外巡逻",
        usage="编号 [原因]", who="officers", what="cancel; everyone signed up or waiting is told",
    ),
    Command(
        "结束任务", "closetask", 23, OFFICERS, help="编号", continues=SAME_LINE, menu="结束任务: /closetask 编号",
        topic=Topic.TASKS, brief="编号", does="结束任务：未签到的记缺勤，积分随即发放",
        example="/结束任务 12",
        usage="编号", who="officers",
        what="close: no-shows, final attendance, points once, a summary to the groups (also automatic an hour after "
        "the end)",
    ),
    Command(
        "设队长", "setleader", 34, OFFICERS, help="@某人 或 成员号　任命队长", menu="设队长: /setleader 成员号",
        topic=Topic.OFFICERS, brief="成员号", does="任命本队的队员为队长",
        example="/设队长 12",
        usage="@某人|成员号 [队伍名]", who="officers", what="appoint an active member of the team as its leader",
    ),
    Command(
        "撤销队长", "unsetleader", 38, OFFICERS, help="同样写法", continues="；", menu="撤销队长: /unsetleader 成员号",
        topic=Topic.OFFICERS, brief="成员号", does="撤销队长，本人会收到私聊通知",
        example="/撤销队长 12",
        usage="@某人|成员号 [队伍名]", who="officers of the team's unit or above",
        what="end someone's leadership of the team (in its group, or name the team); audited, and they are told "
        "privately",
    ),
    Command(
        "结业", "graduate", 53, OFFICERS, help="课程编号 成员号…　给没签到的队员登记结业",
        menu="登记结业: /graduate 课程 成员号",
        topic=Topic.TRAINING, brief="课程 成员号", does="给没有手机签到的队员登记完成课程，取得课程的资质",
        example="/结业 3 12 15", usage="课程编号 成员号…", who="officers",
        what="marks members of the officer's units as having completed a course the officer may use, today "
        "(someone who attended without a phone to check in); they get its qualifications and are told privately; "
        "audited. A number twice, or again the same day, counts once; a number outside the officer's units is "
        "listed as not done, as for one that does not exist. A session's close does this by itself for those who "
        "checked in (and passed the course's quiz where it has one). With the stage \"trained\", an applicant to "
        "a team of the officer's units can be marked for `[members] onboarding_course`",
    ),
    Command(
        "题库", "quiz", 56, OFFICERS, help="课程编号 换行写题目　加考题；/题库 编号 看题目",
        menu="课程题库: /quiz 编号",
        topic=Topic.TRAINING, brief="课程编号 题目", does="给课程加考题（单选、多选、判断），看或清空题库，只在私聊",
        example="/题库 3", usage="课程编号 [题目… | 清空]", alias_usage="编号 [… | clear]",
        who="officers who may change the course, in private",
        what="`/题库 3` followed by the questions on the next lines (the format below) replaces course 3's quiz and "
        "answers how many questions of each kind and the pass mark; anything wrong (no right answer marked, a "
        "single choice with two, fewer than two options, more than 50 questions) is refused with the question's "
        "number and nothing is saved. `/题库 3` alone shows the questions with their answers, in the same format; "
        "`/题库 3 清空` removes them. Audited. In a group it only says to send it in private",
    ),
    Usage(
        "课程", OFFICERS, "新建 名称 有效期2年 授予:资质　建课程；/课程 资料 编号　/课程 停用 编号",
        topic=Topic.TRAINING,
    ),
    Usage("保险", OFFICERS, "成员号 保险公司 保单号 有效期至　登记队员的保险；/保险 成员号 查看", topic=Topic.OFFICERS),
    Command(
        "停用", "suspend", 42, OFFICERS, help="成员号 理由　停用队员", menu="停用队员: /suspend 成员号 理由",
        topic=Topic.OFFICERS, brief="成员号 理由", does="停用队员：不能报名、签到和兑换，理由会私信告诉本人",
        example="/停用 12 多次无故缺勤",
        usage="@某人|成员号 理由", who="officers of the member's units",
        what="suspend a member of your units: until reinstated they cannot sign up, check in or redeem, and are "
        "told why when they try; their sign-ups to tasks not yet started are cancelled (the first one waiting "
        "moves up and is told); audited, and they are told the reason privately",
    ),
    Command(
        "恢复", "reinstate", 43, OFFICERS, help="成员号　恢复", continues=SAME_LINE, menu="恢复队员: /reinstate 成员号",
        topic=Topic.OFFICERS, brief="成员号", does="恢复被停用的队员，本人会收到私信",
        example="/恢复 12",
        usage="@某人|成员号", who="officers of the member's units",
        what="lift a suspension; audited, and the member is told privately",
    ),
    Command(
        "奖励", "award", 29, OFFICERS, help="@某人 或 成员号 分数 理由　奖励或扣分（负数）",
        topic=Topic.POINTS, brief="成员号 分数 理由", does="给队员加分，写负数扣分；本人会收到私聊通知",
        example="/奖励 12 5 协助寻找走失老人",
        menu="奖励或扣分（民警）: /award 成员号 分数 理由", usage="@某人|成员号 分数 理由", who="officers",
        what="add points (or take them with a negative number) for members of your units' teams; audited, the "
        "member is told privately; the same award sent twice within a minute counts once. `[points] daily_cap` and "
        "`monthly_cap` hold every kind of earning (a gain over a cap is recorded as far as it allows, and says so). "
        "A penalty larger than the member's points asks first (确认 within a minute takes them down to 0, without "
        "telling the officer the balance); with `[points] allow_overdraft` the officer may answer 透支 to take it all",
    ),
    Usage("商城", OFFICERS, "上架 名称 积分N 库存N [每人N]　/商城 下架 编号　/商城 库存 编号 数量"),
    Command(
        "发放", "fulfil", 30, OFFICERS, help="看待发放；/发放 兑换单号；/发放 取消 兑换单号 理由",
        topic=Topic.POINTS, brief="兑换单号", does="看待发放的奖品；带单号标记已发放",
        example="/发放 7",
        menu="发放奖品（民警）: /fulfil 兑换单号", usage="[兑换单号]", who="officers",
        what="list what waits to be handed over; mark one handed over (the member is told); `/发放 取消 单号 理由` "
        "cancels and refunds",
    ),
    Command(
        "政审", "vet", 50, OFFICERS, help="成员号 通过|不通过 [日期] [备注]　登记政审结果（私聊）",
        topic=Topic.TEAM, brief="成员号 通过", does="登记申请人的政审结果，通过后队长才能审批",
        example="/政审 12 通过 昨天 派出所已核查",
        menu="政审（民警，私聊）: /vet 成员号 通过", usage="成员号 通过|不通过 [日期] [备注]",
        alias_usage="成员号 pass|fail [日期] [备注]", who="officers of the applicant's unit; in private",
        what='with `[members] stages = ["vetted"]`: record a background check (date: 今天, 昨天, 2026-12-01; '
        "default today); passed lets the leader approve, failed ends the applications in your units. The "
        "applicant is told privately (the note only with `[members] tell_vetting_note`). A leader cannot; "
        "refused in a group. Audited",
    ),
    # administrators
    Command(
        "授权民警", "grant", 35, ADMINISTRATORS, help="@某人 或 成员号 单位名　授权民警",
        topic=Topic.ADMINISTRATION, brief="成员号 单位名", does="授权某人为单位的民警，写上级单位会一并建好",
        example="/授权民警 12 济南市公安局/历下分局",
        menu="授权民警: /grant 成员号 单位名", usage="@某人|成员号 单位名", who="administrators",
        what="make someone an officer of a unit; `市局/分局` creates the path",
    ),
    Command(
        "撤销民警", "revoke", 39, ADMINISTRATORS, help="@某人 或 成员号 [单位名]　撤销民警（不写单位即全部）",
        topic=Topic.ADMINISTRATION, brief="成员号 [单位名]", does="撤销民警权限；不写单位就全部撤销",
        example="/撤销民警 12 历下分局",
        menu="撤销民警: /revoke 成员号 [单位名]", usage="@某人|成员号 [单位名]", who="administrators",
        what="end someone's officer role in that unit, or in every unit when none is named; audited, and they are "
        "told privately. Takes effect with their next message",
    ),
    Command(
        "发件箱", "outbox", 37, ADMINISTRATORS, help="待发和发送失败的消息；/发件箱 重发 全部", menu="发件箱（管理员）",
        topic=Topic.ADMINISTRATION, brief="看发送失败", does="看待发和发送失败的消息，可以重发",
        example="/发件箱 重发 全部",
        usage="[重发 全部|编号…]", who="administrators",
        what="what waits to be sent and what failed for good (with the reason); put failed ones back",
    ),
)  # fmt: skip

MENUS: dict[Audience, tuple[tuple[str, ...], ...]] = {
    EVERYONE: (
        ("加入",),
        ("任务", "报名"),
        ("签到", "签退"),
        ("线索",),
        ("积分", "排行榜"),
        ("商城", "兑换"),
        ("我的",),
    ),
    LEADERS: (
        ("任务", "报名"),
        ("签到", "签退"),
        ("线索",),
        ("积分", "排行榜"),
        ("审核", "通过", "拒绝"),
        ("招募",),
        ("统计", "导出"),
    ),
    OFFICERS: (
        ("发布任务",),
        ("任务", "结束任务"),
        ("线索列表", "核实"),
        ("奖励",),
        ("紧急",),
        ("统计", "导出"),
        ("绑定队伍",),
    ),
    ADMINISTRATORS: (
        ("发布任务",),
        ("任务", "结束任务"),
        ("线索列表", "核实"),
        ("奖励",),
        ("紧急",),
        ("统计", "导出"),
        ("绑定队伍",),
        ("授权民警", "发件箱"),
    ),
}
"""/帮助's short menu for each role (the highest the caller has), a line per tuple: "/name brief" of each command
on it that the caller may use in this chat (/加入 only for who is not yet in this group's team)."""
