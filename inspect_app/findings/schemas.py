"""Bodies and answers of the findings endpoints (问题整改) and of site enforcements (执法措施)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from inspect_app import formats
from inspect_app.domain import (
    DISTRICTS,
    ENFORCEMENT_KINDS,
    FINDING_STATUS_LABELS,
    FINDING_STATUSES,
    SEVERITIES,
)
from inspect_app.findings.lifecycle import ACTIONS, MOVES
from inspect_app.inputs import Day, Text, Time
from inspect_app.inspections.schemas import SHA256
from inspect_app.sites.schemas import ROW_ID

MAX_PHOTOS_PER_EVENT = 20
# A fine above 100 million yuan is a typing slip, not a penalty a county issues.
MAX_FINE_YUAN = 100_000_000


class EnforcementInSchema(Schema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(list(ENFORCEMENT_KINDS)),
        metadata={
            "description": "; ".join(f"{code} {label}" for code, label in ENFORCEMENT_KINDS.items())
        },
    )
    fine_yuan = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_FINE_YUAN),
        metadata={"description": "罚款金额（元）; required for kind=fine, refused otherwise"},
    )
    note = Text(2000, load_default="")

    @validates_schema
    def _fine_needs_amount(self, data, **_kwargs):
        if data.get("kind") == "fine" and data.get("fine_yuan") is None:
            raise ValidationError("行政处罚需填写罚款金额（元）", "fine_yuan")
        if data.get("kind") != "fine" and data.get("fine_yuan") is not None:
            raise ValidationError("只有行政处罚可以填写罚款金额", "fine_yuan")

    def openapi_rules(self) -> dict:
        """``_fine_needs_amount`` for the spec: an amount with kind=fine, none otherwise."""
        others = [kind for kind in ENFORCEMENT_KINDS if kind != "fine"]
        return {
            "oneOf": [
                {
                    "properties": {"kind": {"enum": ["fine"]}, "fine_yuan": {"type": "integer"}},
                    "required": ["kind", "fine_yuan"],
                },
                {
                    "properties": {
                        "kind": {"enum": others},
                        "fine_yuan": formats.null_only("integer"),
                    }
                },
            ]
        }


class SiteEnforcementInSchema(EnforcementInSchema):
    campaign = fields.String(required=True, metadata={"description": "Campaign code"})
    finding_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ROW_ID,
        metadata={"description": "The finding it answers, if any (it must be at this site)"},
    )


class EventInSchema(Schema):
    """POST /findings/{id}/events."""

    action = fields.String(
        required=True,
        validate=validate.OneOf(ACTIONS),
        metadata={
            "description": "; ".join(
                f"{m.action} {m.label}: "
                f"{'/'.join(sorted(m.from_statuses))} → {m.to_status or '(unchanged)'}, "
                f"{'/'.join(sorted(m.roles))}"
                for m in MOVES.values()
            )
        },
    )
    note = Text(
        2000,
        load_default="",
        metadata={"description": "Required for reject, void (the reason) and extend"},
    )
    photos = fields.List(
        fields.String(validate=SHA256),
        load_default=list,
        validate=validate.Length(max=MAX_PHOTOS_PER_EVENT),
        metadata={
            "uniqueItems": True,
            "description": (
                "SHA-256 of evidence photos; submit needs at least one. They need not be "
                "uploaded yet: a phone offline uploads later with PUT /photos/{sha256}, and "
                "the answer's missing_photos lists what is still to come."
            ),
        },
    )
    deadline = Day(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "extend only: the new 整改时限, later than the current one, not past"
        },
    )
    at = Time(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "When the move was made, if on a phone offline and sent later: "
            "kept as the event's at, apart from received_at (its receipt). Default: when "
            "received. Not more than 5 minutes ahead of the server's clock, not before the "
            "finding was found",
            **formats.checked_against("the server's clock and the finding's found_at"),
        },
    )
    enforcement = fields.Nested(
        EnforcementInSchema,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Enforcement (执法措施) taken with this move, recorded with the "
            "same actor and time; not with void"
        },
    )

    @validates_schema
    def _action_needs(self, data, **_kwargs):
        move = MOVES.get(data.get("action"))
        if move is None:
            return
        errors: dict[str, list[str]] = {}
        if move.note_required and not (data.get("note") or "").strip():
            errors["note"] = [f"「{move.label}」需要填写说明"]
        if move.photos_required and not data.get("photos"):
            errors["photos"] = [f"「{move.label}」需要至少一张整改照片"]
        if len(set(data.get("photos") or [])) != len(data.get("photos") or []):
            errors["photos"] = ["照片重复"]
        if move.deadline_required and data.get("deadline") is None:
            errors["deadline"] = [f"「{move.label}」需要填写新的整改时限"]
        if not move.deadline_required and data.get("deadline") is not None:
            errors["deadline"] = ["只有延期可以修改整改时限"]
        if move.action == "void" and data.get("enforcement") is not None:
            errors["enforcement"] = ["作废时不能登记执法措施"]
        if errors:
            raise ValidationError(errors)

    def openapi_rules(self) -> dict:
        """``_action_needs`` for the spec: one branch per move, with what that move needs."""
        return {"oneOf": [_move_rule(move) for move in MOVES.values()]}


def _move_rule(move) -> dict:
    properties: dict = {"action": {"enum": [move.action]}}
    required = ["action"]
    if move.note_required:
        properties["note"] = {"type": "string", "pattern": formats.NOT_BLANK}
        required.append("note")
    if move.photos_required:
        properties["photos"] = {"type": "array", "minItems": 1}
        required.append("photos")
    if move.deadline_required:
        properties["deadline"] = {"type": "string", "format": "date"}
        required.append("deadline")
    else:
        properties["deadline"] = formats.null_only("string")
    if move.action == "void":
        properties["enforcement"] = formats.null_only("object")
    return {"properties": properties, "required": required}


class FindingListQuerySchema(Schema):
    campaign = fields.String(load_default=None, metadata={"description": "Campaign code"})
    site_id = fields.Integer(load_default=None, validate=ROW_ID)
    district = fields.String(load_default=None, validate=validate.OneOf(DISTRICTS))
    status = DelimitedList(
        fields.String(validate=validate.OneOf(FINDING_STATUSES)),
        load_default=list,
        metadata={
            "description": (
                "One status or several, comma-separated. Default: every status but voided "
                "(已作废 findings were entered in error; ask status=voided to see them)"
            )
        },
    )
    overdue = fields.Boolean(
        load_default=None,
        metadata={
            "description": "true: not closed or voided and the deadline is before today "
            "(Asia/Shanghai); false: the others"
        },
    )
    severity = fields.String(load_default=None, validate=validate.OneOf(SEVERITIES))
    department = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "责任单位, exactly as stored"},
    )


class FindingPageQuerySchema(FindingListQuerySchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(
        load_default=None,
        validate=formats.Matches(formats.FINDING_CURSOR, error="游标格式不正确"),
        metadata={"description": "next_cursor of the previous page"},
    )


class ActorSchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null: the system (督办)"})
    username = fields.String()
    display_name = fields.String()


class EventSchema(Schema):
    id = fields.Integer()
    action = fields.String(
        metadata={
            "description": "record, fix_on_spot, withdraw (撤回), a client action, or a step "
            "of the escalation job: remind 临期提醒, escalate 逾期上报, supervise 挂牌督办"
        }
    )
    action_label = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor = fields.Nested(ActorSchema)
    at = fields.DateTime(
        metadata={
            "description": "When it happened, per the phone where a phone made it: the "
            "inspection's time for record and fix_on_spot (however late the phone synced), "
            "the move's own time when one was sent"
        }
    )
    received_at = fields.DateTime(
        metadata={"description": "When the server received it (上传时间); at or after at"}
    )
    note = fields.String()
    photos = fields.List(fields.String())
    deadline = fields.Date(
        allow_none=True,
        metadata={
            "description": "The 整改时限 this move set (extend), or an escalation step was for"
        },
    )


class EnforcementSchema(Schema):
    id = fields.Integer()
    campaign = fields.String()
    site_id = fields.Integer()
    finding_id = fields.Integer(allow_none=True)
    kind = fields.String()
    kind_label = fields.String()
    fine_yuan = fields.Integer(allow_none=True)
    note = fields.String()
    actor = fields.Nested(ActorSchema)
    at = fields.DateTime()


class FindingSchema(Schema):
    id = fields.Integer()
    uuid = fields.String(metadata={"description": "The id the phone gave it"})
    campaign = fields.String()
    site_id = fields.Integer()
    site_name = fields.String()
    site_type = fields.String()
    district = fields.String()
    item_code = fields.String(allow_none=True)
    description = fields.String()
    severity = fields.String()
    major_hazard = fields.Boolean()
    requirement = fields.String()
    responsible_department = fields.String(allow_none=True)
    deadline = fields.Date(allow_none=True)
    fixed_on_spot = fields.Boolean()
    status = fields.String(metadata={"enum": list(FINDING_STATUSES)})
    status_label = fields.String(metadata={"enum": list(FINDING_STATUS_LABELS.values())})
    overdue = fields.Boolean(
        metadata={"description": "Derived: not closed/voided and deadline before today (Shanghai)"}
    )
    supervised = fields.Boolean(
        metadata={
            "description": "挂牌督办: 15 days (a setting) past the deadline, by the escalation job"
        }
    )
    found_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()
    photos = fields.List(fields.String())


class FindingPageSchema(Schema):
    items = fields.List(fields.Nested(FindingSchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as cursor= for the next page; null at end"}
    )


class FindingDetailSchema(FindingSchema):
    events = fields.List(fields.Nested(EventSchema))
    enforcements = fields.List(fields.Nested(EnforcementSchema))
    missing_photos = fields.List(
        fields.String(),
        metadata={"description": "Photos named by the finding or its events, not uploaded yet"},
    )


class EnforcementListSchema(Schema):
    items = fields.List(fields.Nested(EnforcementSchema))


class EnforcementListQuerySchema(Schema):
    campaign = fields.String(load_default=None)
