"""Bodies of the app-key endpoints (采集密钥 for ODK Collect, KoboCollect, Enketo)."""

from marshmallow import Schema, fields


class AppKeyStateSchema(Schema):
    issued = fields.Boolean(metadata={"description": "a key was ever issued to the user"})
    active = fields.Boolean(metadata={"description": "the user's key works now"})
    created_at = fields.DateTime(allow_none=True, metadata={"description": "of the newest key"})
    revoked_at = fields.DateTime(allow_none=True, metadata={"description": "of the newest key"})


class AppKeyIssuedSchema(Schema):
    key_url = fields.String(
        metadata={
            "description": "the server URL to enter in ODK Collect or KoboCollect "
            "(<server>/openrosa/key/<token>); shown this once, only its hash is kept"
        }
    )
    settings_qr = fields.String(
        metadata={
            "description": "the text of ODK Collect's settings QR code: the settings JSON "
            "(server_url, username), zlib-deflated and base64-encoded"
        }
    )
    created_at = fields.DateTime()
