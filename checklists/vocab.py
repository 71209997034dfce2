"""The words a checklist is written in: site types, answer type, deadlines, prefixes.

``inspect_app.domain`` takes its site types and deadlines from here, so the
generator and the application speak one vocabulary while this package imports
nothing of the application.
"""

SITE_TYPES: tuple[str, ...] = (
    "加油站",
    "油库",
    "工矿企业自备油罐",
    "建筑工地",
    "流动加油车",
    "再生资源回收站点",
    "危险化学品企业",
    "砂石场",
    "洗砂场",
    "砂金盗采点",
    "监管部门",
)
REGULATOR = "监管部门"

DEFAULT_DEADLINE_DAYS = {"general": 7, "key": 30}

ANSWER_TYPE = "pass_fail_na"

KNOWN_PREFIXES = {
    "hazchem-2025": "HC",
    "recycling-2025": "RC",
    "refined-oil-2025": "RO",
    "sand-gravel-2024": "SG",
    "placer-gold-2024": "PG",
}

# The keys of a checklist item, in the order a checklist file writes them.
ITEM_KEYS = (
    "code",
    "section",
    "clause",
    "text",
    "basis",
    "lead_department",
    "site_types",
    "answer_type",
    "default_severity",
    "photo_required",
)
