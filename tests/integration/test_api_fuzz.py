"""schemathesis against the API's own OpenAPI document, on both databases, authenticated as an
admin at every site: generated requests, valid and not, never get a server error or a response
that breaks the documented schema.

Each operation's strategy is run through Hypothesis directly (schemathesis's pytest plugin
does not run under pytest 9), a bounded number of examples each.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import make_settings
from tests.helpers import admin_headers
from warehouse.app import create_app
from warehouse.bootstrap import Service, bootstrap

pytestmark = pytest.mark.slow
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25
#: An endless Server-Sent Events response cannot be read to its end in-process; its
#: validation is tested in test_stream.py and test_security.py.
UNFUZZED = {"/api/v1/stream/stock"}


def fuzz(service: Service, examples: int = EXAMPLES) -> list[str]:
    """Run every operation's examples; return the operations that were exercised."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(service=service))
    headers = admin_headers(service)
    exercised = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in UNFUZZED:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
        exercised.append(f"{operation.method.upper()} {operation.path}")
    return exercised


def test_no_server_errors_and_no_schema_violations(seeded: Service) -> None:
    # limits high enough that the fuzzer's requests are answered rather than counted out
    service = bootstrap(
        make_settings(
            seeded.settings.database_url,
            api_rate_limit="1000000/minute",
            login_address_limit="1000000/minute",
        ),
        catalog_ttl=0,
    )
    try:
        exercised = fuzz(service)
    finally:
        service.close()
    assert "POST /api/v1/movements" in exercised
    assert "GET /api/v1/audit" in exercised
    assert len(exercised) >= 22
