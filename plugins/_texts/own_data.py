"""/我的数据 and /删除我的信息 as chat words them: the member's own workbook (a sheet per kind), the erasure's
question, its refusals and its answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from plugins._texts import add_refusals
from plugins._texts.export import MEMBER_STATUS_NAMES, SIGNUP_NAMES
from plugins._texts.shop import STATUS_NAMES as REDEMPTION_STATUS_NAMES
from plugins._texts.standings import reason_name
from plugins._texts.training import SOURCES
from storage.services.export import workbook_bytes
from storage.services.own_data import OwnData
from storage.services.tips import STATUS_NAMES as TIP_STATUS_NAMES
from storage.services.when import local

PERSON_STATUS_NAMES = {"applied": "申请中", "active": "在队", "suspended": "停用", "left": "已离开"}
ROLE_NAMES = {"admin": "管理员", "officer": "民警", "leader": "队长"}
ENTRY_KINDS = {"report": "举报", "addition": "补充", "question": "民警问"}
MYDATA_IN_GROUP = "你的数据只私聊发给你：请私聊我发送 /我的数据"
FORGETME_IN_GROUP = "删除个人信息只能私聊办理：请私聊我发送 /删除我的信息"
MYDATA_USAGE = "要一份自己的数据，请只发送 /我的数据（后面不用写别的），文件会私聊发给你。"
FORGETME_USAGE = "删除自己的个人信息，请只发送 /删除我的信息（后面不用写别的），我会先问你确认。"
SEND_FAILED = "文件已生成，但发送失败了，请稍后再试（一小时内可以再要一次）。"
FORGET_QUESTION = (
    "删除后，你的姓名、手机号、身份证号、紧急联系人、单位行业、特长和平台账号都会被删掉，无法恢复；"
    "积分、出勤和时长的数字还留着，但不再属于任何人；你报过的线索留给民警，不再和你相连。\n"
    "确定删除请在一分钟内回复“确认”，回复别的就不删。想先留一份，请先发 /我的数据。"
)
FORGET_TOO_LATE = "一分钟内没有收到“确认”，没有删除。需要时重新发送 /删除我的信息。"
FORGET_NOT_DONE = "没有删除，什么也没有改。"
FORGET_LEFT = "已退出，没有删除。"
FORGOTTEN = "已删除你的个人信息和账号。机器人不再认识你；以后想再参加，可以重新 /加入，会作为新队员登记。"

REFUSALS = {
    "own_data.not_a_member": "机器人这里没有你的信息：你还没有加入任何队伍。",
    "own_data.too_soon": lambda next_at: (
        f"你的数据一小时只能导出一次，刚刚已经发过了。请在 {local(next_at):%H:%M} 之后再发送 /我的数据。"
    ),
    "erasure.not_a_member": "机器人这里没有你的信息，没有什么可删除的。",
    "erasure.redemption_open": (
        "你还有一张兑换单（{redemption} 号）等着发放，现在不能删除。请先领取，或者发送 /兑换 取消 {redemption}，"
        "再发送 /删除我的信息。"
    ),
    "erasure.signed_up": (
        "你还报名了任务 {task} 号（今天的、进行中的或还没开始的），现在不能删除。请先发送 /取消报名 {task}，"
        "再发送 /删除我的信息。"
    ),
}
add_refusals(REFUSALS)


def _when(moment: datetime | date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return f"{local(moment):%Y-%m-%d %H:%M}"
    return f"{moment:%Y-%m-%d}"


def sheets_for(data: OwnData) -> dict[str, list[list]]:
    """Sheet title → its rows, the heading first: a sheet for each kind of thing held about the member."""
    member = data.member
    file_rows = [
        ["项目", "内容"],
        ["成员号", member.id],
        ["姓名", member.name],
        ["手机", member.phone or ""],
        ["身份证号", member.id_number or ""],
        ["紧急联系人", member.emergency_contact or ""],
        ["片区", member.area or ""],
        ["工作单位", member.employer or ""],
        ["行业", member.industry or ""],
        ["职业", member.profession or ""],
        ["自报特长", "、".join(member.tags)],
        ["民警核实的特长", "、".join(member.verified_tags)],
        ["状态", PERSON_STATUS_NAMES.get(member.status, member.status)],
        ["停用理由", member.status_reason or ""],
        ["同意处理个人信息", _when(member.consented_at)],
        ["入队日期", _when(member.joined_at)],
        ["登记时间", _when(member.created_at)],
        ["第一次看到群里的介绍", _when(member.welcomed_at)],
        ["导出时间", _when(data.made_at)],
    ]
    sheets: dict[str, list[list]] = {
        "档案": file_rows,
        "平台账号": [["平台", "账号", "绑定时间"]]
        + [[account.platform, account.user_id, _when(account.created_at)] for account in data.accounts],
        "队伍": [["队伍", "单位", "状态", "申请时间", "决定时间", "理由"]]
        + [
            [
                place.team,
                place.unit,
                MEMBER_STATUS_NAMES.get(place.status, place.status),
                _when(place.applied_at),
                _when(place.decided_at),
                place.reason or "",
            ]
            for place in data.teams
        ],
        "身份": [["身份", "范围", "授予时间"]]
        + [[ROLE_NAMES.get(role.kind, role.kind), role.scope, _when(role.granted_at)] for role in data.roles],
        "入队申请": [["平台", "账号", "群", "姓名", "特长", "填写的内容", "时间"]]
        + [
            [
                request.platform,
                request.user_id,
                request.group_id,
                request.name,
                "、".join(request.tags),
                json.dumps(request.answers, ensure_ascii=False) if request.answers else "",
                _when(request.created_at),
            ]
            for request in data.applications
        ],
        "报名与出勤": [["任务号", "类型", "地点", "开始", "状态", "签到", "签退", "服务分钟", "签到距离（米）"]]
        + [
            [
                line.task_id,
                line.kind,
                line.place,
                _when(line.start_at),
                SIGNUP_NAMES.get(line.signup.status, line.signup.status),
                _when(line.signup.checked_in_at),
                _when(line.signup.checked_out_at),
                line.signup.minutes_served or 0,
                "" if line.signup.distance_m is None else line.signup.distance_m,
            ]
            for line in data.signups
        ],
        "积分记录": [["时间", "分数", "原因", "说明", "关联"]]
        + [
            [
                _when(entry.created_at),
                entry.amount,
                reason_name(entry.reason),
                entry.note,
                f"{entry.ref_type}:{entry.ref_id}",
            ]
            for entry in data.ledger
        ],
        "线索": [["线索号", "单位", "类别", "匿名", "状态", "提交时间", "地点", "坐标", "奖励积分"]]
        + [
            [
                line.tip.id,
                line.unit,
                line.tip.category,
                "是" if line.tip.anonymous else "否",
                TIP_STATUS_NAMES.get(line.tip.status, line.tip.status),
                _when(line.tip.created_at),
                line.tip.location_text or "",
                "" if line.tip.latitude is None else f"{line.tip.latitude},{line.tip.longitude}",
                "" if line.tip.points is None else line.tip.points,
            ]
            for line in data.tips
        ],
        "线索记录": [["线索号", "时间", "类别", "内容", "照片"]]
        + [
            [line.tip.id, _when(at), ENTRY_KINDS.get(kind, TIP_STATUS_NAMES.get(kind, kind)), text, len(photos)]
            for line in data.tips
            for at, kind, text, photos in line.entries
        ],
        "兑换": [["兑换单号", "奖品", "积分", "状态", "时间", "处理时间", "理由"]]
        + [
            [
                line.redemption.id,
                line.reward,
                line.redemption.cost,
                REDEMPTION_STATUS_NAMES.get(line.redemption.status, line.redemption.status),
                _when(line.redemption.created_at),
                _when(line.redemption.decided_at),
                line.redemption.reason or "",
            ]
            for line in data.redemptions
        ],
        "紧急响应": [["呼叫号", "响应时间", "预计分钟"]]
        + [
            [response.alert_id, _when(response.responded_at), response.eta_minutes or ""] for response in data.responses
        ],
        "政审": [["结果", "日期", "备注"]]
        + [
            [{"passed": "通过", "failed": "未通过"}.get(v.result, v.result), _when(v.checked_on), v.note or ""]
            for v in data.vettings
        ],
        "保险": [["保险公司", "保单号", "有效至"]]
        + [[policy.insurer, policy.policy_number, _when(policy.valid_until)] for policy in data.insurance],
        "培训": [["课程号", "课程", "完成日期", "怎么完成的", "任务号", "授予资质", "有效至"]]
        + [
            [
                line.course_id,
                line.course,
                _when(line.completion.completed_on),
                SOURCES.get(line.completion.source, line.completion.source),
                line.completion.task_id or "",
                "、".join(line.qualifications),
                _when(line.completion.valid_until) or "长期",
            ]
            for line in data.completions
        ],
        "考试": [["课程号", "课程", "时间", "得分", "答对", "题数", "结果"]]
        + [
            [
                line.course_id,
                line.course,
                _when(line.attempt.created_at),
                line.attempt.score,
                line.attempt.correct,
                line.attempt.questions,
                "及格" if line.attempt.passed else "不及格",
            ]
            for line in data.quizzes
        ],
        "操作记录": [["时间", "操作", "对象", "内容", "谁做的"]]
        + [
            [
                _when(line.at),
                line.action,
                line.target,
                json.dumps(line.detail, ensure_ascii=False) if line.detail else "",
                "你" if line.by_them else "他人",
            ]
            for line in data.audit
        ],
    }
    return sheets


@dataclass(frozen=True)
class OwnDataFile:
    file_name: str
    content: bytes
    counts: dict[str, int]


def own_data_file(data: OwnData) -> OwnDataFile:
    """The member's workbook (run it in a thread: a long-serving member has thousands of rows)."""
    sheets = sheets_for(data)
    return OwnDataFile(
        file_name=f"我的数据_{data.member.id}_{local(data.made_at):%Y%m%d}.xlsx",
        content=workbook_bytes(sheets),
        counts={title: len(rows) - 1 for title, rows in sheets.items()},
    )


def text_for_own_data(file: OwnDataFile, path: object | None = None) -> str:
    shown = ("报名与出勤", "积分记录", "线索", "兑换")
    counts = "，".join(f"{title} {file.counts[title]} 行" for title in shown)
    where = f"文件在 {path}。" if path is not None else "文件随后发来。"
    return (
        f"这是机器人记着的关于你的全部信息：档案、账号、队伍、{counts}，还有申请、政审、保险、培训、考试和操作记录。"
        f"{where}里面有你的手机号等个人信息，请妥善保管。"
    )
