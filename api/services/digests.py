"""The scheduled work that writes pushes: recommendation digests, training offers, caseworker
reminders, employer digests, posting expiry, and the embedding refresh.

Every job is idempotent: what it writes goes to the outbox under a unique key (recipient,
kind, item, period) with insert-or-ignore, committed batch by batch, so a rerun, a crashed run
resumed, or two runs at once end with each push written exactly once.
"""

import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.db import read_only, session_scope
from api.services import outbox, preferences
from api.services.consents import health_codes
from api.services.matching import (
    POSTING,
    SEEKER,
    candidate_pseudonym,
    embed_stale,
    load_encoder,
    load_posting_docs,
    load_seeker_docs,
    vocabulary_labels,
    weights_in_force,
)
from api.services.outbox import Push
from api.services.verification import base_code
from api.settings import Settings
from matcher import FusionWeights, Match, PostingDoc, SeekerDoc, TextEncoder
from matcher.explain import Labels
from matcher.ranker import CandidateRanker, Ranker
from matcher.signals import haversine_km
from models import (
    Account,
    Employer,
    MatchFeedback,
    Posting,
    Referral,
    SeekerProfile,
    Training,
)
from models.base import PostingStatus, ReferralStatus, Role, TrainingStatus, utcnow
from models.tables import PushFrequency

log = logging.getLogger(__name__)

DIGEST_ITEM = "digest"
EMPLOYER_ITEM = "postings"
# Referrals in these states wait for someone at the centre; past their deadline they remind.
AWAITING_ACTION = (ReferralStatus.proposed, ReferralStatus.pending)
# A posting is "nearly" matched when it ranks among the seeker's best this many...
NEAR_MATCH_TOP = 20
# ...scores within this much of the seeker's threshold, and misses at most this many skills.
NEAR_MATCH_MARGIN = 0.2
NEAR_MATCH_MAX_MISSING = 3
TRAININGS_PER_RUN = 3
DEFAULT_TRAINING_DISTANCE_KM = 20.0


@functools.lru_cache(maxsize=4)
def cached_encoder(spec: str) -> TextEncoder:
    """The encoder of the settings, loaded once per process."""
    return load_encoder(spec)


@dataclass
class JobContext:
    """What a job needs: the database, the settings, the clock, the encoder."""

    engine: Engine
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    encoder_factory: Callable[[str], TextEncoder] = cached_encoder

    def encoder(self) -> TextEncoder:
        return self.encoder_factory(self.settings.embedding_model)


# --- the digest ranker ----------------------------------------------------------------------------


def _live(doc: PostingDoc, now: datetime) -> bool:
    return doc.status == PostingStatus.open.value and (
        doc.expires_at is None or doc.expires_at > now
    )


def fit_ranker(
    encoder: TextEncoder,
    docs: Iterable[PostingDoc],
    labels: Labels | None,
    now: datetime,
    weights: FusionWeights | None = None,
) -> Ranker:
    """The matcher's Ranker fitted on every live posting (so scores are normalised as in the
    app's match list); digests narrow it with ``posted_after``."""
    ranker = Ranker(encoder, weights=weights, labels=labels)
    ranker.fit([d for d in docs if _live(d, now)])
    return ranker


@dataclass(frozen=True)
class DueSeeker:
    account_id: int
    seeker_id: int
    period: str
    frequency: str
    min_score: float
    since: datetime  # matches with postings posted after this are new


@dataclass
class PostingInfo:
    title: str
    employer: str


def _bilingual(
    codes: Iterable[str],
    labels: Labels,
    hidden: set[str],
    seen: dict[str, tuple[str, str] | None] | None = None,
) -> list[dict[str, str]]:
    # Health-related accommodations are sensitive (PIPL): never in a push (a verified code
    # is its feature's code with a suffix: hidden as well). ``seen``: the labels of codes
    # already looked up (one per digest run; None: a hidden code).
    known = {} if seen is None else seen
    out = []
    for c in codes:
        if c not in known:
            label = labels.get(c, {})
            hide = base_code(c) in hidden
            known[c] = None if hide else (label.get("zh", c), label.get("en", c))
        pair = known[c]
        if pair is not None:
            out.append({"zh": pair[0], "en": pair[1]})
    return out


def digest_item(
    match: Match,
    info: PostingInfo | None,
    labels: Labels,
    hidden: set[str],
    seen: dict[str, tuple[str, str] | None] | None = None,
) -> dict[str, Any]:
    """One recommended posting, with its reasons, as stored in a digest push."""
    e = match.explanation
    return {
        "posting_id": int(match.id),
        "title": info.title if info else "",
        "employer": info.employer if info else "",
        "score": round(match.score, 4),
        "matched_skills": list(e.matched_skills),
        "missing_skills": list(e.missing_skills),
        "needs_met": _bilingual(e.needs_met, labels, hidden, seen),
        "needs_arrangeable": _bilingual(e.needs_arrangeable, labels, hidden, seen),
        "distance_km": None if e.distance_km is None else round(e.distance_km, 1),
        "top_signal": e.top_signal,
    }


def digest_push_blocks(
    ranker: Ranker,
    due: Sequence[DueSeeker],
    docs: dict[int, SeekerDoc],
    postings: dict[int, PostingInfo],
    *,
    k: int,
    now: datetime,
    labels: Labels,
    hidden: set[str],
    dismissed: dict[int, set[int]] | None = None,
) -> Iterator[list[Push]]:
    """The digest pushes of a batch of due seekers, one list per block of seekers as the
    ranker yields it (grouped by their `since`, one ``rank_blocks`` per group), so the caller
    writes a block while the next is scored; seekers with no new match above their threshold
    get none."""
    seen: dict[str, tuple[str, str] | None] = {}
    groups: dict[datetime, list[DueSeeker]] = {}
    for d in due:
        if d.seeker_id in docs:
            groups.setdefault(d.since, []).append(d)
    for since, members in groups.items():
        # Each seeker's threshold is applied inside the ranking: only matches that can go
        # into a push are explained.
        blocks = ranker.rank_blocks(
            [docs[m.seeker_id] for m in members],
            k,
            now,
            posted_after=since,
            min_scores=[m.min_score for m in members],
        )
        start = 0
        for block in blocks:
            out: list[Push] = []
            for member, matches in zip(members[start : start + len(block)], block, strict=True):
                skip = (dismissed or {}).get(member.seeker_id, set())
                items = [
                    digest_item(m, postings.get(int(m.id)), labels, hidden, seen)
                    for m in matches
                    if int(m.id) not in skip
                ]
                if not items:
                    continue
                out.append(
                    Push(
                        recipient_id=member.account_id,
                        kind=outbox.DIGEST,
                        item_key=DIGEST_ITEM,
                        period=member.period,
                        payload={
                            "period": member.period,
                            "frequency": member.frequency,
                            "min_score": member.min_score,
                            "since": since.isoformat(),
                            "items": items,
                        },
                    )
                )
            start += len(block)
            yield out


def _period_length(frequency: str) -> timedelta:
    return timedelta(days=7) if frequency == PushFrequency.weekly.value else timedelta(days=1)


def _active_seekers(session: Session) -> list[tuple[int, int]]:
    query = (
        select(Account.id, SeekerProfile.id)
        .join(SeekerProfile, col(SeekerProfile.account_id) == Account.id)
        .where(
            Account.role == Role.seeker,
            col(Account.is_active).is_(True),
            col(SeekerProfile.closed_at).is_(None),
        )
        .order_by(col(Account.id))
    )
    return [(a or 0, s or 0) for a, s in session.exec(query)]


def due_seekers(session: Session, settings: Settings, now: datetime) -> list[DueSeeker]:
    """Seekers who want a digest and have none for their current period yet."""
    zone = outbox.local_zone(settings.timezone)
    pairs = _active_seekers(session)
    prefs = preferences.load_many(session, [a for a, _ in pairs])
    periods = {outbox.day_key(now, zone), outbox.week_key(now, zone)}
    done = outbox.written_keys(session, outbox.DIGEST, periods)
    last = outbox.last_written(session, outbox.DIGEST)
    due = []
    for aid, sid in pairs:
        pref = prefs[aid]
        if not preferences.wants_digest(pref):
            continue
        freq = pref.frequency.value
        period = outbox.period_key(freq, now, zone)
        if (aid, DIGEST_ITEM, period) in done:
            continue
        since = last.get(aid) or (now - _period_length(freq))
        due.append(DueSeeker(aid, sid, period, freq, pref.min_score, since))
    due.sort(key=lambda d: (d.since, d.account_id))
    return due


def _posting_infos(session: Session) -> dict[int, PostingInfo]:
    rows = session.exec(
        select(Posting.id, Posting.title, Employer.name)
        .join(Employer, col(Employer.id) == Posting.employer_id)
        .where(Posting.status == PostingStatus.open)
    )
    return {pid or 0: PostingInfo(title, name) for pid, title, name in rows}


def _dismissed(session: Session, seeker_ids: list[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    rows = session.exec(
        select(MatchFeedback.seeker_id, MatchFeedback.posting_id).where(
            col(MatchFeedback.seeker_id).in_(seeker_ids), MatchFeedback.kind == "dismissed"
        )
    )
    for sid, pid in rows:
        out.setdefault(sid, set()).add(pid)
    return out


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_digest(ctx: JobContext) -> dict[str, Any]:
    """Recommendation digests: per seeker who wants one, the new matches above their
    threshold since their last digest, best first, at most N, with the reasons."""
    settings, engine = ctx.settings, ctx.engine
    now = ctx.clock()
    encoder = ctx.encoder()
    with session_scope(read_only(engine)) as session:
        due = due_seekers(session, settings, now)
    if not due:
        return {"due": 0, "written": 0}
    with session_scope(engine) as session:
        embed_stale(session, encoder, POSTING)
    with session_scope(read_only(engine)) as session:
        labels = vocabulary_labels(session)
        weights = weights_in_force(session)[1]
        hidden = health_codes(session)
        infos = _posting_infos(session)
        pdocs = load_posting_docs(session, list(infos), encoder.name)
    ranker = fit_ranker(encoder, pdocs.values(), labels, now, weights)
    written = 0
    for batch in _chunks(due, settings.digest_batch_size):
        sids = [d.seeker_id for d in batch]
        with session_scope(engine) as session:
            embed_stale(session, encoder, SEEKER, ids=sids)
        with session_scope(read_only(engine)) as session:
            docs = load_seeker_docs(session, sids, encoder.name)
            dismissed = _dismissed(session, sids)
        blocks = digest_push_blocks(
            ranker,
            batch,
            docs,
            infos,
            k=settings.digest_max_items,
            now=now,
            labels=labels,
            hidden=hidden,
            dismissed=dismissed,
        )
        for pushes in blocks:  # each block written while the ranker scores the next
            with session_scope(engine) as session:
                written += outbox.write(session, pushes, now)
        if settings.push_batch_pause_seconds:
            time.sleep(settings.push_batch_pause_seconds)
    return {"due": len(due), "written": written}


# --- training offers ------------------------------------------------------------------------------


def _key(skill: str) -> str:
    return skill.strip().casefold()


@dataclass
class _Offer:
    training: Training
    skills: set[str] = field(default_factory=set)
    postings: list[dict[str, Any]] = field(default_factory=list)


def _near(training: Training, profile: SeekerProfile) -> bool:
    if None not in (training.lat, training.lon, profile.lat, profile.lon):
        limit = profile.commute_limit_km or DEFAULT_TRAINING_DISTANCE_KM
        km = haversine_km(profile.lat, profile.lon, training.lat, training.lon)  # type: ignore[arg-type]
        return bool(km <= limit)
    return training.centre_id in (None, profile.centre_id)


def run_trainings(ctx: JobContext) -> dict[str, Any]:
    """Training offers: trainings teaching skills a seeker lacks for postings they nearly
    match, near them, accessible for their essential needs, with seats left, starting later."""
    settings, engine = ctx.settings, ctx.engine
    now = ctx.clock()
    zone = outbox.local_zone(settings.timezone)
    today = now.astimezone(zone).date()
    encoder = ctx.encoder()
    with session_scope(read_only(engine)) as session:
        trainings = [
            t
            for t in session.exec(
                select(Training).where(
                    Training.status == TrainingStatus.open, col(Training.starts_on) > today
                )
            )
            if t.seats_taken < t.capacity
        ]
        pairs = _active_seekers(session)
        prefs = preferences.load_many(session, [a for a, _ in pairs])
        pairs = [(a, s) for a, s in pairs if prefs[a].enabled and prefs[a].trainings]
        if not trainings or not pairs:
            return {"seekers": len(pairs), "written": 0}
        labels = vocabulary_labels(session)
        weights = weights_in_force(session)[1]
        infos = _posting_infos(session)
        pdocs = load_posting_docs(session, list(infos), encoder.name)
        done = {(r, i) for r, i, _ in outbox.written_keys(session, outbox.TRAINING_OFFER, [""])}
    by_skill: dict[str, list[Training]] = {}
    for t in trainings:
        for s in t.skills_taught:
            by_skill.setdefault(_key(s), []).append(t)
    ranker = fit_ranker(encoder, pdocs.values(), labels, now, weights)
    written = 0
    for batch in _chunks(pairs, settings.digest_batch_size):
        sids = [s for _, s in batch]
        with session_scope(engine) as session:
            embed_stale(session, encoder, SEEKER, ids=sids)
        with session_scope(read_only(engine)) as session:
            docs = load_seeker_docs(session, sids, encoder.name)
            profiles = {
                p.id or 0: p
                for p in session.exec(select(SeekerProfile).where(col(SeekerProfile.id).in_(sids)))
            }
        members = [(a, s) for a, s in batch if s in docs]
        ranked = ranker.rank_many([docs[s] for _, s in members], NEAR_MATCH_TOP, now)
        pushes: list[Push] = []
        for (aid, sid), matches in zip(members, ranked, strict=True):
            doc, profile = docs[sid], profiles[sid]
            essential = {n.code for n in doc.needs if n.essential}
            offers: dict[int, _Offer] = {}
            for m in matches:
                missing = m.explanation.missing_skills
                near_score = m.score >= prefs[aid].min_score - NEAR_MATCH_MARGIN
                if not missing or len(missing) > NEAR_MATCH_MAX_MISSING or not near_score:
                    continue
                for skill in missing:
                    for t in by_skill.get(_key(skill), []):
                        tid = t.id or 0
                        if (aid, f"training:{tid}") in done:
                            continue
                        if not essential <= set(t.accessibility) or not _near(t, profile):
                            continue
                        offer = offers.setdefault(tid, _Offer(t))
                        offer.skills.add(skill)
                        info = infos.get(int(m.id))
                        entry = {
                            "posting_id": int(m.id),
                            "title": info.title if info else "",
                            "missing_skills": list(missing),
                        }
                        if entry not in offer.postings:
                            offer.postings.append(entry)
            best = sorted(offers.values(), key=lambda o: (-len(o.postings), o.training.id or 0))
            for offer in best[:TRAININGS_PER_RUN]:
                t = offer.training
                pushes.append(
                    Push(
                        recipient_id=aid,
                        kind=outbox.TRAINING_OFFER,
                        item_key=f"training:{t.id}",
                        period="",
                        payload={
                            "training": {
                                "id": t.id,
                                "title": t.title,
                                "starts_on": t.starts_on.isoformat(),
                                "location_text": t.location_text,
                                "seats_left": t.capacity - t.seats_taken,
                            },
                            "skills": sorted(offer.skills),
                            "postings": offer.postings[:5],
                        },
                    )
                )
        with session_scope(engine) as session:
            written += outbox.write(session, pushes, now)
    return {"seekers": len(pairs), "written": written}


# --- caseworker reminders -------------------------------------------------------------------------


def run_reminders(ctx: JobContext) -> dict[str, Any]:
    """Referrals past their deadline, to the caseworkers of the seeker's centre, once per
    referral per day."""
    now = ctx.clock()
    zone = outbox.local_zone(ctx.settings.timezone)
    day = outbox.day_key(now, zone)
    with session_scope(read_only(ctx.engine)) as session:
        overdue = session.exec(
            select(Referral.id, Referral.deadline_at, SeekerProfile.centre_id)
            .join(SeekerProfile, col(SeekerProfile.id) == Referral.seeker_id)
            .where(
                col(Referral.status).in_(AWAITING_ACTION),
                col(Referral.deadline_at).is_not(None),
                col(Referral.deadline_at) < now,
            )
        ).all()
        centres = {c for _, _, c in overdue}
        staff: dict[int, list[int]] = {}
        if centres:
            for aid, cid in session.exec(
                select(Account.id, Account.centre_id).where(
                    Account.role == Role.caseworker,
                    col(Account.is_active).is_(True),
                    col(Account.centre_id).in_(centres),
                )
            ):
                staff.setdefault(cid or 0, []).append(aid or 0)
    pushes = []
    for rid, deadline, centre_id in overdue:
        assert deadline is not None
        deadline = deadline if deadline.tzinfo else deadline.replace(tzinfo=now.tzinfo)
        hours = int((now - deadline).total_seconds() // 3600)
        for aid in staff.get(centre_id, []):
            pushes.append(
                Push(
                    recipient_id=aid,
                    kind=outbox.REFERRAL_REMINDER,
                    item_key=f"referral:{rid}",
                    period=day,
                    payload={
                        "referral_id": rid,
                        "deadline_at": deadline.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                        "overdue_hours": hours,
                    },
                )
            )
    with session_scope(ctx.engine) as session:
        written = outbox.write(session, pushes, now)
    return {"overdue": len(overdue), "written": written}


# --- employer digests -----------------------------------------------------------------------------


def run_employer_digest(ctx: JobContext) -> dict[str, Any]:
    """New candidates for each employer's open postings, under per-posting pseudonyms."""
    settings, engine = ctx.settings, ctx.engine
    now = ctx.clock()
    zone = outbox.local_zone(settings.timezone)
    encoder = ctx.encoder()
    secret = settings.secret_key.get_secret_value()
    with session_scope(read_only(engine)) as session:
        accounts = session.exec(
            select(Account).where(
                Account.role == Role.employer,
                col(Account.is_active).is_(True),
                col(Account.employer_id).is_not(None),
            )
        ).all()
        prefs = preferences.load_many(session, [a.id or 0 for a in accounts])
        periods = {outbox.day_key(now, zone), outbox.week_key(now, zone)}
        done = outbox.written_keys(session, outbox.EMPLOYER_DIGEST, periods)
        last = outbox.last_written(session, outbox.EMPLOYER_DIGEST)
        due = []
        for acc in accounts:
            aid = acc.id or 0
            pref = prefs[aid]
            if not preferences.wants_digest(pref):
                continue
            period = outbox.period_key(pref.frequency.value, now, zone)
            if (aid, EMPLOYER_ITEM, period) in done:
                continue
            since = last.get(aid) or now - _period_length(pref.frequency.value)
            due.append((acc, pref, period, since))
        if not due:
            return {"due": 0, "written": 0}
        earliest = min(since for *_, since in due)
        new_ids = [
            s
            for s in session.exec(
                select(SeekerProfile.id).where(
                    col(SeekerProfile.closed_at).is_(None),
                    col(SeekerProfile.created_at) > earliest,
                )
            )
            if s is not None
        ]
        created = {
            p.id or 0: p.created_at
            for p in session.exec(select(SeekerProfile).where(col(SeekerProfile.id).in_(new_ids)))
        }
        employer_ids = {acc.employer_id for acc, *_ in due}
        postings = session.exec(
            select(Posting).where(
                col(Posting.employer_id).in_(employer_ids), Posting.status == PostingStatus.open
            )
        ).all()
    if not new_ids or not postings:
        return {"due": len(due), "written": 0}
    with session_scope(engine) as session:
        embed_stale(session, encoder, SEEKER, ids=new_ids)
        embed_stale(session, encoder, POSTING, ids=[p.id or 0 for p in postings])
    with session_scope(read_only(engine)) as session:
        sdocs = load_seeker_docs(session, new_ids, encoder.name)
        pdocs = load_posting_docs(session, [p.id or 0 for p in postings], encoder.name)
        weights = weights_in_force(session)[1]
    seekers = list(sdocs.values())
    emb = (
        np.vstack([np.asarray(d.embedding, np.float32) for d in seekers])
        if all(d.embedding is not None for d in seekers)
        else None
    )
    candidates = CandidateRanker(encoder, weights=weights).fit(seekers, emb)
    ranked: dict[int, list[Match]] = {}
    for p in postings:
        doc = pdocs.get(p.id or 0)
        if doc is not None and _live(doc, now):
            ranked[p.id or 0] = candidates.rank(doc, k=20, now=now)
    pushes = []
    for acc, pref, period, since in due:
        entries = []
        for p in postings:
            if p.employer_id != acc.employer_id:
                continue
            cands = [
                {
                    "candidate": candidate_pseudonym(secret, p.id or 0, int(m.id)),
                    "score": round(m.score, 4),
                    "matched_skills": list(m.explanation.matched_skills),
                }
                for m in ranked.get(p.id or 0, [])
                if m.score >= pref.min_score and created.get(int(m.id), earliest) > since
            ][:5]
            if cands:
                entries.append({"posting_id": p.id, "title": p.title, "candidates": cands})
        if entries:
            pushes.append(
                Push(
                    recipient_id=acc.id or 0,
                    kind=outbox.EMPLOYER_DIGEST,
                    item_key=EMPLOYER_ITEM,
                    period=period,
                    payload={"period": period, "since": since.isoformat(), "postings": entries},
                )
            )
    with session_scope(engine) as session:
        written = outbox.write(session, pushes, now)
    return {"due": len(due), "written": written}


# --- posting expiry and embeddings ----------------------------------------------------------------


def run_expiry(ctx: JobContext) -> dict[str, Any]:
    """Close open postings past their expiry, bump updated_at, tell the employer."""
    now = ctx.clock()
    with session_scope(ctx.engine) as session:
        expired = session.exec(
            select(Posting).where(
                Posting.status == PostingStatus.open,
                col(Posting.expires_at).is_not(None),
                col(Posting.expires_at) < now,
            )
        ).all()
        if not expired:
            return {"closed": 0, "written": 0}
        staff: dict[int, list[int]] = {}
        for aid, eid in session.exec(
            select(Account.id, Account.employer_id).where(
                Account.role == Role.employer,
                col(Account.employer_id).in_({p.employer_id for p in expired}),
            )
        ):
            staff.setdefault(eid or 0, []).append(aid or 0)
        pushes = []
        zone = outbox.local_zone(ctx.settings.timezone)
        for p in expired:
            p.status = PostingStatus.closed
            p.updated_at = now
            session.add(p)
            expires = p.expires_at.astimezone(zone).strftime("%Y-%m-%d") if p.expires_at else ""
            for aid in staff.get(p.employer_id, []):
                pushes.append(
                    Push(
                        recipient_id=aid,
                        kind=outbox.POSTING_EXPIRED,
                        item_key=f"posting:{p.id}",
                        period="",
                        payload={"posting_id": p.id, "title": p.title, "expires_at": expires},
                    )
                )
        session.flush()  # the version check: a concurrent close makes this run fail, not both
        written = outbox.write(session, pushes, now)
    return {"closed": len(expired), "written": written}


def run_embeddings(ctx: JobContext) -> dict[str, Any]:
    """Embed every posting and live seeker whose stored vector is missing or stale."""
    encoder = ctx.encoder()
    with session_scope(ctx.engine) as session:
        postings = embed_stale(session, encoder, POSTING)
    with session_scope(ctx.engine) as session:
        live = [
            s
            for s in session.exec(
                select(SeekerProfile.id).where(col(SeekerProfile.closed_at).is_(None))
            )
            if s is not None
        ]
        seekers = embed_stale(session, encoder, SEEKER, ids=live)
    return {"postings": postings, "seekers": seekers}
