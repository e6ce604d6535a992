"""Matches for a seeker, candidates for a posting, and feedback on matches."""

from dataclasses import replace
from typing import Any, Literal

from pydantic import TypeAdapter
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.deps import Principal
from api.errors import NotFound
from api.schemas.accessibility import NeedVerification
from api.schemas.common import PageParams
from api.schemas.matching import (
    CandidateOut,
    CandidatePage,
    ExplanationOut,
    FeedbackIn,
    FeedbackOut,
    MatchOut,
    MatchPage,
    PostingSummary,
)
from api.services import employers as employer_service
from api.services import learning
from api.services import seekers as seeker_service
from api.services.matching import (
    MATCH_CACHE_SECONDS,
    POSTING,
    SEEKER,
    MatchIndex,
    candidate_pseudonym,
    embed_stale,
    load_posting_docs,
    load_seeker_docs,
)
from api.services.readcache import ReadCache
from api.services.verification import FeatureStatus, base_code, feature_states
from matcher import Match, SeekerDoc
from matcher.explain import Labels
from models import Employer, MatchFeedback, Posting, SeekerNeed, SeekerProfile
from models.base import NeedLevel, Role, WorkMode, utcnow

# Matches and candidates are ranked this deep; pages walk through these.
MAX_RESULTS = 200


def _explanation(match: Match) -> ExplanationOut:
    e = match.explanation
    return ExplanationOut(
        text=e.text,
        matched_skills=e.matched_skills,
        missing_skills=e.missing_skills,
        # A verified-only need is matched under its verified code: report the feature's code.
        needs_met=[base_code(c) for c in e.needs_met],
        needs_arrangeable=[base_code(c) for c in e.needs_arrangeable],
        needs_unmet=[base_code(c) for c in e.needs_unmet],
        distance_km=e.distance_km,
        top_signal=e.top_signal,
    )


VERIFICATION_WORDS = {
    "zh": ("实地核实", "仅为用人单位声明，尚未核实", "经核查有争议"),
    "en": ("verified on site", "claimed by the employer, not verified", "disputed by a check"),
}


def _with_verification(
    out: ExplanationOut,
    needs: list[SeekerNeed],
    states: dict[str, FeatureStatus],
    labels: Labels,
    language: str,
) -> ExplanationOut:
    """The explanation with each offered need's verification, in parts and in words."""
    rows: list[NeedVerification] = []
    for need in needs:
        state = states.get(need.code)
        if state is None:
            continue
        rows.append(
            NeedVerification(
                code=need.code,
                essential=need.level == NeedLevel.essential,
                status=state.status,  # type: ignore[arg-type]
                checked_on=state.checked_on if state.status != "claimed" else None,
            )
        )
    if not rows:
        return out
    lang = "en" if language == "en" else "zh"
    verified_w, claimed_w, disputed_w = VERIFICATION_WORDS[lang]
    sep = "、" if lang == "zh" else ", "

    def name(code: str) -> str:
        return labels.get(code, {}).get(lang, code)

    groups = [
        (
            verified_w,
            [
                f"{name(r.code)}（{r.checked_on}）"
                if lang == "zh"
                else f"{name(r.code)} ({r.checked_on})"
                for r in rows
                if r.status == "verified"
            ],
        ),
        (claimed_w, [name(r.code) for r in rows if r.status == "claimed"]),
        (disputed_w, [name(r.code) for r in rows if r.status == "disputed"]),
    ]
    parts = [
        (
            f"{word}：{sep.join(items)}。"
            if lang == "zh"
            else f"{word.capitalize()}: {sep.join(items)}."
        )
        for word, items in groups
        if items
    ]
    text = out.text + ("" if lang == "zh" else " ") + ("" if lang == "zh" else " ").join(parts)
    return out.model_copy(update={"needs_verification": rows, "text": text})


def _seeker_query(session: Session, index: MatchIndex, profile: SeekerProfile) -> SeekerDoc:
    sid = profile.id or 0
    doc = load_seeker_docs(session, [sid], index.model)[sid]
    if doc.embedding is None:  # written a moment ago by another process: embed it now
        embed_stale(session, index.encoder, SEEKER, ids=[sid])
        doc = load_seeker_docs(session, [sid], index.model)[sid]
    return doc


MATCH_PAGE = TypeAdapter(MatchPage)


def matches_json(
    session: Session,
    index: MatchIndex,
    cache: ReadCache,
    principal: Principal,
    seeker_id: int,
    page: PageParams,
    *,
    work_mode: WorkMode | None = None,
    max_distance_km: float | None = None,
    min_score: float = 0.0,
    include_dismissed: bool = False,
) -> bytes:
    """list_matches encoded as JSON, kept for repeat views (api.services.readcache) while no
    write has committed, up to MATCH_CACHE_SECONDS as the ranking is; the access check (and
    its audited refusal) runs every time, first."""
    # The access check alone (a kept page needs no more of the profile); a page rendered anew
    # loads the profile and checks again.
    seeker_service.check_can_read_id(session, principal, seeker_id)
    # The page depends on the seeker and the query only: the seeker and their caseworker
    # see the same one.
    key = (
        "matches",
        seeker_id,
        work_mode,
        max_distance_km,
        min_score,
        include_dismissed,
        page.limit,
        page.offset,
    )

    def render() -> bytes:
        page_out = list_matches(
            session,
            index,
            principal,
            seeker_id,
            page,
            work_mode=work_mode,
            max_distance_km=max_distance_km,
            min_score=min_score,
            include_dismissed=include_dismissed,
        )
        return MATCH_PAGE.dump_json(page_out)

    return cache.get_or_render(key, render, watched_ttl=MATCH_CACHE_SECONDS)


def list_matches(
    session: Session,
    index: MatchIndex,
    principal: Principal,
    seeker_id: int,
    page: PageParams,
    *,
    work_mode: WorkMode | None = None,
    max_distance_km: float | None = None,
    min_score: float = 0.0,
    include_dismissed: bool = False,
    profile: SeekerProfile | None = None,
) -> MatchPage:
    """Open postings ranked for the seeker, with reasons; dismissed ones hidden by default.
    `profile`: the seeker's, when the caller has already checked access to it."""
    if profile is None:
        profile = seeker_service.get_profile(session, principal, seeker_id)
    if profile.closed_at is not None:
        return MatchPage(items=[], total=0, limit=page.limit, offset=page.offset)
    index.sync(session)
    doc = _seeker_query(session, index, profile)
    if work_mode is not None:
        doc = replace(doc, work_modes=frozenset(doc.work_modes) & {work_mode.value})
    if max_distance_km is not None:
        limit = doc.commute_limit_km
        doc = replace(
            doc, commute_limit_km=max_distance_km if limit is None else min(limit, max_distance_km)
        )
    feedback = {
        f.posting_id: f.kind
        for f in session.exec(select(MatchFeedback).where(MatchFeedback.seeker_id == seeker_id))
    }
    ranked = [
        m
        for m in index.matches_for(doc, MAX_RESULTS)
        if m.score >= min_score and (include_dismissed or feedback.get(int(m.id)) != "dismissed")
    ]
    needs = list(session.exec(select(SeekerNeed).where(SeekerNeed.seeker_id == seeker_id)))
    now = utcnow()
    if profile.verified_only_essential:
        # The index may hold a verification that has expired since it was loaded (the
        # scheduled job re-indexes once a day): check the essential needs against now.
        states = feature_states(session, [int(m.id) for m in ranked], now)
        essential = [n.code for n in needs if n.level == NeedLevel.essential]
        ranked = [
            m
            for m in ranked
            if all(
                (s := states[int(m.id)].get(c)) is not None and s.status == "verified"
                for c in essential
            )
        ]
    window = ranked[page.offset : page.offset + page.limit]
    postings = _summaries(session, [int(m.id) for m in window])
    window_states = feature_states(session, [int(m.id) for m in window], now)
    items = [
        MatchOut(
            posting=postings[int(m.id)],
            score=round(m.score, 4),
            signals={k: round(v, 4) for k, v in m.signals.items()},
            contributions={k: round(v, 4) for k, v in m.contributions.items()},
            explanation=_with_verification(
                _explanation(m), needs, window_states[int(m.id)], index.labels, doc.language
            ),
            feedback=feedback.get(int(m.id)),  # type: ignore[arg-type]
        )
        for m in window
        if int(m.id) in postings
    ]
    return MatchPage(items=items, total=len(ranked), limit=page.limit, offset=page.offset)


def _summaries(session: Session, ids: list[int]) -> dict[int, PostingSummary]:
    if not ids:
        return {}
    return {
        row.id or 0: PostingSummary.model_validate(row._asdict())
        for row in session.execute(_SUMMARIES, {"ids": ids}).all()
    }


# Built once (SQLAlchemy reuses its cache key and compiled form), plain columns: a page of
# matches needs twenty summaries, not twenty postings with their descriptions.
_SUMMARIES: Any = (
    sa_select(
        col(Posting.id).label("id"),
        col(Posting.title).label("title"),
        col(Employer.id).label("employer_id"),
        col(Employer.name).label("employer_name"),
        col(Employer.verified).label("employer_verified"),
        col(Posting.work_mode).label("work_mode"),
        col(Posting.location_text).label("location_text"),
        col(Posting.wage_min).label("wage_min"),
        col(Posting.wage_max).label("wage_max"),
        col(Posting.expires_at).label("expires_at"),
    )
    .join(Employer, col(Employer.id) == Posting.employer_id)
    .where(col(Posting.id).in_(bindparam("ids", expanding=True)))
)


CANDIDATE_PAGE = TypeAdapter(CandidatePage)


def candidates_json(
    session: Session,
    index: MatchIndex,
    cache: ReadCache,
    secret: str,
    principal: Principal,
    posting_id: int,
    page: PageParams,
    *,
    min_score: float = 0.0,
) -> bytes:
    """list_candidates encoded as JSON, kept like matches_json; the access checks run every
    time, first."""
    # The access checks alone (a kept page needs no more of the posting); a page rendered anew
    # loads the posting and checks again.
    _check_candidates_access(session, principal, posting_id)
    # What the page shows depends on the caller's language (the explanations) and, for a
    # caseworker, on their centre (whose seekers are named by id).
    centre = principal.account.centre_id if principal.role == Role.caseworker else None
    language = principal.account.language.value
    key = ("candidates", posting_id, language, centre, min_score, page.limit, page.offset)

    def render() -> bytes:
        page_out = list_candidates(
            session,
            index,
            secret,
            principal,
            posting_id,
            page,
            min_score=min_score,
        )
        return CANDIDATE_PAGE.dump_json(page_out)

    return cache.get_or_render(key, render, watched_ttl=MATCH_CACHE_SECONDS)


# The two columns the candidates' access checks need, without loading the whole posting.
_EMPLOYER_AND_STATUS = sa_select(col(Posting.employer_id), col(Posting.status)).where(
    col(Posting.id) == bindparam("pid")
)


def _check_candidates_access(session: Session, principal: Principal, posting_id: int) -> None:
    """_candidates_posting's checks from two columns of the posting."""
    row = session.execute(_EMPLOYER_AND_STATUS, {"pid": posting_id}).first()
    if row is None or not employer_service.visible(principal, row[0], row[1]):
        raise NotFound(f"posting {posting_id} not found")
    if principal.role == Role.employer and row[0] != principal.account.employer_id:
        raise NotFound(f"posting {posting_id} not found")  # candidates only for your own


def _candidates_posting(session: Session, principal: Principal, posting_id: int) -> Posting:
    posting = employer_service.get_posting(session, principal, posting_id)
    if principal.role == Role.employer and posting.employer_id != principal.account.employer_id:
        raise NotFound(f"posting {posting_id} not found")  # candidates only for your own
    return posting


def list_candidates(
    session: Session,
    index: MatchIndex,
    secret: str,
    principal: Principal,
    posting_id: int,
    page: PageParams,
    *,
    min_score: float = 0.0,
    posting: Posting | None = None,
) -> CandidatePage:
    """Seekers ranked for a posting, pseudonymous: an id per posting, no name or contact.
    `posting`: the posting, when the caller has already checked access to it."""
    if posting is None:
        _candidates_posting(session, principal, posting_id)
    index.sync(session)
    doc = load_posting_docs(session, [posting_id], index.model)[posting_id]
    if doc.embedding is None:
        embed_stale(session, index.encoder, POSTING, ids=[posting_id])
        doc = load_posting_docs(session, [posting_id], index.model)[posting_id]
    language = principal.account.language.value
    ranked = [m for m in index.candidates_for(doc, MAX_RESULTS, language) if m.score >= min_score]
    window = ranked[page.offset : page.offset + page.limit]
    own_centre: set[int] = set()
    if principal.role == Role.caseworker and window:
        own_centre = {
            p.id or 0
            for p in session.exec(
                select(SeekerProfile).where(
                    col(SeekerProfile.id).in_([int(m.id) for m in window]),
                    SeekerProfile.centre_id == principal.account.centre_id,
                )
            )
        }
    items = [
        CandidateOut(
            candidate=candidate_pseudonym(secret, posting_id, int(m.id)),
            seeker_id=int(m.id) if int(m.id) in own_centre else None,
            score=round(m.score, 4),
            signals={k: round(v, 4) for k, v in m.signals.items()},
            contributions={k: round(v, 4) for k, v in m.contributions.items()},
            explanation=_explanation(m),
        )
        for m in window
    ]
    return CandidatePage(items=items, total=len(ranked), limit=page.limit, offset=page.offset)


def resolve_candidate(
    session: Session, index: MatchIndex, secret: str, posting_id: int, pseudonym: str
) -> int | None:
    """The seeker behind a posting's pseudonym, or None."""
    index.sync(session)
    for doc in index.seekers.seekers_:
        if candidate_pseudonym(secret, posting_id, int(doc.id)) == pseudonym:
            return int(doc.id)
    return None


def _feedback_out(row: MatchFeedback) -> FeedbackOut:
    return FeedbackOut.model_validate(row)


def set_feedback(
    session: Session,
    principal: Principal,
    seeker_id: int,
    posting_id: int,
    data: FeedbackIn,
    score: float | None = None,
    index: MatchIndex | None = None,
) -> FeedbackOut:
    """Save or dismiss a match (replacing an earlier reaction); kept as a label for learning,
    with the pair's signals as the seeker saw them (the first time they reacted)."""
    seeker_service.get_profile(session, principal, seeker_id)
    employer_service.get_posting(session, principal, posting_id)
    row = session.exec(
        select(MatchFeedback).where(
            MatchFeedback.seeker_id == seeker_id, MatchFeedback.posting_id == posting_id
        )
    ).first()
    now = utcnow()
    if row is None:
        row = MatchFeedback(
            seeker_id=seeker_id,
            posting_id=posting_id,
            actor_id=principal.id,
            kind=data.kind,
            reason=data.reason,
            score=score,
            created_at=now,
            updated_at=now,
        )
    else:
        row.kind, row.reason, row.actor_id, row.updated_at = (
            data.kind,
            data.reason,
            principal.id,
            now,
        )
    session.add(row)
    session.flush()
    if index is not None:
        learning.capture(session, index, seeker_id, posting_id, learning.FEEDBACK)
    return _feedback_out(row)


def clear_feedback(session: Session, principal: Principal, seeker_id: int, posting_id: int) -> None:
    """Forget the reaction to a match."""
    seeker_service.get_profile(session, principal, seeker_id)
    row = session.exec(
        select(MatchFeedback).where(
            MatchFeedback.seeker_id == seeker_id, MatchFeedback.posting_id == posting_id
        )
    ).first()
    if row is not None:
        session.delete(row)
        session.flush()


def list_feedback(
    session: Session,
    principal: Principal,
    seeker_id: int,
    kind: Literal["saved", "dismissed"] | None = None,
) -> list[FeedbackOut]:
    seeker_service.get_profile(session, principal, seeker_id)
    query = select(MatchFeedback).where(MatchFeedback.seeker_id == seeker_id)
    if kind is not None:
        query = query.where(MatchFeedback.kind == kind)
    rows = session.exec(query.order_by(col(MatchFeedback.updated_at).desc()))
    return [_feedback_out(r) for r in rows]


def explain_pair(
    session: Session, index: MatchIndex, seeker_id: int, posting_id: int, language: str
) -> dict[str, Any] | None:
    """The match of one seeker and one posting, explained in `language` (for the referral
    queue); None when the posting is not among the seeker's feasible matches."""
    profile = session.get(SeekerProfile, seeker_id)
    if profile is None:
        return None
    index.sync(session)
    doc = replace(_seeker_query(session, index, profile), language=language)  # type: ignore[arg-type]
    for m in index.matches_for(doc, MAX_RESULTS * 2):
        if int(m.id) == posting_id:
            return {
                "score": round(m.score, 4),
                "contributions": {k: round(v, 4) for k, v in m.contributions.items()},
                **_explanation(m).model_dump(),
            }
    return None
