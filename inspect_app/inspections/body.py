"""Reading the inspection body of a PUT without marshmallow's per-field machinery.

Phones send this body with every sync, and loading its 20-odd answers and findings
through ``InspectionInSchema`` cost more than storing them. ``load_plain_body`` takes
only the plain case: a JSON object whose every value already has the type and range
the schema asks for (no key the schema does not know, no number in a string, no NUL).
It returns exactly what the schema would have loaded. Anything else returns ``None``,
and the caller hands the request to the schema, so every malformed body gets the
schema's own error, by JSON path, as before (tests/test_inspection_body.py holds the
two to the same answers).
"""

import re
import uuid as uuid_module

from flask import Request
from marshmallow import ValidationError

from inspect_app import input_rules
from inspect_app.db_types import MAX_INT
from inspect_app.domain import ANSWER_RESULTS, SEVERITIES
from inspect_app.errors import DomainError
from inspect_app.inputs import INVISIBLE
from inspect_app.inspections.schemas import InspectionInSchema
from inspect_app.sites.schemas import LAT_RANGE, LON_RANGE

# The schema's own fields parse the rarer types (times, dates), so they agree by construction.
_SCHEMA = InspectionInSchema()
_STARTED_FIELD = _SCHEMA.fields["started_at"]
_FINISHED_FIELD = _SCHEMA.fields["finished_at"]
_FINDING_SCHEMA = _SCHEMA.fields["findings"].inner.schema
_DATE_FIELD = _FINDING_SCHEMA.fields["deadline"]

_BODY_KEYS = frozenset(_SCHEMA.fields)
_ANSWER_KEYS = frozenset(_SCHEMA.fields["answers"].inner.schema.fields)
_FINDING_KEYS = frozenset(_FINDING_SCHEMA.fields)
_LOCATION_KEYS = frozenset(("lat", "lon"))
_RESULTS = frozenset(ANSWER_RESULTS)
_SEVERITIES = frozenset(SEVERITIES)
# Matched whole, as formats.Matches does for the schema: a trailing newline is no hash.
_SHA256 = re.compile(r"[0-9a-f]{64}")


class _NotPlain(Exception):
    """The body is not the plain case: let the schema read it."""


def load_plain_body(request: Request) -> dict | None:
    """What ``InspectionInSchema`` would load from the request's JSON body, or None."""
    if request.mimetype != "application/json":
        return None
    try:
        # The one JSON rule of every input (NUL, lone surrogates, depth, huge numbers).
        body = input_rules.loads(request.get_data(cache=True))
    except DomainError:
        # The parser reads it again under the same rule and answers its 400 or 422.
        return None
    try:
        return _body(body)
    except (ValueError, _NotPlain):
        return None


def _body(body) -> dict:
    if type(body) is not dict or not _BODY_KEYS.issuperset(body):
        raise _NotPlain
    started_at = body.get("started_at")
    if started_at is None:
        raise _NotPlain
    started_at = _parsed(_STARTED_FIELD, started_at)
    finished_at = body.get("finished_at")
    if finished_at is not None:
        finished_at = _parsed(_FINISHED_FIELD, finished_at)
    if finished_at is not None and finished_at < started_at:
        raise _NotPlain
    return {
        "campaign": _text(body.get("campaign"), 0, None),
        "checklist_version": _row_id(body.get("checklist_version")),
        "site_id": _row_id(body.get("site_id")),
        "started_at": started_at,
        "finished_at": finished_at,
        "location": _location(body.get("location")),
        "answers": [_answer(a) for a in _list(body.get("answers", []))],
        "findings": [_finding(f) for f in _list(body.get("findings", []))],
        "final": _flag(body.get("final", False)),
    }


def _answer(answer) -> dict:
    if type(answer) is not dict or not _ANSWER_KEYS.issuperset(answer):
        raise _NotPlain
    result = answer.get("result")
    if type(result) is not str or result not in _RESULTS:
        raise _NotPlain
    return {
        "item_code": _text(answer.get("item_code"), 1, 32),
        "result": result,
        "note": _text(answer.get("note", ""), 0, 2000),
    }


def _finding(finding) -> dict:
    if type(finding) is not dict or not _FINDING_KEYS.issuperset(finding):
        raise _NotPlain
    finding_id = finding.get("id")
    if type(finding_id) is not str:
        raise _NotPlain
    severity = finding.get("severity")
    if severity is not None and (type(severity) is not str or severity not in _SEVERITIES):
        raise _NotPlain
    deadline = finding.get("deadline")
    if deadline is not None:
        deadline = _parsed(_DATE_FIELD, deadline)
    department = finding.get("responsible_department")
    if department is not None:
        department = _text(department, 0, 200)
    photos = _list(finding.get("photos", []))
    for sha in photos:
        if type(sha) is not str or not _SHA256.fullmatch(sha):
            raise _NotPlain
    return {
        "id": uuid_module.UUID(finding_id),
        "item_code": _text(finding.get("item_code"), 1, 32),
        "description": _text(finding.get("description"), 1, 4000),
        "severity": severity,
        "major_hazard": _flag(finding.get("major_hazard", False)),
        "requirement": _text(finding.get("requirement", ""), 0, 2000),
        "deadline": deadline,
        "fixed_on_spot": _flag(finding.get("fixed_on_spot", False)),
        "responsible_department": department,
        "photos": list(photos),
    }


def _location(location) -> dict | None:
    if location is None:
        return None
    if type(location) is not dict or location.keys() != _LOCATION_KEYS:
        raise _NotPlain
    return {
        "lat": _coordinate(location["lat"], LAT_RANGE),
        "lon": _coordinate(location["lon"], LON_RANGE),
    }


def _coordinate(value, bounds: tuple[float, float]) -> float:
    # NaN and infinities (Python's json reads them) fail the comparison too.
    if type(value) not in (int, float) or not bounds[0] <= value <= bounds[1]:
        raise _NotPlain
    return float(value)


def _text(value, shortest: int, longest: int | None) -> str:
    if type(value) is not str or len(value) < shortest:
        raise _NotPlain
    # The schema's text fields drop invisible format characters; a text with one is not plain.
    if INVISIBLE.search(value):
        raise _NotPlain
    if longest is not None and len(value) > longest:
        raise _NotPlain
    return value


def _row_id(value) -> int:
    if type(value) is not int or not 1 <= value <= MAX_INT:
        raise _NotPlain
    return value


def _flag(value) -> bool:
    if type(value) is not bool:
        raise _NotPlain
    return value


def _list(value) -> list:
    if type(value) is not list:
        raise _NotPlain
    return value


def _parsed(field, value):
    if type(value) is not str:
        raise _NotPlain
    try:
        return field.deserialize(value)
    except ValidationError:
        raise _NotPlain from None
