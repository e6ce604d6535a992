"""Server-rendered pages (Jinja2, no JavaScript needed), in Chinese and English."""

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from api.web import checks, common, employer, pushes, referral_review, referrals, seeker, staff
from api.web.core import STATIC_DIR
from api.web.csrf import csrf_checker

# One flat router holding every page route (the access matrix walks ROUTERS' routes).
router = APIRouter()
for _module in (common, seeker, employer, staff, pushes, referrals, referral_review, checks):
    router.routes.extend(_module.router.routes)


def install(app: FastAPI) -> None:
    """Static files and the CSRF checker that cookie-authenticated changes must pass."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.state.csrf_checker = csrf_checker
