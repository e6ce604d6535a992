"""Browser tests: Debian's chromium driven by Playwright, the app served by uvicorn on a SQLite
file with small demo data. axe-core (bundled by axe-playwright-python) must find no WCAG 2.2
A/AA violation on any page in either language; keyboard-only flows; screenshots of each page
in both languages go to artifacts/screenshots/ (kept by CI).
"""

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

import uvicorn  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from api.db import make_engine, upgrade  # noqa: E402
from api.demo import DEMO_PASSWORD, DemoSizes, load_demo_data  # noqa: E402
from api.main import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from models import Posting  # noqa: E402
from models.base import PostingStatus  # noqa: E402
from tests.conftest import TEST_SECRET  # noqa: E402
from tests.waiting import until  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app on a demo SQLite file, served on 127.0.0.1 from a background thread."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (scripts/test installs it)")
    path = tmp_path_factory.mktemp("browser") / "demo.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(
        environment="test",
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        database_url=url,
        scheduler_enabled=False,
        embedding_model="hashing",
        index_poll_seconds=0.0,
    )
    with Session(engine) as session:
        logins = load_demo_data(
            session,
            DemoSizes(seekers=12, employers=4, postings=24, trainings=4),
            seed=7,
            settings=settings,
        )
        session.commit()
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    assert until(lambda: srv.started, 30, every=0.05), "uvicorn did not start"
    first = {}
    for role, email, _ in logins:
        first.setdefault(role, email)
    yield {
        "base": f"http://127.0.0.1:{port}",
        "logins": first,
        "engine": engine,
        "settings": settings,
    }
    srv.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.base = server["base"]  # type: ignore[attr-defined]
    yield pg
    context.close()


# --- helpers -------------------------------------------------------------------------------


def focused(page: Any) -> dict[str, str]:
    return dict(
        page.evaluate(
            """() => { const e = document.activeElement;
            return {tag: e.tagName.toLowerCase(), id: e.id || '',
                    name: e.getAttribute('name') || '',
                    text: (e.innerText || e.value || '').trim().slice(0, 80),
                    href: e.getAttribute('href') || '', type: e.getAttribute('type') || '',
                    main: e.closest('main') ? 'yes' : ''}; }"""
        )
    )


def tab_to(page: Any, match: Any, limit: int = 150, *, back: bool = False) -> dict[str, str]:
    """Press Tab (Shift+Tab if back) until the focused element satisfies match (a predicate
    on focused())."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        info = focused(page)
        if match(info):
            return info
    raise AssertionError("Tab never reached the element")


def expect_focus(page: Any, element_id: str, why: str) -> None:
    """Wait (briefly: autofocus runs just after load) until focus is on the element."""
    try:
        page.wait_for_function(
            "id => document.activeElement && document.activeElement.id === id",
            arg=element_id,
            timeout=5000,
        )
    except playwright_sync.TimeoutError:
        raise AssertionError(f"{why}: focus is on {focused(page)}") from None


def submit_by_enter(page: Any) -> None:
    """Press Enter on the focused control and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def type_into(page: Any, field_id: str, text: str) -> None:
    tab_to(page, lambda f: f["id"] == field_id)
    page.keyboard.type(text)


def check_axe(page: Any, label: str) -> None:
    results = axe_module.Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    violations = results.response["violations"]
    detail = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert not violations, f"axe violations on {label}: {detail}"


def login_with_keyboard(page: Any, email: str) -> None:
    page.goto(page.base + "/login")
    type_into(page, "f-email", email)
    type_into(page, "f-password", DEMO_PASSWORD)
    submit_by_enter(page)
    expect_focus(page, "flash", "after logging in, focus is on the confirmation")


def set_language(page: Any, lang: str) -> None:
    page.context.add_cookies([{"name": "jobmatch_lang", "value": lang, "url": page.base}])


# --- every page: axe in both languages, screenshots ------------------------------------------

ROLE_PAGES: dict[str, list[str]] = {
    "anonymous": ["/", "/login", "/register", "/preferences/display"],
    "seeker": [
        "/",
        "/seeker/profile",
        "/seeker/needs",
        "/seeker/matches",
        "/seeker/trainings",
        "/seeker/consents",
        "/seeker/data",
        "/seeker/data/access-log",
        "/seeker/data/delete",
        "/seeker/referrals",
    ],
    "employer": [
        "/employer/organisation",
        "/employer/quota",
        "/employer/vacancies",
        "/employer/vacancies/new",
        "{edit}",
        "{candidates}",
        "/employer/referrals",
        "{received}",
    ],
    "caseworker": [
        "/centre/seekers",
        "/centre/trainings",
        "/centre/trainings/new",
        "/centre/referrals",
        "{review}",
    ],
    "admin": [
        "/manage/accommodations",
        "/manage/accommodations/lift/edit",
        "/manage/centres",
        "/manage/accounts",
        "/manage/accounts/employer",
        "/manage/rules",
        "/manage/rules/essential_needs_met/edit",
        "/manage/rules/new",
        "/manage/rules/new?code=max_arrangeable_needs",
        "/manage/rules/dry-run",
        "/manage/statistics",
    ],
}
ROLE_PAGES["volunteer"] = ["/checks", "{check_form}", "{workplace}", "/messages"]
ROLE_PAGES["employer"] += ["{workplace}"]
# Messages and notification settings: every role that logs in.
for _role in ("seeker", "employer", "caseworker", "admin"):
    ROLE_PAGES[_role] += ["/messages", "{message}", "/preferences/pushes"]


def _checked_posting(server: dict[str, Any], employer_email: str | None) -> int:
    """A posting with a demo accessibility check (the employer's own, when one is given)."""
    from models import AccessibilityCheck, Account, Posting

    with Session(server["engine"]) as session:
        query = select(AccessibilityCheck.posting_id).join(
            Posting, Posting.id == AccessibilityCheck.posting_id
        )
        if employer_email is not None:
            acc = session.exec(select(Account).where(Account.email == employer_email)).one()
            query = query.where(Posting.employer_id == acc.employer_id)
            found = session.exec(query).first()
            if found is None:  # this employer has no checked posting: check its first one
                posting = session.exec(
                    select(Posting).where(Posting.employer_id == acc.employer_id)
                ).first()
                assert posting is not None
                return posting.id or 0
            return found
        return session.exec(query).first() or 0


def _account_id(server: dict[str, Any], email: str) -> int:
    from models import Account

    with Session(server["engine"]) as session:
        return session.exec(select(Account).where(Account.email == email)).one().id or 0


def _seed_messages(server: dict[str, Any], email: str, n: int = 2) -> int:
    """Training offers in the account's inbox (demo data has none); the newest one's id.
    For a seeker, also a caseworker's audited read, so "who read my data" has a row."""
    from api.services import outbox
    from models import AuditLog, Outbox, SeekerProfile

    account_id = _account_id(server, email)
    with Session(server["engine"]) as session:
        pushes = [
            outbox.Push(
                recipient_id=account_id,
                kind=outbox.TRAINING_OFFER,
                item_key=f"browser-training:{i}",
                period="2099-01-01",
                payload={
                    "training": {
                        "title": f"读屏软件入门 Screen reader basics {i}",
                        "starts_on": "2099-03-01",
                        "location_text": "和平 Heping",
                        "seats_left": 5,
                    },
                    "skills": ["Excel"],
                    "postings": [{"title": "文员 Clerk", "missing_skills": ["Excel"]}],
                },
            )
            for i in range(n)
        ]
        outbox.write(session, pushes)
        profile = session.exec(
            select(SeekerProfile).where(SeekerProfile.account_id == account_id)
        ).first()
        if profile is not None:
            session.add(
                AuditLog(
                    actor_id=None,
                    actor_role="caseworker",
                    action="sensitive_read",
                    object_type="seeker_sensitive",
                    object_id=str(profile.id),
                    purpose="安排面试 interview arrangements",
                )
            )
        session.commit()
        newest = session.exec(
            select(Outbox).where(Outbox.recipient_id == account_id).order_by(Outbox.id.desc())  # type: ignore[union-attr]
        ).first()
        assert newest is not None
        return newest.id or 0


def _employer_posting(server: dict[str, Any], email: str) -> int:
    with Session(server["engine"]) as session:
        from models import Account

        account = session.exec(select(Account).where(Account.email == email)).one()
        posting = session.exec(
            select(Posting).where(
                Posting.employer_id == account.employer_id, Posting.status == PostingStatus.open
            )
        ).first()
        assert posting is not None
        return posting.id or 0


def _principal(session: Session, email: str) -> Any:
    from api.deps import Principal
    from models import Account

    account = session.exec(select(Account).where(Account.email == email)).one()
    return Principal(account=account, session_id="", via_cookie=False)


def _refer(session: Session, settings: Any, seeker_email: str, posting_id: int) -> int:
    """A seeker's consented referral to the posting, through the referral service."""
    from api.schemas.referrals import ConsentChoiceIn, ReferralIn
    from api.services import referrals as service

    data = ReferralIn(
        posting_id=posting_id,
        consent=ConsentChoiceIn(agree=True, text_version=service.CONSENT_VERSION),
    )
    return (
        service.create_referral(session, settings, _principal(session, seeker_email), data).id or 0
    )


def _first_referral(session: Session, settings: Any, profiles: Any, posting_id: int) -> int:
    """A referral by the first seeker whose essential needs the job can meet."""
    from api.errors import Conflict
    from models import Account

    for profile in profiles:
        seeker = session.get(Account, profile.account_id)
        assert seeker is not None
        try:
            with session.begin_nested():
                return _refer(session, settings, seeker.email, posting_id)
        except Conflict:
            continue
    raise AssertionError("no demo seeker can be referred to this job")


def _queued_referral(server: dict[str, Any], caseworker_email: str) -> int:
    """A referral of one of the caseworker's seekers to an unverified employer's job: it
    waits in the centre's queue."""
    from models import Account, SeekerProfile
    from tests import factories as f

    with Session(server["engine"]) as session:
        caseworker = session.exec(select(Account).where(Account.email == caseworker_email)).one()
        employer = f.employer(session, verified=False)
        from models import Accommodation
        from models.base import OfferAvailability

        every = {c: OfferAvailability.available for c in session.exec(select(Accommodation.code))}
        posting = f.posting(session, employer, title="待审核岗位 Job to review", offers=every)
        profiles = session.exec(
            select(SeekerProfile).where(SeekerProfile.centre_id == caseworker.centre_id)
        ).all()
        rid = _first_referral(session, server["settings"], profiles, posting.id or 0)
        session.commit()
        return rid


def _sent_referral(server: dict[str, Any], employer_email: str) -> int:
    """A referral to the employer's open job, approved (by an admin if the rules queue it)
    and sent, through the referral service."""
    from api.schemas.referrals import ApproveIn
    from api.services import referrals as service
    from models import Account, Referral, SeekerProfile
    from models.base import ReferralStatus, Role

    posting_id = _employer_posting(server, employer_email)
    settings = server["settings"]
    with Session(server["engine"]) as session:
        taken = set(
            session.exec(select(Referral.seeker_id).where(Referral.posting_id == posting_id))
        )
        admin = session.exec(select(Account).where(Account.role == Role.admin)).first()
        assert admin is not None
        profiles = [p for p in session.exec(select(SeekerProfile)) if p.id not in taken]
        rid = _first_referral(session, settings, profiles, posting_id)
        staff = _principal(session, admin.email)
        referral = session.get(Referral, rid)
        assert referral is not None
        if referral.status == ReferralStatus.pending:
            service.approve(session, settings, staff, rid, ApproveIn())
        service.send(session, staff, rid)
        session.commit()
        return rid


README_SHOTS = {
    ("seeker", "/seeker/matches", "zh"),
    ("employer", "/employer/vacancies/new", "en"),
    ("employer", "/employer/quota", "zh"),
}


def _shot_name(role: str, path: str, lang: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "start"
    return f"{role}-{slug}-{lang}.png"


@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
def test_every_page_passes_axe_in_both_languages(
    role: str, page: Any, server: dict[str, Any]
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    paths = ROLE_PAGES[role]
    if role != "anonymous":
        email = server["logins"][role]
        message_id = _seed_messages(server, email)
        paths = [p.replace("{message}", f"/messages/{message_id}") for p in paths]
        login_with_keyboard(page, email)
        if role in ("volunteer", "employer"):
            wid = _checked_posting(server, email if role == "employer" else None)
            paths = [
                p.replace("{check_form}", f"/checks/postings/{wid}/new").replace(
                    "{workplace}", f"/workplaces/{wid}"
                )
                for p in paths
            ]
        if role == "caseworker":
            rid = _queued_referral(server, email)
            paths = [p.replace("{review}", f"/centre/referrals/{rid}") for p in paths]
        if role == "employer":
            rid = _sent_referral(server, email)
            paths = [p.replace("{received}", f"/employer/referrals/{rid}") for p in paths]
            posting_id = _employer_posting(server, email)
            paths = [
                p.replace("{edit}", f"/employer/vacancies/{posting_id}/edit").replace(
                    "{candidates}", f"/employer/vacancies/{posting_id}/candidates"
                )
                for p in paths
            ]
    for lang in ("zh", "en"):
        set_language(page, lang)
        for path in paths:
            response = page.goto(page.base + path)
            assert response is not None and response.status == 200, (path, lang)
            expected = "zh-CN" if lang == "zh" else "en"
            assert page.get_attribute("html", "lang") == expected
            check_axe(page, f"{role} {path} [{lang}]")
            page.screenshot(path=str(SCREENSHOTS / _shot_name(role, path, lang)), full_page=True)
            if (role, path, lang) in README_SHOTS:  # one screen's worth, for the README
                page.screenshot(path=str(SCREENSHOTS / ("readme-" + _shot_name(role, path, lang))))


def test_error_state_and_display_settings_pass_axe(page: Any) -> None:
    """A form with errors, and the high-contrast, large-text display, in both languages."""
    for lang in ("zh", "en"):
        set_language(page, lang)
        page.goto(page.base + "/register")
        with page.expect_navigation():
            page.click("main button[type=submit]")
        expect_focus(page, "error-summary", "errors are focused and announced")
        assert page.locator("#error-summary[role=alert]").count() == 1
        check_axe(page, f"register errors [{lang}]")
        page.screenshot(path=str(SCREENSHOTS / f"anonymous-register-errors-{lang}.png"))
    page.goto(page.base + "/preferences/display")
    page.check("#f-display-high_contrast")
    page.check("#f-display-large_text")
    with page.expect_navigation():
        page.click("form[action='/preferences/display'] button[type=submit]")
    assert "high-contrast" in (page.get_attribute("html", "class") or "")
    for lang in ("zh", "en"):
        set_language(page, lang)
        page.goto(page.base + "/login")
        check_axe(page, f"high contrast [{lang}]")
        page.screenshot(path=str(SCREENSHOTS / f"anonymous-login-high-contrast-{lang}.png"))


# --- keyboard-only flows ---------------------------------------------------------------------


def test_skip_link_is_first_and_moves_focus_to_main(page: Any) -> None:
    page.goto(page.base + "/login")
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["href"] == "#main"
    box = page.evaluate(
        "() => { const r = document.activeElement.getBoundingClientRect();"
        " return [r.width, r.height, r.top]; }"
    )
    assert box[0] >= 24 and box[1] >= 24 and box[2] >= 0, "visible, at least 24×24"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"


def test_language_switch_by_keyboard_keeps_the_page(page: Any) -> None:
    page.goto(page.base + "/register")
    tab_to(page, lambda f: "/language?to=en" in f["href"])
    submit_by_enter(page)
    assert page.url.endswith("/register")
    assert page.get_attribute("html", "lang") == "en"


def test_seeker_keyboard_flow_from_login_to_saved_match(page: Any, server: dict[str, Any]) -> None:
    """Log in, open the matches, read a match's reasons, save it: keyboard only.
    (Asking for a referral follows when the referral service lands.)"""
    login_with_keyboard(page, server["logins"]["seeker"])
    tab_to(page, lambda f: f["href"] == "/seeker/matches")
    submit_by_enter(page)
    assert page.url.endswith("/seeker/matches")
    info = tab_to(page, lambda f: f["tag"] == "button" and f["text"].startswith("收藏"))
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    assert "已收藏" in page.inner_text("#flash")
    title = info["text"].split("：", 1)[-1]
    assert page.locator("article", has_text=title).locator(".tag").count() == 1


def test_caseworker_keyboard_flow_publishes_a_training(page: Any, server: dict[str, Any]) -> None:
    """(Approving a referral follows when the referral service lands.)"""
    login_with_keyboard(page, server["logins"]["caseworker"])
    tab_to(page, lambda f: f["href"] == "/centre/trainings")
    submit_by_enter(page)
    tab_to(page, lambda f: f["href"] == "/centre/trainings/new")
    submit_by_enter(page)
    type_into(page, "f-title", "读屏软件入门 Screen reader basics")
    type_into(page, "f-starts_on", "2099-03-01")
    type_into(page, "f-ends_on", "2099-03-05")
    tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit" and f["main"] == "yes")
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    assert page.locator("h2", has_text="读屏软件入门").count() == 1


def test_seeker_keyboard_flow_requests_a_referral(page: Any, server: dict[str, Any]) -> None:
    """Log in, ask for a referral from a match, read exactly what the employer would get,
    try without agreeing (the error is announced), agree and send: keyboard only. The consent
    screen passes axe in both languages."""
    login_with_keyboard(page, server["logins"]["seeker"])
    tab_to(page, lambda f: f["href"] == "/seeker/matches")
    submit_by_enter(page)
    info = tab_to(page, lambda f: f["tag"] == "button" and f["text"].startswith("申请推荐"))
    title = info["text"].split("：", 1)[-1]
    submit_by_enter(page)
    assert "/consent" in page.url
    assert page.locator("h1").inner_text().endswith(title)
    assert page.locator("#fields-heading").count() == 1
    for lang in ("en", "zh"):
        set_language(page, lang)
        page.reload()
        check_axe(page, f"seeker referral consent [{lang}]")
        page.screenshot(
            path=str(SCREENSHOTS / f"seeker-referral-consent-{lang}.png"), full_page=True
        )
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "同意并申请推荐")
    submit_by_enter(page)
    expect_focus(page, "error-summary", "the missing agreement is announced")
    check_axe(page, "seeker referral consent errors [zh]")
    tab_to(page, lambda f: f["id"] == "f-agree")
    page.keyboard.press("Space")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "同意并申请推荐")
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    assert page.url.split("?")[0].endswith("/seeker/referrals")
    assert page.locator("section", has_text=title).count() >= 1


def test_caseworker_keyboard_flow_approves_a_queued_referral(
    page: Any, server: dict[str, Any]
) -> None:
    """Open the queue, read a waiting referral, approve it: keyboard only."""
    email = server["logins"]["caseworker"]
    rid = _queued_referral(server, email)
    login_with_keyboard(page, email)
    tab_to(page, lambda f: f["href"] == "/centre/referrals")
    submit_by_enter(page)
    assert "到期" in page.inner_text("main")  # the deadline in words
    tab_to(page, lambda f: f["href"] == f"/centre/referrals/{rid}")
    submit_by_enter(page)
    assert page.locator("#failed-heading").count() == 1
    assert "用人单位还没有通过核实" in page.inner_text("main")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "不批准")
    submit_by_enter(page)
    expect_focus(page, "error-summary", "the missing reason is announced")
    check_axe(page, "caseworker reject errors [zh]")
    type_into(page, "f-approve_reason", "电话核实 checked by phone")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "批准这份推荐")
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    assert "已批准" in page.inner_text("#flash")
    assert page.locator("#send-heading").count() == 1


def _referral_to_new_posting(server: dict[str, Any], posting_id: int) -> int:
    """Between the employer's steps: a seeker asks for a referral to the new vacancy, a
    caseworker of the seeker's centre approves it if the rules queued it, and it is sent
    (through the services, as the other roles' pages would)."""
    from api.schemas.referrals import ApproveIn
    from api.services import referrals as service
    from models import Account, Referral
    from models.base import ReferralStatus, Role
    from tests import factories as f

    settings = server["settings"]
    with Session(server["engine"]) as session:
        seeker, _ = f.seeker(
            session, centre_code="heping", phone="13800002222", full_name="键盘 Keyboard"
        )
        rid = _refer(session, settings, seeker.email, posting_id)
        referral = session.get(Referral, rid)
        assert referral is not None
        if referral.status == ReferralStatus.pending:
            caseworker = session.exec(
                select(Account).where(
                    Account.role == Role.caseworker, Account.centre_id == seeker.centre_id
                )
            ).first() or f.account(session, Role.caseworker, centre_code="heping")
            service.approve(
                session, settings, _principal(session, caseworker.email), rid, ApproveIn()
            )
        service.send(session, _principal(session, seeker.email), rid)
        session.commit()
        return rid


def test_employer_keyboard_flow_from_posting_to_hire(page: Any, server: dict[str, Any]) -> None:
    """One keyboard-only walk: post a vacancy (fixing an error), look at its candidates;
    a seeker asks for a referral and it is approved and sent (other roles, through the
    services); then open it among the referrals received, record the interview, and the
    hire with its start date (fixing a missing date)."""
    login_with_keyboard(page, server["logins"]["employer"])
    tab_to(page, lambda f: f["href"] == "/employer/vacancies/new")
    submit_by_enter(page)
    type_into(page, "f-required_skills", "Excel")
    type_into(page, "f-wage_min", "5000")
    tab_to(page, lambda f: f["id"] == "f-offer_lift")
    page.keyboard.press("ArrowRight")  # radios: arrow keys move to "available now"
    assert focused(page)["id"] == "f-offer_lift-available"
    tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit" and f["main"] == "yes")
    submit_by_enter(page)
    expect_focus(page, "error-summary", "the missing title is announced")
    assert page.input_value("#f-required_skills") == "Excel", "input is kept"
    assert page.is_checked("#f-offer_lift-available")
    tab_to(page, lambda f: f["href"] == "#f-title")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "f-title", "the error link moves focus to the field"
    page.keyboard.type("键盘测试岗位 Keyboard test job")
    tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit" and f["main"] == "yes")
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    match = re.search(r"/employer/vacancies/(\d+)/edit", page.url)
    assert match, page.url
    posting_id = int(match.group(1))
    tab_to(page, lambda f: f["href"].endswith("/candidates"))
    submit_by_enter(page)
    assert page.url.endswith("/candidates")
    assert page.locator("h1").inner_text().endswith("键盘测试岗位 Keyboard test job")

    rid = _referral_to_new_posting(server, posting_id)

    tab_to(page, lambda f: f["href"] == "/employer/referrals")
    submit_by_enter(page)
    tab_to(page, lambda f: f["href"] == f"/employer/referrals/{rid}")
    submit_by_enter(page)
    assert page.locator("h1").inner_text().endswith("键盘测试岗位 Keyboard test job")
    assert page.locator("#shared-heading").count() == 1
    assert "键盘 Keyboard" in page.inner_text("main"), "the consented name is shown"
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "记录面试")
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "记录录用")
    submit_by_enter(page)
    expect_focus(page, "error-summary", "the missing start date is announced")
    type_into(page, "f-start_date", time.strftime("%Y-%m-%d"))
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "记录录用")
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    assert "已记录录用" in page.inner_text("#flash")
    assert "已录用" in page.inner_text("main")


def test_employer_keyboard_flow_updates_the_quota_figures(
    page: Any, server: dict[str, Any]
) -> None:
    """Open the quota position, make a mistake (announced, input kept), fix it and save:
    the new position is shown with the confirmation focused. Keyboard only; the error state
    passes axe in both languages."""
    login_with_keyboard(page, server["logins"]["employer"])
    tab_to(page, lambda f: f["href"] == "/employer/quota")
    submit_by_enter(page)
    assert page.locator("#working-heading").count() == 1
    tab_to(page, lambda f: f["id"] == "f-staff_count")
    page.keyboard.press("Control+A")
    page.keyboard.type("100")
    tab_to(page, lambda f: f["id"] == "f-disabled_staff_grade_1_2")
    page.keyboard.press("Control+A")
    page.keyboard.type("101")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "保存人数")
    submit_by_enter(page)
    expect_focus(page, "error-summary", "the impossible figure is announced")
    assert page.input_value("#f-staff_count") == "100", "input is kept"
    for lang in ("en", "zh"):
        set_language(page, lang)
        page.reload()
        check_axe(page, f"employer quota errors [{lang}]")
        page.screenshot(path=str(SCREENSHOTS / f"employer-quota-errors-{lang}.png"), full_page=True)
    tab_to(page, lambda f: f["href"] == "#f-disabled_staff_grade_1_2")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "f-disabled_staff_grade_1_2"
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    tab_to(page, lambda f: f["id"] == "f-disabled_staff_grade_3_4")
    page.keyboard.press("Control+A")
    page.keyboard.type("0")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "保存人数")
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    # 100 × 1.5% = 1.5 required; 1 grade 1–2 counts 2 → the ratio is met (plus any
    # confirmed hires of the demo data, which only add to it).
    assert "已达到安排比例" in page.inner_text("#quota-summary")
    assert "应安排：100 × 1.5% = 1.5 人" in page.inner_text("main")


def test_caseworker_keyboard_flow_changes_a_deadline(page: Any, server: dict[str, Any]) -> None:
    """Open a waiting referral, try to change its deadline without a reason (the error is
    announced, the date kept), give the reason and save: keyboard only."""
    email = server["logins"]["caseworker"]
    rid = _queued_referral(server, email)
    login_with_keyboard(page, email)
    tab_to(page, lambda f: f["href"] == "/centre/referrals")
    submit_by_enter(page)
    tab_to(page, lambda f: f["href"] == f"/centre/referrals/{rid}")
    submit_by_enter(page)
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 6 * 86400))
    tab_to(page, lambda f: f["id"] == "f-deadline_date")
    page.keyboard.press("Control+A")
    page.keyboard.type(day)
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "保存新期限")
    submit_by_enter(page)
    expect_focus(page, "error-summary", "the missing reason is announced")
    assert page.input_value("#f-deadline_date") == day, "the date typed is kept"
    check_axe(page, "caseworker deadline errors [zh]")
    page.screenshot(path=str(SCREENSHOTS / "caseworker-deadline-errors-zh.png"), full_page=True)
    tab_to(page, lambda f: f["href"] == "#f-deadline_reason")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "f-deadline_reason"
    page.keyboard.type("等待手语翻译 waiting for an interpreter")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "保存新期限")
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    assert "审核期限已修改" in page.inner_text("#flash")
    assert day in page.inner_text("main")


def test_admin_keyboard_flow_tries_and_changes_rules(page: Any, server: dict[str, Any]) -> None:
    """Open the rules, change a setting with a mistake (announced, kept), try it on past
    referrals (focus on the result), save it, switch a rule off, add the rule not yet in
    force, and read the district figures: keyboard only. Result pages pass axe."""
    login_with_keyboard(page, server["logins"]["admin"])
    tab_to(page, lambda f: f["href"] == "/manage/rules")
    submit_by_enter(page)
    tab_to(page, lambda f: f["href"] == "/manage/rules/max_open_referrals/edit")
    submit_by_enter(page)
    tab_to(page, lambda f: f["id"] == "f-p_max")
    page.keyboard.press("Control+A")
    page.keyboard.type("很多")
    submit_by_enter(page)  # Enter submits with the first button: try, never save
    expect_focus(page, "error-summary", "the wrong number is announced")
    assert page.input_value("#f-p_max") == "很多", "input is kept"
    check_axe(page, "admin rule errors [zh]")
    tab_to(page, lambda f: f["href"] == "#f-p_max")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "f-p_max"
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "先试算，不保存")
    submit_by_enter(page)
    expect_focus(page, "dry-summary", "focus lands on the dry run's result")
    assert "份会秒批" in page.inner_text("#dry-summary")
    for lang, button in (("zh", ""), ("en", "先试算，不保存"), ("zh", "Try first, without saving")):
        if button:  # the same dry run again, answered in the other language
            set_language(page, lang)
            tab_to(page, lambda f, b=button: f["tag"] == "button" and f["text"] == b, back=True)
            submit_by_enter(page)
            expect_focus(page, "dry-summary", "focus lands on the dry run's result")
        check_axe(page, f"admin dry run result [{lang}]")
        page.screenshot(path=str(SCREENSHOTS / f"admin-rule-dry-run-{lang}.png"), full_page=True)
    assert page.input_value("#f-p_max") == "3", "the tried setting is kept"
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "保存规则", back=True)
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    assert "规则已保存" in page.inner_text("#flash")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"].startswith("关闭这条规则"))
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    assert "规则已关闭" in page.inner_text("#flash")
    assert "已关闭" in page.inner_text("main")
    tab_to(page, lambda f: f["href"] == "/manage/rules/new")
    submit_by_enter(page)
    tab_to(page, lambda f: f["href"] == "/manage/rules/new?code=max_arrangeable_needs")
    submit_by_enter(page)
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "启用这条规则")
    submit_by_enter(page)
    expect_focus(page, "flash", "focus lands on the confirmation")
    assert "新规则已生效" in page.inner_text("#flash")
    tab_to(page, lambda f: f["href"] == "/manage/statistics", back=True)
    submit_by_enter(page)
    assert page.locator("#states-heading").count() == 1
