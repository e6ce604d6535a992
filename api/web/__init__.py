"""Server-rendered pages (Jinja2, no JavaScript needed), in Chinese and English."""

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError

from api.errors import database_error_response, unavailable_error
from api.web import (
    admin,
    checks,
    common,
    employer,
    pushes,
    referral_review,
    referrals,
    seeker,
    staff,
)
from api.web.core import STATIC_DIR, PageRoute, error_page
from api.web.csrf import csrf_checker

# One flat router holding every page route (the access matrix walks ROUTERS' routes).
router = APIRouter()
for _module in (common, seeker, employer, staff, admin, pushes, referrals, referral_review, checks):
    router.routes.extend(_module.router.routes)


def install(app: FastAPI) -> None:
    """Static files, the CSRF checker that cookie-authenticated changes must pass, and pages
    for a database that cannot serve (a full or read-only disk, a database away)."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.state.csrf_checker = csrf_checker

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        # A page's failed commit happens after its handler returns, so it arrives here.
        error = unavailable_error(exc)
        if error is not None and isinstance(request.scope.get("route"), PageRoute):
            return error_page(request, error)
        return database_error_response(exc)
