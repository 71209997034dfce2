"""The plain inspection body read without marshmallow agrees with InspectionInSchema.

``load_plain_body`` may decline any body (the schema then reads it), but a body it
takes must load to exactly what the schema loads: same values, same digest, so a
phone's replay is recognised whichever way each copy was read. (Through the API:
tests/test_inspections.py.)
"""

import copy
import json
import uuid

import pytest
from flask import Flask, request
from marshmallow import ValidationError

from inspect_app.inspections.body import load_plain_body
from inspect_app.inspections.schemas import InspectionInSchema
from inspect_app.inspections.services import body_digest
from tests.test_inspections import SHA_A, SHA_B

SCHEMA = InspectionInSchema()
_BARE = Flask(__name__)


def plain_load(raw: bytes, content_type: str = "application/json"):
    with _BARE.test_request_context(method="PUT", data=raw, content_type=content_type):
        return load_plain_body(request)


def schema_load(data):
    """What the schema loads, or None where it refuses the body."""
    try:
        return SCHEMA.load(data)
    except ValidationError:
        return None


def rich_body() -> dict:
    """Every field of the contract, each optional one present."""
    return {
        "campaign": "refined-oil-2025",
        "checklist_version": 1,
        "site_id": 42,
        "started_at": "2025-05-12T09:30:00+08:00",
        "finished_at": "2025-05-12T10:05:00.250+08:00",
        "location": {"lat": 36.4167, "lon": 94},
        "answers": [
            {"item_code": "RO-01", "result": "fail", "note": "无证经营"},
            {"item_code": "RO-02", "result": "pass"},
            {"item_code": "RO-03", "result": "na", "note": ""},
        ],
        "findings": [
            {
                "id": str(uuid.uuid4()),
                "item_code": "RO-01",
                "description": "未取得《成品油零售经营批准证书》擅自销售柴油",
                "severity": "key",
                "major_hazard": True,
                "requirement": "立即停止销售",
                "deadline": "2025-06-12",
                "fixed_on_spot": False,
                "responsible_department": "商务局",
                "photos": [SHA_A, SHA_B],
            },
            {"id": str(uuid.uuid4()).upper(), "item_code": "RO-01", "description": "x"},
        ],
        "final": True,
    }


def minimal_body() -> dict:
    return {
        "campaign": "refined-oil-2025",
        "checklist_version": 1,
        "site_id": 42,
        "started_at": "2025-05-12T01:30:00Z",
    }


@pytest.mark.parametrize("make", [rich_body, minimal_body])
def test_a_plain_body_is_read_as_the_schema_reads_it(make):
    data = make()
    loaded = plain_load(json.dumps(data, ensure_ascii=False).encode())
    assert loaded is not None, "the plain case must not need the schema"
    assert loaded == SCHEMA.load(data)
    assert body_digest(loaded) == body_digest(SCHEMA.load(data))


# Values that a phone, a bug or a fuzzer may put anywhere in the body.
ODD_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2**31 - 1,
    2**31,
    10**400,
    1.5,
    36.0,
    float("nan"),
    float("inf"),
    "",
    "1",
    " ",
    "x" * 32,
    "x" * 33,
    "x" * 200,
    "x" * 201,
    "x" * 2000,
    "x" * 2001,
    "x" * 4001,
    "pass",
    "fail",
    "key",
    "PASS",
    "general",
    "2025-05-12",
    "2025-05-11",
    "2025-02-30",
    "2025-05-12T09:30:00",
    "2025-05-12T09:30:00+08:00",
    "2025-05-12T11:30:00+08:00",
    "2025-05-12 09:30:00+08:00",
    str(uuid.uuid4()),
    uuid.uuid4().hex,
    "not-a-uuid",
    SHA_A,
    SHA_A.upper(),
    SHA_A + "\n",
    "a\u0000b",
    [],
    [SHA_A],
    [SHA_A, SHA_A],
    [None],
    [1],
    {},
    {"lat": 36.4, "lon": 94.9},
    {"lat": 36.4, "lon": 94.9, "alt": 1},
]


def _paths(data, prefix=()):
    """Every place in the body where a value can go, down to list items."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _mutants(base: dict):
    """The body with one value replaced, removed, or an unknown key added, everywhere."""
    for path in list(_paths(base)):
        for value in ODD_VALUES:
            mutant = copy.deepcopy(base)
            parent = mutant
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
            yield mutant
        mutant = copy.deepcopy(base)
        parent = mutant
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
        yield mutant
    for path in [(), *(p for p in _paths(base) if isinstance(_at(base, p), dict))]:
        mutant = copy.deepcopy(base)
        _at(mutant, path)["extra"] = 1
        yield mutant
    yield from ([], "x", 1, None)


def _at(data, path):
    for step in path:
        data = data[step]
    return data


@pytest.mark.parametrize("make", [rich_body, minimal_body])
def test_what_the_plain_reader_takes_the_schema_takes_alike(make):
    taken = declined = 0
    for mutant in _mutants(make()):
        raw = json.dumps(mutant, ensure_ascii=False).encode()
        loaded = plain_load(raw)
        if loaded is None:
            declined += 1
            continue
        taken += 1
        assert loaded == schema_load(mutant), mutant
    # Both kinds were seen: the table exercises the reader, not only its refusals.
    assert taken > 20 and declined > 100


@pytest.mark.parametrize(
    "raw, content_type",
    [
        (b'{"campaign": "x"', "application/json"),
        (b"\xff\xfe{}", "application/json"),
        ('{"campaign": "x"}'.encode("utf-16"), "application/json"),
        (json.dumps(minimal_body()).encode(), "text/plain"),
        (json.dumps(minimal_body()).encode(), "application/merge-patch+json"),
        (b"", "application/json"),
        (b"NaN", "application/json"),
    ],
)
def test_what_is_not_plain_json_is_left_to_the_parser(raw, content_type):
    assert plain_load(raw, content_type) is None
