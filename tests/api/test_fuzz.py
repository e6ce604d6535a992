"""Fuzzing the API from its own OpenAPI document (schemathesis), as each role, on each
database: no server errors, responses and status codes as documented.

Two modes: each operation alone with generated input, and stateful sequences in which calls
feed each other the ids they return (links that schemathesis infers from the schema).
Bounded here (a few examples per operation and sequence); `scripts/fuzz` runs the long version.
"""

import os
from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis.stateful import RULE_MARKER
from schemathesis.config import SchemathesisConfig
from sqlmodel import Session

from api.settings import Settings
from models.base import Role
from tests import factories as f

EXAMPLES = int(os.environ.get("JOBMATCH_FUZZ_EXAMPLES", "3"))
SEQUENCES = int(os.environ.get("JOBMATCH_FUZZ_SEQUENCES", "12"))
STEPS = 8
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


def stateful_machine(base: Any, headers: dict[str, str], seen: Counter[str]) -> Any:
    """The schema's state machine, calling as one caller and counting answers by kind."""

    class Machine(base):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def after_call(self, response: Any, case: Any) -> None:
            linked = "{" in case.operation.path and response.status_code < 300
            seen["linked_2xx" if linked else str(response.status_code)[0] + "xx"] += 1

    return Machine


def transitions(machine: Any) -> int:
    """How many links between operations the state machine follows."""
    return sum(hasattr(v, RULE_MARKER) for v in vars(machine).values())


def test_api_fuzz_stateful(app: Any, client: Any, session: Session, settings: Settings) -> None:
    """Sequences of calls, each role in turn, where ids from one answer go into the next call."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    base = schema.exclude(tag="pages").as_state_machine()
    assert transitions(base) > 50
    seen: Counter[str] = Counter()
    for role in Role:
        machine = stateful_machine(base, headers_for(role, session, settings), seen)
        machine.run(
            settings=hsettings(
                max_examples=SEQUENCES,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                derandomize=True,  # the same sequences each run: a failure can be replayed
                suppress_health_check=list(HealthCheck),
            )
        )
    assert seen["linked_2xx"] > 0, seen  # some calls used ids that earlier answers returned
    assert seen["5xx"] == 0, seen
