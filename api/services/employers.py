"""Employers and their postings with workplace offers."""

from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, or_, select

from api.deps import Principal
from api.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from api.schemas.common import PageParams
from api.schemas.domain import (
    DISABLED_ABOVE_STAFF,
    EmployerIn,
    EmployerUpdate,
    OfferIn,
    PostingIn,
    PostingPublic,
    PostingUpdate,
)
from api.services import audit
from api.services.common import apply_update, get_or_404, labelled_codes, paginate
from api.services.seekers import validate_codes
from api.services.verification import OFFER_ROWS, feature_states
from models import Employer, Posting, PostingOffer
from models.base import PostingStatus, Role, WorkMode, utcnow

STAFF = (Role.caseworker, Role.admin)
# The declared disabled staff (counts only), named in an error that they outnumber the staff.
QUOTA_COUNTS = ("disabled_staff_grade_1_2", "disabled_staff_grade_3_4")


# --- employers -------------------------------------------------------------------------


def check_employer_access(principal: Principal, employer: Employer) -> None:
    """An employer account reaches only its own organisation; staff reach all."""
    if principal.role in STAFF:
        return
    if principal.role == Role.employer and principal.account.employer_id == employer.id:
        return
    raise NotFound(f"employer {employer.id} not found")


def create_employer(
    session: Session, data: EmployerIn, *, centre_id: int | None = None
) -> Employer:
    if session.exec(select(Employer.id).where(Employer.uscc == data.uscc)).first() is not None:
        raise Conflict("an employer with this unified social credit code exists", field="uscc")
    employer = Employer.model_validate(data, update={"centre_id": centre_id})
    session.add(employer)
    session.flush()
    return employer


def get_employer(session: Session, principal: Principal, employer_id: int) -> Employer:
    employer = get_or_404(session, Employer, employer_id, what="employer")
    check_employer_access(principal, employer)
    return employer


def update_employer(
    session: Session, principal: Principal, employer_id: int, data: EmployerUpdate
) -> Employer:
    employer = get_employer(session, principal, employer_id)
    if employer.closed_at is not None:
        raise Conflict("this employer is closed")
    sent = data.model_fields_set - {"version"}
    before = {name: getattr(employer, name) for name in sorted(sent)}
    apply_update(employer, data)
    if employer.disabled_staff_grade_1_2 + employer.disabled_staff_grade_3_4 > employer.staff_count:
        field = next((n for n in QUOTA_COUNTS if n in sent), "staff_count")
        raise InvalidInput(DISABLED_ABOVE_STAFF, field=field)
    changed = {
        name: [old, getattr(employer, name)]
        for name, old in before.items()
        if getattr(employer, name) != old
    }
    session.add(employer)
    session.flush()
    if changed:
        # The quota figures are counts, not people: before and after are kept as they are.
        audit.record_by(
            session,
            principal,
            "employer_updated",
            object_type="employer",
            object_id=employer_id,
            detail={"changed": changed, "version": employer.version},
        )
    return employer


def verify_employer(session: Session, principal: Principal, employer_id: int) -> Employer:
    employer = get_employer(session, principal, employer_id)
    if not employer.verified:
        employer.verified = True
        employer.verified_at = utcnow()
        employer.verified_by = principal.id
        session.add(employer)
        session.flush()
    return employer


def close_employer(session: Session, principal: Principal, employer_id: int) -> Employer:
    employer = get_employer(session, principal, employer_id)
    if employer.closed_at is None:
        now = utcnow()
        employer.closed_at = now
        for posting in session.exec(
            select(Posting).where(
                Posting.employer_id == employer.id, Posting.status == PostingStatus.open
            )
        ):
            posting.status = PostingStatus.closed
            posting.updated_at = now
            session.add(posting)
        session.add(employer)
        session.flush()
    return employer


def list_employers(
    session: Session, page: PageParams, *, verified: bool | None = None, q: str | None = None
) -> tuple[list[Employer], int]:
    query = select(Employer)
    if verified is not None:
        query = query.where(Employer.verified == verified)
    if q:
        query = query.where(col(Employer.name).contains(q))
    return paginate(session, query.order_by(col(Employer.id)), page)


# --- postings --------------------------------------------------------------------------


def _set_offers(session: Session, posting: Posting, offers: list[OfferIn]) -> None:
    validate_codes(session, [o.code for o in offers], "offers")
    session.execute(delete(PostingOffer).where(col(PostingOffer.posting_id) == posting.id))
    for offer in offers:
        session.add(
            PostingOffer(
                posting_id=posting.id or 0, code=offer.code, availability=offer.availability
            )
        )


# Built once, like the statements in api.services.verification.
_EMPLOYERS = select(Employer).where(col(Employer.id).in_(bindparam("ids", expanding=True)))


def posting_to_public(session: Session, posting: Posting) -> PostingPublic:
    return postings_to_public(session, [posting])[0]


def postings_to_public(session: Session, postings: list[Posting]) -> list[PostingPublic]:
    """The public view of postings, with their employers, offers and the offers' verification
    loaded for the whole list (not per posting)."""
    ids = [p.id for p in postings]
    employers = {
        e.id: e
        for e in session.exec(
            _EMPLOYERS, params={"ids": sorted({p.employer_id for p in postings})}
        ).all()
    }
    # Plain columns, not ORM objects: a posting may offer dozens of accommodations.
    offer_rows = session.exec(OFFER_ROWS, params={"ids": ids}).all()
    offers = labelled_codes(session, offer_rows, "availability")
    states = feature_states(session, [i or 0 for i in ids], utcnow(), offers=offer_rows)
    for posting_id, posting_offers in offers.items():
        for offer in posting_offers:
            state = states.get(posting_id or 0, {}).get(offer["code"])
            offer["verification"] = state.status if state else "claimed"
            offer["checked_on"] = state.checked_on if state else None
            offer["verified_until"] = state.verified_until if state else None
    result = []
    for posting in postings:
        employer = employers.get(posting.employer_id)
        # From a dict of the columns: SQLModel's validation of an object with `update` is
        # about half again as slow, and a page holds twenty postings.
        result.append(
            PostingPublic.model_validate(
                {
                    **{name: getattr(posting, name) for name in _POSTING_COLUMNS},
                    "offers": offers.get(posting.id, []),
                    "employer_name": employer.name if employer else "",
                    "employer_verified": bool(employer and employer.verified),
                }
            )
        )
    return result


# What PostingPublic takes from the posting's own columns (the rest is added above).
_POSTING_COLUMNS = tuple(
    name
    for name in PostingPublic.model_fields
    if name not in {"offers", "employer_name", "employer_verified"}
)


def _check_expiry(expires_at: datetime | None) -> None:
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidInput("expires_at needs a time zone", field="expires_at")
        if expires_at <= utcnow():
            raise InvalidInput("expires_at is in the past", field="expires_at")


def create_posting(session: Session, principal: Principal, data: PostingIn) -> Posting:
    if principal.role == Role.employer:
        if data.employer_id not in (None, principal.account.employer_id):
            raise PermissionDenied("you may post only for your own organisation")
        employer_id = principal.account.employer_id
    else:
        employer_id = data.employer_id
    if employer_id is None:
        raise InvalidInput("employer_id is required", field="employer_id")
    employer = session.get(Employer, employer_id)
    if employer is None:
        raise InvalidInput(f"employer {employer_id} not found", field="employer_id")
    if employer.closed_at is not None:
        raise Conflict("this employer is closed")
    _check_expiry(data.expires_at)
    posting = Posting.model_validate(
        data.model_dump(exclude={"offers", "employer_id"}),
        update={"employer_id": employer_id, "centre_id": employer.centre_id},
    )
    session.add(posting)
    session.flush()
    _set_offers(session, posting, data.offers)
    session.flush()
    return posting


def _visible(principal: Principal, posting: Posting) -> bool:
    return visible(principal, posting.employer_id, posting.status)


def visible(principal: Principal, employer_id: int, status: PostingStatus) -> bool:
    """Whether the caller may see a posting of this employer in this state."""
    if principal.role in STAFF:
        return True
    if principal.role == Role.employer and principal.account.employer_id == employer_id:
        return True
    return status == PostingStatus.open


def get_posting(session: Session, principal: Principal, posting_id: int) -> Posting:
    posting = get_or_404(session, Posting, posting_id, what="posting")
    if not _visible(principal, posting):
        raise NotFound(f"posting {posting_id} not found")
    return posting


def _check_write(principal: Principal, posting: Posting) -> None:
    if principal.role in STAFF:
        return
    if principal.role == Role.employer and principal.account.employer_id == posting.employer_id:
        return
    if posting.status == PostingStatus.open:
        raise PermissionDenied("only the posting's employer or staff may change it")
    raise NotFound(f"posting {posting.id} not found")


def update_posting(
    session: Session, principal: Principal, posting_id: int, data: PostingUpdate
) -> Posting:
    posting = get_posting(session, principal, posting_id)
    _check_write(principal, posting)
    if posting.status in (PostingStatus.closed, PostingStatus.filled):
        raise Conflict(f"this posting is {posting.status.value}; it can no longer change")
    if "expires_at" in data.model_fields_set:
        _check_expiry(data.expires_at)
    apply_update(posting, data, exclude={"offers"})
    if (
        posting.wage_min is not None
        and posting.wage_max is not None
        and posting.wage_min > posting.wage_max
    ):
        raise InvalidInput("wage_min is above wage_max", field="wage_min")
    posting.updated_at = utcnow()
    session.add(posting)
    session.flush()  # one version bump per update: all column changes go in one flush
    if data.offers is not None:
        _set_offers(session, posting, data.offers)
        session.flush()
    return posting


def close_posting(session: Session, principal: Principal, posting_id: int) -> Posting:
    posting = get_posting(session, principal, posting_id)
    _check_write(principal, posting)
    if posting.status not in (PostingStatus.closed, PostingStatus.filled):
        posting.status = PostingStatus.closed
        posting.updated_at = utcnow()
        session.add(posting)
        session.flush()
    return posting


def postings_view(principal: Principal) -> tuple[str, int | None]:
    """Which postings list_postings shows this caller: its employer's own in any state and
    everyone's open ones, every posting (staff), or the open ones only (everyone else)."""
    if principal.role == Role.employer:
        return "employer", principal.account.employer_id
    if principal.role in STAFF:
        return "staff", None
    return "open", None


# How long a rendered page of the postings list is served again while every writer's commits
# are heard (api.services.readcache): any write makes it stale at once, so this bounds only what
# time itself changes, a posting's expiry or an offer's verification lapsing, as matches do.
POSTINGS_CACHE_SECONDS = 30.0


def list_postings(
    session: Session,
    principal: Principal,
    page: PageParams,
    *,
    status: PostingStatus | None = None,
    work_mode: WorkMode | None = None,
    employer_id: int | None = None,
    q: str | None = None,
) -> tuple[list[Posting], int]:
    """Open postings for everyone; an employer also sees its own in any state."""
    query = select(Posting)
    if principal.role == Role.employer:
        own = Posting.employer_id == principal.account.employer_id
        query = query.where(or_(own, Posting.status == PostingStatus.open))
        if status is not None:
            query = query.where(Posting.status == status)
    elif principal.role in STAFF:
        if status is not None:
            query = query.where(Posting.status == status)
    else:
        if status not in (None, PostingStatus.open):
            return [], 0
        query = query.where(
            Posting.status == PostingStatus.open,
            or_(col(Posting.expires_at).is_(None), col(Posting.expires_at) > utcnow()),
        )
    if work_mode is not None:
        query = query.where(Posting.work_mode == work_mode)
    if employer_id is not None:
        query = query.where(Posting.employer_id == employer_id)
    if q:
        query = query.where(
            or_(col(Posting.title).contains(q), col(Posting.description).contains(q))
        )
    return paginate(session, query.order_by(col(Posting.id).desc()), page)
