"""Schemathesis against the OpenAPI document at /schema: every /api/v1 operation,
with generated valid and invalid input, answers without a 5xx and as documented
(status, content type, body schema, headers)."""

from __future__ import annotations

import uuid

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.partners.conftest import api

EXAMPLES = 40
# A schema-valid body may still be refused on its meaning (a phone number that is no
# mobile number, a wrong consent code: 422 with its code), which this check counts
# as a failure; every other check runs.
SEMANTIC = [positive_data_acceptance]


def operations(app):
    schema = schemathesis.openapi.from_asgi("/schema", app).include(path_regex=r"^/api/v1/")
    found = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in found} == {
        "POST /api/v1/members/lookup",
        "POST /api/v1/earn",
        "POST /api/v1/redemptions/consent",
        "POST /api/v1/redemptions",
        "POST /api/v1/transactions/{transaction_id}/reverse",
        "GET /api/v1/transactions/{transaction_id}",
    }
    return found


def fuzz(operation, mode, headers) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        response = case.call_and_validate(
            headers={**headers(), "Idempotency-Key": str(uuid.uuid4())},
            excluded_checks=SEMANTIC,
        )
        assert response.status_code < 500

    run()


def test_every_api_operation_answers_as_documented(app, club):
    for operation in operations(app):
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            fuzz(operation, mode, lambda: api(club.key_a, None))


def test_without_a_key_every_operation_is_refused_as_documented(app, club):
    for operation in operations(app):
        fuzz(operation, schemathesis.GenerationMode.POSITIVE, dict)
