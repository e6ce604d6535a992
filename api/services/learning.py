"""Learning the fusion weights from outcomes: which outcomes are labels, the signals each
label is learnt with, fitting on older labels and testing on the newest, adopting only what
is better, and the weight sets kept for reports and roll-back.

Labels (one per seeker and posting; a referral's outcome outranks the seeker's reaction):

| grade | outcome |
|---|---|
| 4 | hired, or still employed at 90 days |
| 3 | invited to interview (latest state) |
| 2 | referral approved (by the rules or a caseworker) or sent |
| 1 | match saved by the seeker |
| 0 | match dismissed; not hired; rejected by a caseworker as not suitable |

Queries (what a label is compared with): a seeker's labels with each other (the postings
they were shown or asked for), and the employer's decisions (interview, hire, not hired) on
the candidates of one posting with each other. Pairs of labels of different grades in one
query train a pairwise model; held-out queries measure nDCG (gain 2^grade − 1) and AUC.

Not labels: referrals still proposed or pending (undecided), withdrawn by the seeker (no
word on the match), and rejections for a rule or without a stated kind (an unverified
employer or an incomplete profile says nothing about how well the two fit). Profiles that
are closed or erased are left out.
"""

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from api.db import after_commit
from api.errors import Conflict, DomainError, NotFound
from api.services import audit
from api.services.matching import (
    MatchIndex,
    load_posting_docs,
    load_seeker_docs,
    weights_in_force,
)
from api.settings import Settings
from matcher import FusionWeights, MatcherError
from matcher.learning import (
    SIGNALS,
    WeightLearner,
    bootstrap_gain,
    feature_vector,
    queries,
    score_queries,
)
from models import MatchFeedback, PairSignal, Referral, ReferralEvent, SeekerProfile, WeightSet
from models.base import ReferralStatus, utcnow

log = logging.getLogger(__name__)

RS = ReferralStatus
GRADES: Final[dict[str, int]] = {
    "hired": 4,
    "retained_90d": 4,
    "interviewing": 3,
    "approved": 2,
    "sent": 2,
    "saved": 1,
    "dismissed": 0,
    "not_hired": 0,
    "rejected": 0,
}
# The rejection kind that is a judgement of the match (see schemas.referrals.RejectIn).
RELEVANCE_REJECTION: Final = "not_suitable"
NOT_LABELS: Final = {
    RS.proposed: "undecided",
    RS.pending: "undecided",
    RS.withdrawn: "withdrawn",
}
# An employer's decisions compare the candidates of one posting; everything else compares the
# postings one seeker was shown or asked for.
EMPLOYER: Final = frozenset({"interviewing", "hired", "retained_90d", "not_hired"})
FEEDBACK: Final = "feedback"
REFERRAL: Final = "referral"


class LearningRefused(DomainError):
    """Learning cannot decide anything yet (too few labels or held-out queries)."""

    code = "not_enough_labels"


@dataclass(frozen=True)
class Label:
    """One labelled (seeker, posting) pair: the outcome, its grade and when it happened."""

    seeker_id: int
    posting_id: int
    outcome: str
    grade: int
    at: datetime
    source: str  # "feedback" or "referral"


# --- signals kept with the labels ------------------------------------------------------


def capture(
    session: Session, index: MatchIndex, seeker_id: int, posting_id: int, source: str
) -> None:
    """Keep the pair's signals as they are now, unless they were kept before (the first
    reaction or referral is what the seeker was shown). Never fails the caller's action."""
    exists = session.exec(
        select(PairSignal.id).where(
            PairSignal.seeker_id == seeker_id, PairSignal.posting_id == posting_id
        )
    ).first()
    if exists is not None:
        return
    try:
        signals = _signals_now(session, index, seeker_id, [posting_id], None)
    except (MatcherError, ValueError) as exc:  # learning recomputes what is missing
        log.warning("pair signals not kept: %s", type(exc).__name__)
        return
    if posting_id not in signals:
        return
    values = {
        "seeker_id": seeker_id,
        "posting_id": posting_id,
        "signals": signals[posting_id],
        "model": index.model,
        "source": source,
        "captured_at": utcnow(),
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(PairSignal).values(**values)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["seeker_id", "posting_id"]))


def _signals_now(
    session: Session,
    index: MatchIndex,
    seeker_id: int,
    posting_ids: Sequence[int],
    at: datetime | None,
) -> dict[int, dict[str, float | None]]:
    index.sync(session)
    seeker = load_seeker_docs(session, [seeker_id], index.model).get(seeker_id)
    if seeker is None:
        return {}
    docs = load_posting_docs(session, posting_ids, index.model)
    ids = [pid for pid in posting_ids if pid in docs]
    values = index.pair_signals(seeker, [docs[pid] for pid in ids], at)
    return {
        pid: {k: _rounded(v) for k, v in sig.items()} for pid, sig in zip(ids, values, strict=True)
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


# --- labels ----------------------------------------------------------------------------


def collect_labels(session: Session) -> tuple[list[Label], Counter[str]]:
    """Every usable label, oldest first, and counts of the outcomes that are not labels."""
    skipped: Counter[str] = Counter()
    closed = set(
        session.exec(select(SeekerProfile.id).where(col(SeekerProfile.closed_at).is_not(None)))
    )
    latest = dict(
        session.exec(
            select(ReferralEvent.referral_id, func.max(ReferralEvent.at))
            .join(Referral, col(Referral.id) == ReferralEvent.referral_id)
            .where(col(ReferralEvent.to_status) == col(Referral.status))
            .group_by(col(ReferralEvent.referral_id))
        ).all()
    )
    rejection_kind = {
        e.referral_id: str(e.details.get("reason_code") or "")
        for e in session.exec(select(ReferralEvent).where(ReferralEvent.to_status == RS.rejected))
    }
    labels: dict[tuple[int, int], Label] = {}
    for r in session.exec(select(Referral).order_by(col(Referral.id))):  # the latest wins
        if r.seeker_id in closed:
            skipped["closed_profile"] += 1
            continue
        if r.status in NOT_LABELS:
            skipped[NOT_LABELS[r.status]] += 1
            continue
        if r.status == RS.rejected and rejection_kind.get(r.id or 0) != RELEVANCE_REJECTION:
            skipped["rejected_for_a_rule_or_unstated"] += 1
            continue
        outcome = r.status.value
        labels[(r.seeker_id, r.posting_id)] = Label(
            r.seeker_id,
            r.posting_id,
            outcome,
            GRADES[outcome],
            latest.get(r.id or 0, r.updated_at),
            REFERRAL,
        )
    for fb in session.exec(select(MatchFeedback)):
        if fb.seeker_id in closed:
            skipped["closed_profile"] += 1
            continue
        if (fb.seeker_id, fb.posting_id) in labels:
            skipped["feedback_outranked_by_referral"] += 1
            continue
        if fb.kind not in GRADES:
            skipped["unknown_feedback"] += 1
            continue
        labels[(fb.seeker_id, fb.posting_id)] = Label(
            fb.seeker_id, fb.posting_id, fb.kind, GRADES[fb.kind], fb.updated_at, FEEDBACK
        )
    ordered = sorted(labels.values(), key=lambda x: (x.at, x.seeker_id, x.posting_id))
    return ordered, skipped


def label_features(
    session: Session, index: Callable[[], MatchIndex], labels: Sequence[Label]
) -> tuple[np.ndarray, int]:
    """(n, 7) features of the labels: the kept signals, or (for a label without them)
    the signals recomputed from today's profile and posting at the label's time; and how
    many were recomputed."""
    kept: dict[tuple[int, int], dict[str, float | None]] = {}
    seekers = sorted({lb.seeker_id for lb in labels})
    for start in range(0, len(seekers), 500):
        chunk = seekers[start : start + 500]
        for row in session.exec(select(PairSignal).where(col(PairSignal.seeker_id).in_(chunk))):
            kept[(row.seeker_id, row.posting_id)] = row.signals
    missing: dict[int, list[Label]] = {}
    for lb in labels:
        if (lb.seeker_id, lb.posting_id) not in kept:
            missing.setdefault(lb.seeker_id, []).append(lb)
    recomputed = 0
    if missing:
        live = index()  # built only when something must be recomputed
        live.sync(session, force=True)
        seeker_docs = load_seeker_docs(session, list(missing), live.model)
        posting_docs = load_posting_docs(
            session, sorted({lb.posting_id for g in missing.values() for lb in g}), live.model
        )
        for seeker_id, group in missing.items():
            seeker = seeker_docs.get(seeker_id)
            for lb in group:
                posting = posting_docs.get(lb.posting_id)
                if seeker is None or posting is None:
                    continue
                got = live.pair_signals(seeker, [posting], lb.at)[0]
                kept[(seeker_id, lb.posting_id)] = {k: _rounded(v) for k, v in got.items()}
                recomputed += 1
    rows = [feature_vector(kept.get((lb.seeker_id, lb.posting_id), {})) for lb in labels]
    features = np.vstack(rows) if rows else np.zeros((0, len(SIGNALS)))
    return features, recomputed


# --- learning --------------------------------------------------------------------------


def _weights_json(weights: FusionWeights) -> dict[str, float]:
    return {k: round(float(v), 6) for k, v in asdict(weights).items()}


def _signal_weights(weights: FusionWeights) -> dict[str, float]:
    return {k: round(v, 4) for k, v in weights.signal_weights().items()}


def learn(
    session: Session,
    index: Callable[[], MatchIndex],
    settings: Settings,
    *,
    dry_run: bool = False,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """Fit weights on the older labels, compare them with the weights in force on the newest
    (held out), and adopt them only when they rank the held-out outcomes better by the
    margin. Every run but a dry one is stored with its report. Returns the report (counts,
    weights and metrics only: nothing about any one person). ``index`` gives the match index,
    asked for only when some label's signals were not kept and must be recomputed."""
    labels, skipped = collect_labels(session)
    by_outcome = Counter(lb.outcome for lb in labels)
    need = settings.learn_min_labels
    if len(labels) < need:
        raise LearningRefused(
            f"too few labels to learn from: {len(labels)} usable, {need} needed "
            "(JOBMATCH_LEARN_MIN_LABELS); the weights in force stay",
            labels=len(labels),
            needed=need,
        )
    cut = round(len(labels) * (1 - settings.learn_holdout_fraction))
    cut = min(max(cut, 1), len(labels) - 1)
    train, hold = labels[:cut], labels[cut:]
    features, recomputed = label_features(session, index, labels)
    grades = np.array([lb.grade for lb in labels], dtype=np.float64)

    def grouped(part: slice) -> list[Any]:
        rows = labels[part]
        return queries(
            grades[part],
            {
                "seeker": [lb.seeker_id for lb in rows],
                "posting": [lb.posting_id if lb.outcome in EMPLOYER else None for lb in rows],
            },
        )

    qs_train = grouped(slice(0, cut))
    qs_hold = grouped(slice(cut, len(labels)))
    if len(qs_hold) < settings.learn_min_holdout_queries or not qs_train:
        raise LearningRefused(
            f"too few held-out queries: {len(qs_hold)} (a seeker's or a posting's newest "
            f"labels of two grades or more), {settings.learn_min_holdout_queries} needed "
            "(JOBMATCH_LEARN_MIN_HOLDOUT_QUERIES); the weights in force stay",
            queries=len(qs_hold),
            needed=settings.learn_min_holdout_queries,
        )
    current_id, current = weights_in_force(session)
    try:
        learner = WeightLearner().fit(features[:cut], grades[:cut], qs_train)
    except MatcherError as exc:
        raise LearningRefused(f"{exc}; the weights in force stay") from exc
    fitted = learner.fusion_weights(current)
    x_hold, g_hold = features[cut:], grades[cut:]
    new = score_queries(fitted, x_hold, g_hold, qs_hold)
    old = score_queries(current, x_hold, g_hold, qs_hold)
    gain, low, high = bootstrap_gain(new.ndcg, old.ndcg)
    better = gain >= settings.learn_min_gain and low > 0
    if better:
        reason = (
            f"adopted: held-out nDCG {old.summary()['ndcg']:.4f} → {new.summary()['ndcg']:.4f} "
            f"(gain {gain:.4f}, 90% interval {low:.4f} to {high:.4f})"
        )
    else:
        reason = (
            f"kept the weights in force: the fitted ones gain {gain:.4f} held-out nDCG "
            f"(90% interval {low:.4f} to {high:.4f}); adopting needs a gain of at least "
            f"{settings.learn_min_gain} with the interval above 0"
        )
    metrics = {
        "current": old.summary(),
        "fitted": new.summary(),
        "gain": {"ndcg": round(gain, 4), "low": round(low, 4), "high": round(high, 4)},
    }
    report: dict[str, Any] = {
        "ran_at": utcnow().isoformat(),
        "dry_run": dry_run,
        "decision": "adopted" if better and not dry_run else ("better" if better else "kept"),
        "reason": reason,
        "labels": {
            "usable": len(labels),
            "train": len(train),
            "holdout": len(hold),
            "by_outcome": dict(sorted(by_outcome.items())),
            "not_used": dict(sorted(skipped.items())),
            "signals_kept": len(labels) - recomputed,
            "signals_recomputed": recomputed,
        },
        "split": {
            "holdout_fraction": settings.learn_holdout_fraction,
            "holdout_from": hold[0].at.isoformat(),
        },
        "queries": {"train": len(qs_train), "holdout": len(qs_hold)},
        "pairs": learner.n_pairs_,
        "current": {"weight_set_id": current_id, "weights": _signal_weights(current)},
        "fitted": {"weights": _signal_weights(fitted), "dropped": learner.dropped_},
        "metrics": metrics,
        "min_gain": settings.learn_min_gain,
    }
    if dry_run:
        return report
    if better and current_id is None:
        # Keep the defaults as a set of their own, so there is something to roll back to.
        baseline = WeightSet(
            weights=_weights_json(current),
            source="default",
            adopted=True,
            report={"reason": "the matcher's defaults, in force before the first learnt set"},
            in_force=True,
            activated_at=utcnow(),
        )
        session.add(baseline)
        session.flush()
        current_id = baseline.id
    row = WeightSet(
        weights=_weights_json(fitted),
        source="learned",
        adopted=better,
        metrics=metrics,
        report=report,
        created_by=actor_id,
    )
    session.add(row)
    session.flush()
    if better:
        _put_in_force(session, row, current_id)
        report["current"]["weight_set_id"] = current_id
    report["weight_set_id"] = row.id
    row.report = dict(report)
    session.add(row)
    session.flush()
    return report


def _put_in_force(session: Session, row: WeightSet, current_id: int | None) -> None:
    if current_id is not None:
        current = session.get(WeightSet, current_id, with_for_update=True)
        if current is not None:
            current.in_force = None
            session.add(current)
            session.flush()  # before the new one: one set in force at a time
    row.in_force = True
    row.previous_id = current_id
    row.activated_at = utcnow()
    session.add(row)
    session.flush()


# --- weight sets: list, read, put back in force ----------------------------------------


def list_sets(session: Session, limit: int, offset: int) -> tuple[list[WeightSet], int]:
    """Weight sets, newest first, and their count."""
    total = session.exec(select(func.count()).select_from(WeightSet)).one()
    rows = session.exec(
        select(WeightSet).order_by(col(WeightSet.id).desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def get_set(session: Session, set_id: int) -> WeightSet:
    row = session.get(WeightSet, set_id)
    if row is None:
        raise NotFound(f"weight set {set_id} not found")
    return row


def activate(
    session: Session,
    index: MatchIndex,
    actor: audit.Actor,
    set_id: int,
    *,
    expected_in_force: int | None,
    reason: str,
) -> WeightSet:
    """Put a kept weight set back in force (a roll-back, or forward again), audited. The
    caller names the set they saw in force: if another is in force now, 409 and no change."""
    target = session.get(WeightSet, set_id, with_for_update=True)
    if target is None:
        raise NotFound(f"weight set {set_id} not found")
    current_id, _weights = weights_in_force(session)
    if current_id != expected_in_force:
        raise Conflict(
            "the weight set in force has changed since you looked",
            field="expected_in_force",
            in_force=current_id,
        )
    if current_id == set_id:
        raise Conflict("this weight set is already in force", field="set_id")
    _put_in_force(session, target, current_id)
    audit.record_by(
        session,
        actor,
        "weight_set_activated",
        object_type="weight_set",
        object_id=set_id,
        purpose=reason.strip(),
        detail={"previous": current_id},
    )
    engine = session.get_bind()

    def reload() -> None:
        with Session(engine) as fresh:
            index.reload_weights(fresh)

    after_commit(session, reload)
    return target
