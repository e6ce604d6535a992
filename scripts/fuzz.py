"""Long fuzzing run: every JSON operation, as every role and as nobody, with schemathesis;
then its stateful mode: sequences of calls in which ids from one answer feed the next call
(links inferred from the schema), as every role and as nobody.

Prints each failure (operation, check, a curl line to reproduce) and, as its last line, one
JSON object with `requests`, `failures`, `stateful_requests` and `stateful_failures`.
"""

import argparse
import json
import sys
import tempfile
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from schemathesis.config import SchemathesisConfig
from sqlmodel import Session

from api.db import make_engine, upgrade
from api.demo import DemoSizes, load_demo_data
from api.main import create_app
from api.security import hash_password
from api.services.auth import open_session
from api.settings import Settings
from models import Account, Employer
from models.base import Role

CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {
        "expected-statuses": ["2XX", "401", "403", "404", "409", "422", "429"]}}}
)


def fuzz_operation(op: Any, headers: list[dict[str, str]], counts: dict[str, int],
                   examples: int) -> None:
    """Generated cases for one operation, each sent as every role and as nobody."""

    @given(case=op.as_strategy())
    @hsettings(max_examples=examples, deadline=None, database=None,
               suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        for h in headers:
            counts["requests"] += 1
            try:
                case.call_and_validate(headers=h)
            except Exception as exc:  # noqa: BLE001 - count and report every failure
                counts["failures"] += 1
                print(f"FAIL {op.method.upper()} {op.path}: {str(exc)[:600]}", file=sys.stderr)

    run()


def fuzz_stateful(schema: Any, headers: list[dict[str, str]], counts: dict[str, int],
                  sequences: int, steps: int) -> None:
    """Stateful sequences as each caller in turn; a failing sequence is counted and reported
    (hypothesis stops that caller's run at its first failure, shrunk)."""
    base = schema.exclude(tag="pages").as_state_machine()
    for h in headers:

        class Machine(base):  # type: ignore[misc,valid-type]
            def get_call_kwargs(self, case: Any, h: dict[str, str] = h) -> dict[str, Any]:
                return {"headers": h}

            def after_call(self, response: Any, case: Any) -> None:
                counts["stateful_requests"] += 1

        try:
            Machine.run(settings=hsettings(max_examples=sequences, stateful_step_count=steps,
                                           deadline=None, database=None,
                                           suppress_health_check=list(HealthCheck)))
        except Exception as exc:  # noqa: BLE001 - failures found by schemathesis' checks
            counts["stateful_failures"] += 1
            who = "nobody" if not h else "a role"
            print(f"FAIL stateful as {who}: {str(exc)[:1500]}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=50, help="examples per operation")
    parser.add_argument("--sequences", type=int, default=50,
                        help="stateful sequences per caller (0: skip the stateful mode)")
    parser.add_argument("--steps", type=int, default=10, help="calls per stateful sequence")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="jobmatch-fuzz-")
    url = args.database_url or f"sqlite:///{tmp}/fuzz.db"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(environment="test", secret_key="fuzz-" + "k" * 40,  # type: ignore[arg-type]
                        database_url=url, embedding_model="hashing", scheduler_enabled=False)
    with Session(engine, expire_on_commit=False) as session:
        load_demo_data(session, DemoSizes(seekers=30, employers=5, postings=40, trainings=5),
                       seed=7, settings=settings)
        session.commit()
        headers: list[dict[str, str]] = [{}]
        employer = session.query(Employer).first()
        for role in Role:
            acc = Account(email=f"fuzz-{role.value}@example.com",
                          password_hash=hash_password("fuzz-password-long"), role=role,
                          centre_id=1 if role in (Role.seeker, Role.caseworker) else None,
                          employer_id=employer.id if role == Role.employer and employer else None)
            session.add(acc)
            session.flush()
            token = open_session(session, settings, acc).token
            headers.append({"Authorization": f"Bearer {token}"})
        session.commit()
    app = create_app(settings, engine)
    counts = {"requests": 0, "failures": 0, "stateful_requests": 0, "stateful_failures": 0}
    with TestClient(app):
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
        for result in schema.get_all_operations():
            op = result.ok()
            if "pages" in (op.definition.raw.get("tags") or []):
                continue
            try:
                fuzz_operation(op, headers, counts, args.examples)
            except Exception as exc:  # noqa: BLE001 - failures found by schemathesis' checks
                counts["failures"] += 1
                print(f"FAIL {op.method.upper()} {op.path}: {str(exc)[:800]}", file=sys.stderr)
        if args.sequences > 0:
            fuzz_stateful(schema, headers, counts, args.sequences, args.steps)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
