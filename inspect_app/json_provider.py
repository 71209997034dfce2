"""Flask's JSON provider: one rule for the JSON the app reads and for the JSON it writes.

Every body the app decodes (``request.get_json``, webargs) goes through
``input_rules.loads``, the one input rule (NUL, lone surrogates, depth, huge numbers).

Schemas dump times as ISO 8601, but an answer built without one (a 202 with a job, an
error body, a health check) goes through Flask's JSON provider, whose default writes a
datetime as an HTTP date ("Wed, 02 Dec 2026 06:47:49 GMT"). One rule for every answer:
a time is ISO 8601 with its offset, a date ISO 8601.
"""

from datetime import UTC, date, datetime
from typing import Any

from flask.json.provider import DefaultJSONProvider

from inspect_app import input_rules


class InspectJSONProvider(DefaultJSONProvider):
    # Chinese stays readable in responses; keys keep the order of the schemas.
    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return (o if o.tzinfo is not None else o.replace(tzinfo=UTC)).isoformat()
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)

    def loads(self, s, **_kwargs):
        return input_rules.loads(s)
