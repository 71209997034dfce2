"""Query and answer of the statistics endpoints (统计表)."""

from marshmallow import Schema, fields, validate

from inspect_app.domain import ENFORCEMENT_KINDS
from inspect_app.stats.services import GROUPINGS

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_BODY = {"type": "string", "format": "binary"}


class StatsQuerySchema(Schema):
    group_by = fields.String(
        load_default="district",
        validate=validate.OneOf(list(GROUPINGS)),
        metadata={
            "description": "district 区域, department 责任单位, site_type 对象类型, severity 等级"
        },
    )


class StatsRowSchema(Schema):
    key = fields.String(
        allow_none=True,
        metadata={"description": "The group's value (null: no department named; total row)"},
    )
    label = fields.String(metadata={"description": "The group's Chinese name, as in the sheet"})
    sites_inspected = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Distinct sites inspected; null in rows by department or severity, "
            "which an inspection does not belong to"
        },
    )
    findings = fields.Integer(metadata={"description": "发现问题: every finding but voided"})
    rectified = fields.Integer(metadata={"description": "已整改: closed, 立行立改 included"})
    open = fields.Integer(metadata={"description": "open + rectifying + pending_review"})
    overdue = fields.Integer(
        metadata={"description": "open and deadline before today in Asia/Shanghai"}
    )
    rectification_rate = fields.Float(
        allow_none=True, metadata={"description": "rectified / findings, 0..1; null if none"}
    )


class FiguresSchema(Schema):
    sites_inspected = fields.Integer()
    findings = fields.Integer()
    key_findings = fields.Integer(metadata={"description": "重点问题"})
    major_hazards = fields.Integer(metadata={"description": "重大事故隐患"})
    rectified = fields.Integer()
    rectification_rate = fields.Float(allow_none=True)
    open = fields.Integer()
    overdue = fields.Integer()
    sites_closed_down = fields.Integer(metadata={"description": "取缔: distinct sites banned"})
    cases_filed = fields.Integer(
        metadata={"description": "立案: 行政处罚 + 移交公安机关 + 移交司法机关 measures"}
    )
    fines_yuan = fields.Integer(metadata={"description": "罚款合计（元）"})
    enforcements = fields.Dict(
        keys=fields.String(validate=validate.OneOf(list(ENFORCEMENT_KINDS))),
        values=fields.Integer(),
        metadata={"description": "Measures recorded, per kind"},
    )


class StatsSchema(Schema):
    campaign = fields.String()
    campaign_name = fields.String()
    document_no = fields.String()
    group_by = fields.String()
    group_label = fields.String()
    as_of = fields.Date(metadata={"description": "The Asia/Shanghai day overdue is judged on"})
    districts = fields.List(
        fields.String(),
        allow_none=True,
        metadata={"description": "Districts counted (the caller's); null: all (office)"},
    )
    rows = fields.List(fields.Nested(StatsRowSchema))
    total = fields.Nested(StatsRowSchema)
    figures = fields.Nested(FiguresSchema)
