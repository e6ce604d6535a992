"""Routes × roles: each route declares its roles, and the server enforces exactly them.

Adding a route without an entry in ROUTES fails here.
"""

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.deps import Allow, Public
from api.main import ROUTERS
from api.settings import Settings
from models.base import Role
from tests import factories as f
from tests.web.routes import PAGE_ROUTES

S, E, C, A, V = Role.seeker, Role.employer, Role.caseworker, Role.admin, Role.volunteer
PUBLIC: frozenset[Role] = frozenset()
ALL = frozenset({S, E, C, A, V})
MEMBERS = frozenset({S, E, C, A})  # every role but the accessibility volunteer
STAFF = frozenset({C, A})
EMP_STAFF = frozenset({E, C, A})

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/health"): PUBLIC,
    ("POST", "/auth/register"): PUBLIC,
    ("POST", "/auth/token"): PUBLIC,
    ("POST", "/auth/login"): PUBLIC,
    ("POST", "/auth/logout"): ALL,
    ("GET", "/auth/me"): ALL,
    ("POST", "/auth/password"): ALL,
    ("POST", "/seekers"): frozenset({S}),
    ("GET", "/seekers"): frozenset({C}),
    ("GET", "/seekers/me"): frozenset({S}),
    ("GET", "/seekers/{seeker_id}"): frozenset({S, C}),
    ("PATCH", "/seekers/{seeker_id}"): frozenset({S, C}),
    ("POST", "/seekers/{seeker_id}/close"): frozenset({S, C}),
    ("POST", "/employers"): STAFF,
    ("GET", "/employers"): STAFF,
    ("GET", "/employers/{employer_id}"): EMP_STAFF,
    ("PATCH", "/employers/{employer_id}"): EMP_STAFF,
    ("GET", "/employers/{employer_id}/quota"): EMP_STAFF,
    ("POST", "/employers/{employer_id}/verify"): STAFF,
    ("POST", "/employers/{employer_id}/close"): EMP_STAFF,
    ("POST", "/postings"): EMP_STAFF,
    ("POST", "/postings/import"): EMP_STAFF,
    ("GET", "/postings"): ALL,
    ("GET", "/postings/{posting_id}"): ALL,
    ("PATCH", "/postings/{posting_id}"): EMP_STAFF,
    ("POST", "/postings/{posting_id}/close"): EMP_STAFF,
    ("POST", "/trainings"): STAFF,
    ("GET", "/trainings"): MEMBERS,
    ("GET", "/trainings/{training_id}"): MEMBERS,
    ("PATCH", "/trainings/{training_id}"): STAFF,
    ("POST", "/trainings/{training_id}/close"): STAFF,
    ("GET", "/accommodations"): PUBLIC,
    ("POST", "/accommodations"): frozenset({A}),
    ("PATCH", "/accommodations/{code}"): frozenset({A}),
    ("POST", "/accommodations/{code}/retire"): frozenset({A}),
    ("GET", "/centres"): PUBLIC,
    ("POST", "/accounts"): frozenset({A}),
    ("GET", "/accounts"): frozenset({A}),
    ("POST", "/accounts/{account_id}/disable"): frozenset({A}),
    ("GET", "/seekers/{seeker_id}/matches"): frozenset({S, C}),
    ("GET", "/postings/{posting_id}/candidates"): EMP_STAFF,
    ("PUT", "/seekers/{seeker_id}/feedback/{posting_id}"): frozenset({S, C}),
    ("DELETE", "/seekers/{seeker_id}/feedback/{posting_id}"): frozenset({S, C}),
    ("GET", "/seekers/{seeker_id}/feedback"): frozenset({S, C}),
    ("GET", "/privacy/consent-texts"): PUBLIC,
    ("GET", "/seekers/{seeker_id}/consents"): frozenset({S, C}),
    ("POST", "/seekers/{seeker_id}/consents"): frozenset({S}),
    ("POST", "/seekers/{seeker_id}/consents/{consent_id}/withdraw"): frozenset({S}),
    ("PUT", "/seekers/{seeker_id}/sensitive"): frozenset({S}),
    ("GET", "/seekers/{seeker_id}/sensitive"): frozenset({S, C}),
    ("DELETE", "/seekers/{seeker_id}/sensitive"): frozenset({S}),
    ("GET", "/seekers/{seeker_id}/access-log"): frozenset({S}),
    ("GET", "/seekers/{seeker_id}/export"): frozenset({S}),
    ("POST", "/seekers/{seeker_id}/erase"): frozenset({S, A}),
    ("POST", "/admin/break-glass/seekers/{seeker_id}"): frozenset({A}),
    ("POST", "/referrals"): frozenset({S, C}),
    ("GET", "/referrals"): frozenset({S, C, A}),
    ("GET", "/referrals/queue"): STAFF,
    ("GET", "/referrals/stats"): STAFF,
    ("GET", "/referrals/received"): frozenset({E}),
    ("GET", "/referrals/received/{referral_id}"): frozenset({E}),
    ("POST", "/postings/{posting_id}/invitations"): frozenset({E}),
    ("POST", "/referrals/{referral_id}/interview"): frozenset({E}),
    ("POST", "/referrals/{referral_id}/hire"): frozenset({E}),
    ("POST", "/referrals/{referral_id}/not-hired"): frozenset({E}),
    ("POST", "/referrals/{referral_id}/retained"): frozenset({E}),
    ("GET", "/referrals/{referral_id}"): frozenset({S, C, A}),
    ("GET", "/referrals/{referral_id}/preview"): frozenset({S}),
    ("POST", "/referrals/{referral_id}/consent"): frozenset({S}),
    ("POST", "/referrals/{referral_id}/consent/withdraw"): frozenset({S}),
    ("POST", "/referrals/{referral_id}/withdraw"): frozenset({S}),
    ("POST", "/referrals/{referral_id}/approve"): STAFF,
    ("POST", "/referrals/{referral_id}/reject"): STAFF,
    ("PUT", "/referrals/{referral_id}/deadline"): STAFF,
    ("POST", "/referrals/{referral_id}/send"): frozenset({S, C, A}),
    ("GET", "/referral-rules"): STAFF,
    ("POST", "/referral-rules"): frozenset({A}),
    ("PATCH", "/referral-rules/{code}"): frozenset({A}),
    ("POST", "/referral-rules/dry-run"): frozenset({A}),
    ("GET", "/weight-sets"): frozenset({A}),
    ("GET", "/weight-sets/{set_id}"): frozenset({A}),
    ("POST", "/weight-sets/{set_id}/activate"): frozenset({A}),
    ("GET", "/inbox"): ALL,
    ("POST", "/inbox/{item_id}/read"): ALL,
    ("POST", "/inbox/{item_id}/unread"): ALL,
    ("GET", "/pushes/preferences"): ALL,
    ("PUT", "/pushes/preferences"): ALL,
    ("POST", "/pushes/stop"): PUBLIC,
    ("GET", "/admin/pushes"): frozenset({A}),
    ("POST", "/admin/pushes/{push_id}/retry"): frozenset({A}),
    ("GET", "/admin/jobs"): frozenset({A}),
    # verified workplace accessibility: volunteers record checks and see what that needs
    ("POST", "/postings/{posting_id}/accessibility-checks"): frozenset({C, V}),
    ("GET", "/postings/{posting_id}/accessibility"): ALL,
    ("GET", "/accessibility/worklist"): frozenset({C, A, V}),
    ("POST", "/accessibility/findings/{finding_id}/photos"): frozenset({C, V}),
    ("GET", "/accessibility/photos/{photo_id}"): frozenset({E, C, A, V}),
    ("DELETE", "/accessibility/photos/{photo_id}"): STAFF,
    ("POST", "/accessibility/findings/{finding_id}/reply"): frozenset({E}),
}
UNDOCUMENTED = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def declared_roles(route: APIRoute) -> frozenset[Role] | None:
    """The roles the route's Allow/Public dependency admits (None if it declares none)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Allow):
            return dep.call.roles
        if isinstance(dep.call, Public):
            return PUBLIC
        stack.extend(dep.dependencies)
    return None


def app_routes(app: Any) -> dict[tuple[str, str], APIRoute]:
    out = {}
    candidates = [r for r in app.routes if isinstance(r, APIRoute)]
    candidates += [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    for route in candidates:
        for method in route.methods:
            out[(method, route.path)] = route
    return out


def test_every_route_is_in_the_table_and_declares_its_roles(app: Any, client: TestClient) -> None:
    routes = app_routes(app)
    spec = client.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert documented == set(routes), "a route is served that the matrix cannot see"
    expected = {**ROUTES, **PAGE_ROUTES}
    assert set(routes) == set(expected), (
        f"missing from ROUTES: {sorted(set(routes) - set(expected))}; "
        f"stale in ROUTES: {sorted(set(expected) - set(routes))}"
    )
    for key, route in routes.items():
        assert declared_roles(route) == expected[key], key


def test_openapi_documents_auth_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for (method, path), roles in {**ROUTES, **PAGE_ROUTES}.items():
        op = spec["paths"][path][method.lower()]
        if roles:
            assert {"401", "403"} <= set(op["responses"]), (method, path)


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    url = path.replace("{code}", "no_such_code").replace("{step}", "hire")
    for name in (
        "seeker_id",
        "employer_id",
        "posting_id",
        "training_id",
        "account_id",
        "consent_id",
        "referral_id",
        "set_id",
        "finding_id",
        "photo_id",
    ):
        url = url.replace("{" + name + "}", "999999")
    if method == "GET":
        return client.get(url, headers=headers, follow_redirects=False).status_code
    return client.request(method, url, headers=headers, json={}, follow_redirects=False).status_code


@pytest.mark.parametrize("key", sorted({**ROUTES, **PAGE_ROUTES}), ids=lambda k: f"{k[0]} {k[1]}")
def test_each_role_reaches_only_what_it_may(
    key: tuple[str, str], client: TestClient, session: Session, settings: Settings
) -> None:
    method, path = key
    allowed = ROUTES[key] if key in ROUTES else PAGE_ROUTES[key]
    accounts = {
        S: f.account(session, S),
        E: f.employer_account(session)[0],
        C: f.account(session, C),
        A: f.account(session, A, centre_code=None),
        V: f.account(session, V, centre_code=None),
    }
    anonymous = _call(client, method, path, {})
    if allowed and key in PAGE_ROUTES:  # a page sends the anonymous visitor to log in
        assert anonymous == 303, f"anonymous got {anonymous}"
    elif allowed:
        assert anonymous == 401, f"anonymous got {anonymous}"
    else:
        assert anonymous not in (401, 403)
    for role, acc in accounts.items():
        status = _call(client, method, path, f.headers(session, settings, acc))
        if not allowed or role in allowed:
            assert status not in (401, 403), f"{role} got {status}"
        else:
            assert status == 403, f"{role} got {status}"
