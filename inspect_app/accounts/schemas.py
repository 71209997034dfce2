"""Bodies of the account endpoints (账号管理)."""

from marshmallow import Schema, fields, validate

from inspect_app import formats
from inspect_app.domain import DISTRICTS, ROLES
from inspect_app.inputs import Text, strip_invisible

# A login name: what one types on a phone keyboard without switching to Chinese.
USERNAME = "^[A-Za-z0-9_.-]{1,64}$"
# A Chinese mobile or landline as people write it: digits, +, -, spaces, brackets.
PHONE = "^[0-9+() -]{0,32}$"
# A name holds a character that is neither blank nor invisible (what is stored keeps it):
# found by asking the cleaning itself, so the spec follows the server's rule.
VISIBLE_CHARACTER = formats.containing(
    ch for ch in map(chr, range(1, 0x10000)) if not strip_invisible(ch).strip()
)
NAMED = formats.Matches(VISIBLE_CHARACTER, error="姓名不能为空")
ROLE_DISTRICTS = formats.checked_against("inspectors and team leads need at least one district")


class AccountSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})
    districts = fields.List(fields.String())
    phone = fields.String()
    active = fields.Boolean(metadata={"description": "false: disabled, no login works"})
    must_change_password = fields.Boolean(
        metadata={"description": "true until the user chooses a password of their own"}
    )
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)
    last_sync_at = fields.DateTime(
        allow_none=True, metadata={"description": "last GET /sync of the user's phone"}
    )


class AccountListSchema(Schema):
    items = fields.List(fields.Nested(AccountSchema))


class AccountCreateSchema(Schema):
    username = fields.String(
        required=True,
        validate=formats.Matches(USERNAME, error="用户名只能由字母、数字、_ . - 组成，1 到 64 位"),
        metadata={"pattern": USERNAME},
    )
    display_name = Text(64, min_length=1, required=True, validate=NAMED)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    districts = fields.List(
        fields.String(validate=validate.OneOf(DISTRICTS)),
        load_default=list,
        validate=validate.Length(max=len(DISTRICTS) * 2),
        metadata=ROLE_DISTRICTS,
    )
    phone = fields.String(
        load_default="",
        validate=formats.Matches(PHONE, error="电话号码格式不正确"),
        metadata={"pattern": PHONE},
    )


class AccountCreatedSchema(Schema):
    user = fields.Nested(AccountSchema)
    temporary_password = fields.String(
        metadata={"description": "shown this once; the user must change it at first login"}
    )


class AccountChangeSchema(Schema):
    display_name = Text(64, min_length=1, validate=NAMED)
    role = fields.String(
        validate=validate.OneOf(ROLES),
        metadata=formats.checked_against("not one's own role; districts for the new role"),
    )
    districts = fields.List(
        fields.String(validate=validate.OneOf(DISTRICTS)),
        validate=validate.Length(max=len(DISTRICTS) * 2),
        metadata=ROLE_DISTRICTS,
    )
    phone = fields.String(
        validate=formats.Matches(PHONE, error="电话号码格式不正确"), metadata={"pattern": PHONE}
    )
    active = fields.Boolean(
        metadata={
            "description": "false disables the user and revokes every login at once",
            **formats.checked_against("not one's own account"),
        }
    )


class PasswordResetSchema(Schema):
    temporary_password = fields.String(
        metadata={"description": "shown this once; every login of the user has ended"}
    )


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(
        required=True,
        validate=validate.Length(min=8, max=256),
        metadata=formats.checked_against("differs from the current password"),
    )
