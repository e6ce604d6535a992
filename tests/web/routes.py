"""Page routes and the roles each admits (the access matrix checks them like API routes:
anonymous callers of a page with roles get 303 to /login instead of 401)."""

from models.base import Role

S, E, C, A = Role.seeker, Role.employer, Role.caseworker, Role.admin
PUBLIC: frozenset[Role] = frozenset()
ALL = frozenset({S, E, C, A})

PAGE_ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/language"): PUBLIC,
    ("GET", "/preferences/display"): PUBLIC,
    ("POST", "/preferences/display"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): ALL,
    ("GET", "/register"): PUBLIC,
    ("POST", "/register"): PUBLIC,
    ("GET", "/seeker/profile"): frozenset({S}),
    ("POST", "/seeker/profile"): frozenset({S}),
    ("GET", "/seeker/needs"): frozenset({S}),
    ("POST", "/seeker/needs"): frozenset({S}),
    ("GET", "/seeker/consents"): frozenset({S}),
    ("POST", "/seeker/consents/{purpose}/give"): frozenset({S}),
    ("POST", "/seeker/consents/{purpose}/withdraw"): frozenset({S}),
    ("GET", "/seeker/matches"): frozenset({S}),
    ("POST", "/seeker/matches/{posting_id}/feedback"): frozenset({S}),
    ("GET", "/seeker/trainings"): frozenset({S}),
    ("GET", "/seeker/data"): frozenset({S}),
    ("GET", "/seeker/data/export"): frozenset({S}),
    ("GET", "/seeker/data/delete"): frozenset({S}),
    ("POST", "/seeker/data/delete"): frozenset({S}),
}
