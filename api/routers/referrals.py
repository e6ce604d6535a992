"""Referrals: asking and proposing, consent, the caseworker queue, employer outcomes, rules
for instant approval, and statistics."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from api.deps import (
    LIMITED,
    AccountLimit,
    AdminUser,
    Allow,
    AllowInHop,
    IdPath,
    IndexDep,
    JSONBytes,
    PageDep,
    Plain,
    Principal,
    Resolver,
    SeekerUser,
    SessionDep,
    SettingsDep,
    StaffUser,
    in_one_hop,
)
from api.schemas.common import Page
from api.schemas.referrals import (
    ApproveIn,
    ConsentChoiceIn,
    DeadlineIn,
    DryRunIn,
    DryRunOut,
    EmployerReferralOut,
    HireIn,
    InterviewIn,
    InvitationIn,
    NotHiredIn,
    OptionalField,
    PreviewOut,
    QueueItem,
    ReferralDetail,
    ReferralIn,
    ReferralOut,
    RejectIn,
    RetainedIn,
    RuleCreate,
    RuleOut,
    RuleUpdate,
    StatsOut,
    WithdrawIn,
)
from api.services import referrals as service
from api.services.matches import explain_pair
from models.base import ReferralStatus, Role

router = APIRouter(tags=["referrals"])

EmployerUser = Annotated[Principal, Depends(Allow(Role.employer))]
SeekerOrCaseworker = Annotated[Principal, Depends(Allow(Role.seeker, Role.caseworker))]
SeekerOrStaff = Annotated[Principal, Depends(Allow(Role.seeker, Role.caseworker, Role.admin))]
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed, or not your step"},
    404: {"description": "no such referral, or not yours"},
    409: {"description": "illegal transition (with the allowed next states), or changed"},
    422: {"description": "invalid input"},
}
Month = Annotated[
    str | None, Query(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")
]
CentreCode = Annotated[str | None, Query(max_length=32)]
RuleCode = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[a-z0-9_]+$")]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# --- seekers and caseworkers -------------------------------------------------------------


@router.post(
    "/referrals",
    status_code=201,
    response_model=ReferralDetail,
    responses={**ERRORS, **LIMITED},
    dependencies=[Depends(AccountLimit("referrals"))],
)
def create_referral(
    data: ReferralIn,
    principal: SeekerOrCaseworker,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
) -> ReferralDetail:
    """Ask for a referral to a posting (seekers; add `consent` to submit at once), or propose
    one for a seeker of your centre (caseworkers; the seeker then consents)."""
    referral = service.create_referral(session, settings, principal, data, index)
    return service.to_detail(session, referral)


@router.get("/referrals", response_model=Page[ReferralOut], responses=ERRORS)
def list_referrals(
    principal: SeekerOrStaff,
    session: SessionDep,
    page: PageDep,
    status: Annotated[ReferralStatus | None, Query()] = None,
    centre_code: CentreCode = None,
    seeker_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Page[ReferralOut]:
    """Your referrals (seekers), your centre's (caseworkers), or all (admins); newest first."""
    return service.list_referrals(
        session, principal, page, status=status, centre_code=centre_code, seeker_id=seeker_id
    )


QUEUE_PAGE = Plain(Page[QueueItem])
RECEIVED_PAGE = Plain(Page[EmployerReferralOut])


@router.get("/referrals/queue", response_model=Page[QueueItem], responses=ERRORS)
async def list_queue(
    caller: Annotated[Resolver, Depends(AllowInHop(Role.caseworker, Role.admin))],
    session: SessionDep,
    index: IndexDep,
    page: PageDep,
    centre_code: CentreCode = None,
    overdue: Annotated[bool | None, Query()] = None,
) -> JSONBytes:
    """Referrals waiting for review, oldest first: your centre's (caseworkers) or any
    centre's (admins), with the rules that failed and the seeker's referral history."""

    def work() -> Page[QueueItem]:  # the caller, queries and commit on one thread hop
        principal = caller(session)
        language = principal.account.language.value

        def explain(seeker_id: int, posting_id: int) -> dict[str, Any] | None:
            return explain_pair(session, index, seeker_id, posting_id, language)

        return service.queue(
            session, principal, page, centre_code=centre_code, overdue=overdue, explain=explain
        )

    return QUEUE_PAGE(await in_one_hop(session, work))


@router.get("/referrals/stats", response_model=StatsOut, responses=ERRORS)
def referral_stats(
    principal: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
    since: Month = None,
    until: Month = None,
    centre_code: CentreCode = None,
) -> StatsOut:
    """Referrals, approvals (instant or queued), hires and 90-day retention per centre and
    month; cells of fewer than 5 people read "<5". Caseworkers see their own centre."""
    return service.stats(
        session, settings, principal, since=since, until=until, centre_code=centre_code
    )


# --- employers -----------------------------------------------------------------------------


@router.get("/referrals/received", response_model=Page[EmployerReferralOut], responses=ERRORS)
async def list_received(
    caller: Annotated[Resolver, Depends(AllowInHop(Role.employer))],
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    status: Annotated[ReferralStatus | None, Query()] = None,
) -> JSONBytes:
    """Referrals sent to your postings (with exactly the fields each seeker consented to),
    and your invitations."""

    def work() -> Page[EmployerReferralOut]:  # the caller, queries and commit on one hop
        principal = caller(session)
        return service.list_received(session, settings, principal, page, status=status)

    return RECEIVED_PAGE(await in_one_hop(session, work), headers=NO_STORE)


@router.get(
    "/referrals/received/{referral_id}", response_model=EmployerReferralOut, responses=ERRORS
)
def read_received(
    referral_id: IdPath,
    principal: EmployerUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> EmployerReferralOut:
    """One referral sent to your posting, with exactly the consented fields."""
    response.headers.update(NO_STORE)
    return service.get_received(session, settings, principal, referral_id)


@router.post(
    "/postings/{posting_id}/invitations",
    status_code=201,
    response_model=EmployerReferralOut,
    responses={**ERRORS, **LIMITED},
    dependencies=[Depends(AccountLimit("referrals"))],
)
def invite_candidate(
    posting_id: IdPath,
    data: InvitationIn,
    principal: EmployerUser,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
) -> EmployerReferralOut:
    """Invite a pseudonymous candidate of your posting; the seeker decides whether to accept
    and what to share."""
    return service.invite(session, settings, index, principal, posting_id, data)


@router.post(
    "/referrals/{referral_id}/interview", response_model=EmployerReferralOut, responses=ERRORS
)
def record_interview(
    referral_id: IdPath,
    data: InterviewIn,
    principal: EmployerUser,
    session: SessionDep,
    settings: SettingsDep,
) -> EmployerReferralOut:
    """Record an interview (sent → interviewing)."""
    return service.record_interview(session, settings, principal, referral_id, data)


@router.post("/referrals/{referral_id}/hire", response_model=EmployerReferralOut, responses=ERRORS)
def record_hire(
    referral_id: IdPath,
    data: HireIn,
    principal: EmployerUser,
    session: SessionDep,
    settings: SettingsDep,
) -> EmployerReferralOut:
    """Record a hire with its start date (interviewing → hired)."""
    return service.record_hire(session, settings, principal, referral_id, data)


@router.post(
    "/referrals/{referral_id}/not-hired", response_model=EmployerReferralOut, responses=ERRORS
)
def record_not_hired(
    referral_id: IdPath,
    data: NotHiredIn,
    principal: EmployerUser,
    session: SessionDep,
    settings: SettingsDep,
) -> EmployerReferralOut:
    """Record that the candidate was not hired, with a reason from the list and text."""
    return service.record_not_hired(session, settings, principal, referral_id, data)


@router.post(
    "/referrals/{referral_id}/retained", response_model=EmployerReferralOut, responses=ERRORS
)
def record_retention(
    referral_id: IdPath,
    data: RetainedIn,
    principal: EmployerUser,
    session: SessionDep,
    settings: SettingsDep,
) -> EmployerReferralOut:
    """Record that the hire is still employed 90 days after the start date (from that day)."""
    return service.record_retention(session, settings, principal, referral_id, data)


# --- one referral ----------------------------------------------------------------------------


@router.get("/referrals/{referral_id}", response_model=ReferralDetail, responses=ERRORS)
def read_referral(
    referral_id: IdPath, principal: SeekerOrStaff, session: SessionDep
) -> ReferralDetail:
    """One referral with its full history and the latest rule verdicts."""
    return service.get_referral(session, principal, referral_id)


@router.get("/referrals/{referral_id}/preview", response_model=PreviewOut, responses=ERRORS)
def preview_referral(
    referral_id: IdPath,
    principal: SeekerUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    share: Annotated[list[OptionalField], Query(max_length=2)] = [],  # noqa: B006
) -> PreviewOut:
    """Exactly what the employer would receive if you consent, with the optional fields
    ticked in `share`, and the consent text."""
    response.headers.update(NO_STORE)
    return service.preview(session, settings, principal, referral_id, share)


@router.post("/referrals/{referral_id}/consent", response_model=ReferralDetail, responses=ERRORS)
def give_consent(
    referral_id: IdPath,
    data: ConsentChoiceIn,
    principal: SeekerUser,
    session: SessionDep,
    settings: SettingsDep,
) -> ReferralDetail:
    """Consent to share the listed fields and submit the referral (proposed → pending); it is
    approved at once if every rule passes, else it waits in your centre's queue."""
    referral = service.give_consent(session, settings, principal, referral_id, data)
    return service.to_detail(session, referral)


@router.post(
    "/referrals/{referral_id}/consent/withdraw", response_model=ReferralDetail, responses=ERRORS
)
def withdraw_consent(
    referral_id: IdPath, principal: SeekerUser, session: SessionDep
) -> ReferralDetail:
    """Withdraw your consent: the employer no longer sees any of your fields."""
    referral = service.withdraw_consent(session, principal, referral_id)
    return service.to_detail(session, referral)


@router.post("/referrals/{referral_id}/withdraw", response_model=ReferralDetail, responses=ERRORS)
def withdraw_referral(
    referral_id: IdPath, data: WithdrawIn, principal: SeekerUser, session: SessionDep
) -> ReferralDetail:
    """Withdraw your referral (any time before a hire)."""
    referral = service.withdraw(session, principal, referral_id, data)
    return service.to_detail(session, referral)


@router.post("/referrals/{referral_id}/approve", response_model=ReferralDetail, responses=ERRORS)
def approve_referral(
    referral_id: IdPath,
    data: ApproveIn,
    principal: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> ReferralDetail:
    """Approve a referral waiting in your centre's queue."""
    referral = service.approve(session, settings, principal, referral_id, data)
    return service.to_detail(session, referral)


@router.post("/referrals/{referral_id}/reject", response_model=ReferralDetail, responses=ERRORS)
def reject_referral(
    referral_id: IdPath,
    data: RejectIn,
    principal: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> ReferralDetail:
    """Reject a referral waiting in your centre's queue; a reason is required."""
    referral = service.reject(session, settings, principal, referral_id, data)
    return service.to_detail(session, referral)


@router.put("/referrals/{referral_id}/deadline", response_model=ReferralDetail, responses=ERRORS)
def set_deadline(
    referral_id: IdPath, data: DeadlineIn, principal: StaffUser, session: SessionDep
) -> ReferralDetail:
    """Change the review deadline of a referral in the queue: a reason is required and
    audited; send the `version` you read (a stale one gets 409)."""
    referral = service.set_deadline(session, principal, referral_id, data)
    return service.to_detail(session, referral)


@router.post("/referrals/{referral_id}/send", response_model=ReferralDetail, responses=ERRORS)
def send_referral(
    referral_id: IdPath, principal: SeekerOrStaff, session: SessionDep
) -> ReferralDetail:
    """Send an approved referral to the employer (approved → sent)."""
    referral = service.send(session, principal, referral_id)
    return service.to_detail(session, referral)


# --- instant-approval rules --------------------------------------------------------------


@router.get("/referral-rules", response_model=list[RuleOut], responses=ERRORS)
def list_rules(principal: StaffUser, session: SessionDep) -> list[RuleOut]:
    """The instant-approval (秒批) rules in force."""
    return service.list_rules(session)


@router.post("/referral-rules", status_code=201, response_model=RuleOut, responses=ERRORS)
def create_rule(data: RuleCreate, principal: AdminUser, session: SessionDep) -> RuleOut:
    """Put into force a check the service implements that has no rule yet (409 if it has);
    parameters are checked and defaults filled in."""
    return service.create_rule(session, principal, data)


@router.patch("/referral-rules/{code}", response_model=RuleOut, responses=ERRORS)
def update_rule(
    code: RuleCode,
    data: RuleUpdate,
    principal: AdminUser,
    session: SessionDep,
) -> RuleOut:
    """Switch a rule on or off or change its parameters; applies to the next referral."""
    return service.update_rule(session, principal, code, data)


@router.post("/referral-rules/dry-run", response_model=DryRunOut, responses=ERRORS)
def dry_run_rules(data: DryRunIn, principal: AdminUser, session: SessionDep) -> DryRunOut:
    """What the current or proposed rules would have decided for the referrals submitted in
    the last `days` days (counts and per-referral verdicts)."""
    return service.dry_run(session, data)
