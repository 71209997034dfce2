"""The Chinese label of every input field, and error messages that name fields by them.

An error body carries JSON paths in ``fields`` for the phone (``findings[0].photos``)
and a message for the inspector, who knows 第1条问题的照片, not ``photos``. A field
has one label wherever it appears (a query parameter, a body key, a form field), so
the labels are kept here by name; tests/test_errors.py walks every schema that reads
input and holds each of its fields to a label.
"""

import re

FIELD_LABELS: dict[str, str] = {
    # inspections (检查记录)
    "campaign": "专项行动",
    "checklist_version": "检查清单版本",
    "site_id": "站点",
    "started_at": "检查开始时间",
    "finished_at": "检查结束时间",
    "location": "检查位置",
    "lat": "纬度",
    "lon": "经度",
    "answers": "检查结果",
    "item_code": "检查项",
    "result": "检查结论",
    "note": "备注",
    "findings": "问题",
    "id": "问题编号",
    "description": "问题描述",
    "severity": "问题等级",
    "major_hazard": "重大隐患",
    "requirement": "整改要求",
    "deadline": "整改时限",
    "fixed_on_spot": "立行立改",
    "responsible_department": "责任单位",
    "photos": "照片",
    "final": "是否提交",
    # sites (站点)
    "name": "名称",
    "site_type": "场所类型",
    "credit_code": "统一社会信用代码",
    "address": "地址",
    "district": "辖区",
    "licences": "证照",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "client_uuid": "登记编号",
    # rectification (整改) and enforcement (执法措施)
    "action": "整改操作",
    "at": "操作时间",
    "enforcement": "执法措施",
    "kind": "执法措施类型",
    "fine_yuan": "罚款金额",
    "finding_id": "问题编号",
    "status": "状态",
    "overdue": "是否逾期",
    "department": "责任单位",
    # lists, statistics, sync, photos
    "group_by": "统计分组",
    "since": "同步位置",
    "cursor": "翻页位置",
    "limit": "每页条数",
    "variant": "图片尺寸",
    # users and login (用户)
    "username": "用户名",
    "password": "密码",
    "display_name": "姓名",
    "role": "角色",
    "districts": "辖区",
    "phone": "手机号码",
    "active": "账号状态",
    "current_password": "当前密码",
    "new_password": "新密码",
    "must_change_password": "首次登录须改密码",
    "actor_id": "操作人",
    # checklist drafts (检查清单草稿)
    "prefix": "检查项编号前缀",
    "source_name": "通知文件名",
    "text": "检查内容",
    "section": "所属章节",
    "clause": "条款",
    "basis": "依据",
    "lead_department": "牵头单位",
    "site_types": "适用场所类型",
    "default_severity": "默认问题等级",
    "photo_required": "是否需要照片",
    "after": "插入位置",
    "position": "排列位置",
    "items": "检查项",
    "base_version": "对照版本",
    "version": "版本",
    # the site registry (站点台账)
    "dry_run": "是否试导入",
    "file": "文件",
    "into": "合并到的站点",
    # assignments, 回头看 and webhooks
    "stage": "阶段",
    "due_on": "完成期限",
    "inspector_ids": "检查员",
    "site_ids": "站点",
    "mine": "只看本人",
    "seed": "抽取种子",
    "share_percent": "抽取比例",
    "outcome": "复查结论",
    "url": "接收地址",
    "secret": "签名密钥",
    # dashboard forms and queries
    "q": "搜索内容",
    "sort": "排序字段",
    "order": "排序方向",
    "page": "页码",
    "csrf_token": "表单令牌",
}

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_label(path: str) -> str:
    """``findings[0].photos`` → ``第1条问题的照片``; ``""`` where no part has a label.

    A key no schema knows (the message says 未知字段) has no label and is left out.
    """
    parts: list[str] = []
    index: int | None = None
    for name, number in _SEGMENT.findall(path):
        if number:
            index = int(number)
            if parts:
                parts[-1] = f"第{index + 1}条{parts[-1]}"
            continue
        label = FIELD_LABELS.get(name)
        if label is not None:
            parts.append(label)
    return "的".join(parts)


def describe(lead: str, problems: dict[str, list[str]], most: int = 3) -> str:
    """The message of a validation error: ``lead：照片：需要至少一张；辖区：…``.

    The first ``most`` fields are named, by label; the JSON paths stay in ``fields``.
    """
    named = []
    for path, texts in list(problems.items())[:most]:
        label = path_label(path)
        text = "、".join(dict.fromkeys(texts))
        named.append(f"{label}：{text}" if label else text)
    more = f"（共 {len(problems)} 处）" if len(problems) > most else ""
    return f"{lead}：{'；'.join(named)}{more}" if named else lead
