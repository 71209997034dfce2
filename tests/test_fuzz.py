"""Fuzzing from the OpenAPI spec (schemathesis): every endpoint, every role, both backends.

Each run starts on a fresh database with one logged-in user of the role and a site in
their district. For every operation of the spec served at /api/v1/openapi.json,
schemathesis generates valid and invalid requests (a bounded, derandomized number, so
the run is the same every time) and calls the app in-process, the user's token given
as a schemathesis auth provider. Every one of schemathesis's checks is on, and ours:

- no 5xx; a status the operation documents itself (flask-smorest's catch-all
  ``default`` response does not count); body and headers as documented; the
  contract's error body for every 4xx;
- what the spec allows is accepted (positive data acceptance) and what it forbids is
  refused (negative data rejection): the spec holds every constraint the server
  checks. A schema-valid body may still be refused with 422 for a field the spec marks
  ``x-checked-against`` (a site id the caller cannot see, an item code of another
  checklist, an end before the start), and for no other (refused_only_where_marked);
- input refused with a token is 401 without one (token_checked_before_input): nobody
  learns what an endpoint takes before logging in.

Valid cases also name real records (the campaign, a site of the user's district), and
a valid photo upload is named by its own SHA-256 with a Content-Range spanning its
bytes, which the spec says in words that JSON Schema cannot hold. Binary bodies: the
PDF and xlsx downloads are checked for status and content type; real photos are in
test_photos_api.py and test_bad_input.py. The stateful phase is not run.

The test walks the operations itself with ``APIOperation.as_strategy`` rather than
``schemathesis.pytest.from_fixture(...).parametrize()``: the latter fails under pytest 9.2
(schemathesis 4.32 sets ``node._nodeid``, which pytest 9.2 no longer has).
"""

import hashlib
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES

from inspect_app.domain import DISTRICTS
from inspect_app.formats import CHECKED_AGAINST
from inspect_app.sites import credit_code
from inspect_app.sites.schemas import CREDIT_CODE_FORMAT

SPEC = "/api/v1/openapi.json"
EXAMPLES = 12  # per operation, valid and invalid each
CONFIG = {
    "seed": 20250512,
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
    # Every check on. A schema-valid body may still be refused with 422, but only for a
    # field the spec marks x-checked-against (a site id the caller cannot see, an item
    # code of another checklist): refused_only_where_marked holds the 422s to that.
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "422"]
        }
    },
}
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # No shrinking: a failure is reported as generated, in seconds rather than minutes.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)

# The spec's custom format for 统一社会信用代码: 17 symbols and their check character.
schemathesis.openapi.format(
    CREDIT_CODE_FORMAT,
    st.text(credit_code.ALPHABET, min_size=17, max_size=17).map(
        lambda first17: first17 + credit_code.check_character(first17)
    ),
)


@schemathesis.check
def status_documented_by_operation(ctx, response, case):
    """The status is in the operation's own responses, not only under ``default``."""
    documented = set(case.operation.definition.raw.get("responses", {})) - {"default"}
    if str(response.status_code) not in documented:
        raise AssertionError(f"{response.status_code} not documented: {sorted(documented)}")


@schemathesis.check
def contract_error_body(ctx, response, case):
    """Every error answers {"error": {"code", "message"}} with a Chinese message."""
    if response.status_code < 400 or case.method.upper() == "HEAD":
        return
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"], body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"]), body


def _marked(schema: dict, resolve, path: list[str]) -> bool:
    """Whether the property at ``path`` (or one of its parents) carries x-checked-against."""
    schema = resolve(schema)
    if schema.get(CHECKED_AGAINST):
        return True
    if not path:
        return False
    branches = [
        schema,
        *schema.get("allOf", ()),
        *schema.get("anyOf", ()),
        *schema.get("oneOf", ()),
    ]
    for branch in map(resolve, branches):
        if branch.get("type") == "array" and "items" in branch:
            if _marked(branch["items"], resolve, path):
                return True
        sub = branch.get("properties", {}).get(path[0])
        if sub is not None and _marked(sub, resolve, path[1:]):
            return True
    return False


@schemathesis.check
def refused_only_where_marked(ctx, response, case):
    """A schema-valid request refused with 422 names only fields marked x-checked-against."""
    if response.status_code != 422 or not case.meta or not case.meta.generation.mode.is_positive:
        return
    raw = case.operation.definition.raw
    content = raw.get("requestBody", {}).get("content", {})
    # The body as sent: JSON for most, a notice upload is a PDF or text, the registry's
    # import a multipart upload (its file is marked).
    body = (
        content.get(case.media_type or "application/json")
        or content.get("application/json")
        or next(iter(content.values()), {})
    )
    spec = case.operation.schema.raw_schema

    def resolve(schema):
        while "$ref" in schema:
            node = spec
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    fields = response.json()["error"].get("fields") or {"_schema": []}
    unmarked = [
        name
        for name in fields
        if not _marked(body.get("schema", {}), resolve, re.sub(r"\[\d+\]", "", name).split("."))
    ]
    assert not unmarked, f"schema-valid, refused for unmarked fields {unmarked}: {fields}"


@schemathesis.check
def token_checked_before_input(ctx, response, case):
    """Input refused (400, 413, 415, 422) with a token is 401 without one: a caller who is
    not logged in learns nothing about what the endpoint would take."""
    if response.status_code not in (400, 413, 415, 422):
        return
    if not case.operation.definition.raw.get("security"):
        return
    with_token = case.headers
    case.headers = {k: v for k, v in (with_token or {}).items() if k.lower() != "authorization"}
    try:
        answer = case.call()
    finally:
        case.headers = with_token
    assert answer.status_code == 401, (
        f"without a token: {answer.status_code} {answer.text[:300]} (with one: "
        f"{response.status_code}); authentication must come before validation"
    )


@pytest.fixture(params=["inspector", "team_lead", "office"])
def role(request):
    return request.param


def served(app):
    """The app as a WSGI server runs it: the body read whole, then the response closed
    (send_file's open files are released on close, which schemathesis's client skips)."""

    def wsgi(environ, start_response):
        result = app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            if hasattr(result, "close"):
                result.close()

    return wsgi


def _cases(operation, mode, known: dict):
    """Generated cases; valid ones also with path parameters that name real records."""
    auth = operation.schema.auth
    cases = operation.as_strategy(mode, auth_storage=auth)
    names = {p.name for p in operation.path_parameters}
    fixed = {name: value for name, value in known.items() if name in names}
    if mode is schemathesis.GenerationMode.POSITIVE and fixed:
        cases = st.one_of(
            cases, operation.as_strategy(mode, auth_storage=auth, path_parameters=fixed)
        )
    if mode is schemathesis.GenerationMode.POSITIVE and "sha256" in names and operation.body:
        cases = cases.map(_named_by_its_hash)
    return cases


def _named_by_its_hash(case):
    """A valid photo upload is named by the SHA-256 of its bytes, and a Content-Range sent
    with it spans those bytes (the spec says both in words, JSON Schema cannot)."""
    body = getattr(case.body, "data", case.body)  # schemathesis's Binary holds the bytes
    body = body if isinstance(body, bytes) else str(body or "").encode()
    case.path_parameters = {**case.path_parameters, "sha256": hashlib.sha256(body).hexdigest()}
    if body and "Content-Range" in (case.headers or {}):
        case.headers["Content-Range"] = f"bytes 0-{len(body) - 1}/{len(body)}"
    return case


def fuzz(operation, mode, known: dict):
    """A Hypothesis test sending the operation's generated cases (the token set by auth)."""

    @SETTINGS
    @given(case=_cases(operation, mode, known))
    def run(case):
        case.call_and_validate(
            additional_checks=[
                status_documented_by_operation,
                contract_error_body,
                refused_only_where_marked,
                token_checked_before_input,
            ],
        )

    return run


def test_api_conforms_to_spec(app, role, make_user, make_site, login):
    make_user(f"fuzz_{role}", role=role, districts=(DISTRICTS[0],))
    known = {"code": "refined-oil-2025", "site_id": make_site(district=DISTRICTS[0])}
    schema = schemathesis.openapi.from_wsgi(
        SPEC, served(app), config=schemathesis.Config.from_dict(CONFIG)
    )
    token = {}

    @schema.auth(refresh_interval=None)
    class Bearer:
        """The user's token as a bearerAuth credential, so schemathesis knows it is auth."""

        def get(self, case, ctx):
            return token["header"]

        def set(self, case, data, ctx):
            case.headers = {**(case.headers or {}), "Authorization": data}

    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in MODES:
            # A fresh token each time: DELETE /auth/token revokes the one it is sent with.
            token["header"] = login(f"fuzz_{role}")["Authorization"]
            try:
                fuzz(operation, mode, known)()
            except Unsatisfiable:
                continue  # nothing to make invalid: no parameters, no body
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - all reported below
                failures.append(f"{operation.label} ({mode.value}):\n{exc}")
    assert not failures, "\n\n".join(failures)
