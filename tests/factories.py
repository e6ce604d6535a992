"""Small factories that put rows in the database and give tokens, without the slow paths."""

import io
import itertools
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlmodel import Session, select

from api.security import hash_password
from api.services.auth import open_session
from api.settings import Settings
from api.uscc import check_char
from models import (
    Account,
    Centre,
    Employer,
    Posting,
    PostingOffer,
    SeekerNeed,
    SeekerProfile,
    Training,
)
from models.base import NeedLevel, OfferAvailability, Role, utcnow

PASSWORD = "a-good-long-password"
_counter = itertools.count(1)


@lru_cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def centre(session: Session, code: str = "heping") -> Centre:
    row = session.exec(select(Centre).where(Centre.code == code)).one()
    return row


def uscc(n: int) -> str:
    body = f"91{n:015d}"[:17]
    return body + check_char(body)


def account(
    session: Session,
    role: Role,
    *,
    centre_code: str | None = "heping",
    employer_id: int | None = None,
    email: str | None = None,
    display_name: str | None = None,
) -> Account:
    n = next(_counter)
    centre_id = centre(session, centre_code).id if centre_code else None
    acc = Account(
        email=email or f"{role.value}{n}@example.com",
        password_hash=password_hash(),
        role=role,
        display_name=display_name or f"{role.value} {n}",
        centre_id=centre_id,
        employer_id=employer_id,
    )
    session.add(acc)
    session.commit()
    return acc


def employer(session: Session, *, verified: bool = True, **kw: Any) -> Employer:
    n = next(_counter)
    emp = Employer(
        name=kw.pop("name", f"测试公司 Test Co {n}"),
        uscc=kw.pop("uscc", None) or uscc(n + 1000),
        staff_count=kw.pop("staff_count", 100),
        verified=verified,
        **kw,
    )
    session.add(emp)
    session.commit()
    return emp


def employer_account(session: Session, emp: Employer | None = None) -> tuple[Account, Employer]:
    emp = emp or employer(session)
    return account(session, Role.employer, centre_code=None, employer_id=emp.id), emp


def seeker(
    session: Session,
    *,
    centre_code: str = "heping",
    needs: dict[str, NeedLevel] | None = None,
    **kw: Any,
) -> tuple[Account, SeekerProfile]:
    acc = account(session, Role.seeker, centre_code=centre_code)
    profile = SeekerProfile(
        account_id=acc.id or 0,
        centre_id=acc.centre_id or 0,
        full_name=kw.pop("full_name", f"求职者 Seeker {acc.id}"),
        skills=kw.pop("skills", ["Excel", "数据录入"]),
        **kw,
    )
    session.add(profile)
    session.commit()
    for code, level in (needs or {}).items():
        session.add(SeekerNeed(seeker_id=profile.id or 0, code=code, level=level))
    session.commit()
    return acc, profile


def posting(
    session: Session,
    emp: Employer,
    *,
    offers: dict[str, OfferAvailability] | None = None,
    **kw: Any,
) -> Posting:
    row = Posting(
        employer_id=emp.id or 0,
        title=kw.pop("title", "数据录入员 Data entry clerk"),
        description=kw.pop("description", "录入数据 enter data"),
        required_skills=kw.pop("required_skills", ["Excel"]),
        expires_at=kw.pop("expires_at", utcnow() + timedelta(days=30)),
        **kw,
    )
    session.add(row)
    session.commit()
    for code, availability in (offers or {}).items():
        session.add(PostingOffer(posting_id=row.id or 0, code=code, availability=availability))
    session.commit()
    return row


def training(session: Session, centre_code: str = "heping", **kw: Any) -> Training:
    today = utcnow().date()
    row = Training(
        title=kw.pop("title", "Excel 培训 training"),
        centre_id=centre(session, centre_code).id,
        starts_on=today + timedelta(days=5),
        ends_on=today + timedelta(days=15),
        **kw,
    )
    session.add(row)
    session.commit()
    return row


def token(session: Session, settings: Settings, acc: Account) -> str:
    issued = open_session(session, settings, acc)
    session.commit()
    return issued.token


def headers(session: Session, settings: Settings, acc: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(session, settings, acc)}"}


def png_bytes(
    width: int = 40, height: int = 30, color: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    """A small real PNG image."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()
