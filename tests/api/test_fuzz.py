"""Fuzzing the API from its own OpenAPI document (schemathesis), as each role, on each
database: no server errors, responses and status codes as documented.

Bounded here (a few examples per operation); `scripts/fuzz` runs the long version.
"""

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from schemathesis.config import SchemathesisConfig
from sqlmodel import Session

from api.settings import Settings
from models.base import Role
from tests import factories as f

EXAMPLES = int(os.environ.get("JOBMATCH_FUZZ_EXAMPLES", "3"))
# Schema-valid requests can still break a rule the schema cannot state (a credit code's check
# character, dates in order, a consent that must come first, a state that moved on): those
# are answered 409 or 422, which is right, so the positive-data check accepts them too; and
# many generated logins from one address are throttled (429), as they should be.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2XX", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)


def headers_for(role: Role, session: Session, settings: Settings) -> dict[str, str]:
    if role == Role.employer:
        acc, _ = f.employer_account(session)
    else:
        acc = f.account(session, role, centre_code=None if role == Role.admin else "heping")
    return f.headers(session, settings, acc)


def test_api_fuzz(app: Any, client: Any, session: Session, settings: Settings) -> None:
    """Every operation, as every role and as nobody, with generated valid and invalid input."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    headers = [headers_for(role, session, settings) for role in Role] + [{}]
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        # HTML pages are driven by the browser tests (keyboard, axe), not by JSON fuzzing.
        if "pages" not in (op.definition.raw.get("tags") or [])
    ]
    assert len(operations) > 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @hsettings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            for h in headers:
                case.call_and_validate(headers=h)

        run()
