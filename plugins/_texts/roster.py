"""The refusals of a roster import, which the administrator reads in its report (bot/admin.py) for each row
rejected or for the file (storage/services/roster.py)."""

from __future__ import annotations

from plugins._texts import add_refusals


def _missing_columns(columns: tuple[str, ...]) -> str:
    return (
        f"表头缺少列：{'、'.join(columns)}。表头应为 单位,队伍,姓名,手机号,特长,平台账号；可以再加 地区,工作单位,行业,"
        "职业,紧急联系人,身份证号,保险公司,保单号,保险到期"
    )


REFUSALS = {
    "roster.no_file": "找不到文件 {path}",
    "roster.unknown_type": "不认识的文件类型 {suffix}：请用 .csv 或 .xlsx。",
    "roster.empty": "文件是空的。",
    "roster.missing_columns": _missing_columns,
    "roster.bad_account": "平台账号“{account}”不对：应写成 onebot:QQ号 或 telegram:用户ID，多个用分号隔开",
    "roster.missing_value": "缺少{column}",
    "roster.unrecognisable": "需要手机号或平台账号，才能在重复导入时认出此人",
    "roster.account_taken": "账号 {account} 已属于另一名成员（成员号 {member}）",
    "roster.too_long": "{column}太长：最多{most}个字",
    "roster.bad_date": "{column}的日期不对：请写成 2027-06-30",
    "roster.insurance_incomplete": lambda columns: f"保险要写全 {'、'.join(columns)} 三列，或都空着",
}

add_refusals(REFUSALS)
