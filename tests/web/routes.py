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
    ("GET", "/employer/organisation"): frozenset({E}),
    ("POST", "/employer/organisation"): frozenset({E}),
    ("GET", "/employer/vacancies"): frozenset({E}),
    ("GET", "/employer/vacancies/new"): frozenset({E}),
    ("POST", "/employer/vacancies/new"): frozenset({E}),
    ("GET", "/employer/vacancies/{posting_id}/edit"): frozenset({E}),
    ("POST", "/employer/vacancies/{posting_id}/edit"): frozenset({E}),
    ("GET", "/employer/vacancies/{posting_id}/candidates"): frozenset({E}),
    ("GET", "/centre/seekers"): frozenset({C}),
    ("GET", "/centre/trainings"): frozenset({C}),
    ("GET", "/centre/trainings/new"): frozenset({C}),
    ("POST", "/centre/trainings/new"): frozenset({C}),
    ("GET", "/manage/accommodations"): frozenset({A}),
    ("POST", "/manage/accommodations"): frozenset({A}),
    ("GET", "/manage/accommodations/{code}/edit"): frozenset({A}),
    ("POST", "/manage/accommodations/{code}/edit"): frozenset({A}),
    ("POST", "/manage/accommodations/{code}/retire"): frozenset({A}),
    ("GET", "/manage/centres"): frozenset({A}),
    ("GET", "/manage/accounts"): frozenset({A}),
    ("POST", "/manage/accounts"): frozenset({A}),
    ("POST", "/manage/accounts/{account_id}/disable"): frozenset({A}),
}
