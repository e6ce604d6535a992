"""The bridge between the database and the matcher: documents, stored embeddings, the
in-memory index kept current across processes, matches and pseudonymous candidates."""

import hashlib
import hmac
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import bindparam, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from api.db import after_commit
from api.services.verification import VERIFIED_SUFFIX, verified_code, verified_codes
from matcher import (
    FusionWeights,
    Match,
    MatcherError,
    Need,
    Offer,
    PostingDoc,
    SeekerDoc,
    TextEncoder,
    make_encoder,
)
from matcher.explain import Labels
from matcher.ranker import CandidateRanker, Ranker, posting_text, seeker_text
from models import (
    Accommodation,
    Centre,
    Embedding,
    Posting,
    PostingOffer,
    SeekerNeed,
    SeekerProfile,
    WeightSet,
)
from models.base import NeedLevel, PostingStatus, utcnow

log = logging.getLogger(__name__)

POSTING = "posting"
SEEKER = "seeker"
FloatArray = npt.NDArray[np.float32]
# How far back a poll looks for changes: covers transactions that were still open when the
# previous poll ran (their updated_at is older than their commit).
POLL_OVERLAP = timedelta(minutes=2)
FULL_RESYNC_SECONDS = 300.0
# At most this many changed rows are applied (and embedded if need be) per poll, so a bulk
# import by another process never stalls a match request; the rest follow on the next polls.
SYNC_MAX_ROWS = 256
# A seeker's ranked list is kept this long for repeat views (paging, reloads), unless a
# posting, the weights or the index change first; a few hundred kept per process.
MATCH_CACHE_SECONDS = 30.0
MATCH_CACHE_SIZE = 128
# A session with this key in its `info` does not refresh the index itself after commit; its
# caller does, in batches after the response (bulk imports).
DEFER_INDEX_REFRESH = "jobmatch_defer_index_refresh"


def text_hash(text: str) -> str:
    """The hash that says which version of a text an embedding came from."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- documents -------------------------------------------------------------------------


def posting_doc(
    posting: Posting,
    offers: Sequence[PostingOffer],
    centre_code: str | None,
    embedding: FloatArray | None = None,
    verified: AbstractSet[str] = frozenset(),
) -> PostingDoc:
    """A posting as the matcher sees it; each feature verified on site is offered a second
    time under its verified code (see api.services.verification)."""
    return PostingDoc(
        id=str(posting.id),
        title=posting.title,
        text=posting.description,
        required_skills=list(posting.required_skills),
        optional_skills=list(posting.optional_skills),
        offers=[Offer(code=o.code, availability=o.availability.value) for o in offers]
        + [
            Offer(code=verified_code(o.code), availability=o.availability.value)
            for o in offers
            if o.code in verified
        ],
        work_mode=posting.work_mode.value,
        schedule=posting.schedule.value,
        lat=posting.lat,
        lon=posting.lon,
        centre_code=centre_code,
        wage_min=posting.wage_min,
        wage_max=posting.wage_max,
        status=posting.status.value,
        expires_at=posting.expires_at,
        posted_at=posting.created_at,
        embedding=embedding,
    )


def seeker_doc(
    profile: SeekerProfile,
    needs: Sequence[SeekerNeed],
    centre_code: str | None,
    embedding: FloatArray | None = None,
) -> SeekerDoc:
    """A seeker as the matcher sees it: no name, contact, or disability category. A seeker who
    wants verified features for essential needs needs their verified codes."""
    strict = profile.verified_only_essential
    text = " ".join(p for p in (profile.headline, profile.experience, profile.education) if p)
    return SeekerDoc(
        id=str(profile.id),
        text=text,
        desired_roles=list(profile.desired_roles),
        skills=list(profile.skills),
        needs=[
            Need(
                code=verified_code(n.code) if strict and essential else n.code,
                essential=essential,
            )
            for n in needs
            for essential in (n.level == NeedLevel.essential,)
        ],
        work_modes=frozenset(
            m.value if hasattr(m, "value") else str(m) for m in profile.work_modes
        ),
        schedule=profile.schedule.value,
        lat=profile.lat,
        lon=profile.lon,
        centre_code=centre_code,
        commute_limit_km=profile.commute_limit_km,
        expected_wage=profile.expected_wage,
        language=profile.language.value,
        embedding=embedding,
    )


def vocabulary_labels(session: Session) -> Labels:
    """Need and offer codes with their Chinese and English labels, for explanations (a
    verified code reads as its feature, marked as checked on site)."""
    labels: dict[str, dict[str, str]] = {}
    for a in session.exec(select(Accommodation)):
        labels[a.code] = {"zh": a.label_zh, "en": a.label_en}
        labels[a.code + VERIFIED_SUFFIX] = {
            "zh": f"{a.label_zh}（已实地核实）",
            "en": f"{a.label_en} (verified on site)",
        }
    return labels


def _centre_codes(session: Session) -> dict[int, str]:
    return {cid or 0: code for cid, code in session.exec(_CENTRE_CODES)}


# Run for every match or candidate request: built once, so SQLAlchemy reuses their cache keys
# and compiled forms (building and keying a statement anew costs ≈ 0.2 ms).
_IDS: Any = bindparam("ids", expanding=True)
_CENTRE_CODES = select(col(Centre.id), col(Centre.code))
_DOC_QUERIES: dict[str, tuple[Any, Any]] = {
    POSTING: (
        select(Posting).where(col(Posting.id).in_(_IDS)),
        select(PostingOffer).where(col(PostingOffer.posting_id).in_(_IDS)),
    ),
    SEEKER: (
        select(SeekerProfile).where(col(SeekerProfile.id).in_(_IDS)),
        select(SeekerNeed).where(col(SeekerNeed.seeker_id).in_(_IDS)),
    ),
}
_STORED_VECTORS = select(Embedding).where(
    Embedding.owner_type == bindparam("owner_type"),
    Embedding.model == bindparam("model"),
    col(Embedding.owner_id).in_(_IDS),
)


def _load_docs(
    session: Session,
    owner_type: str,
    ids: Iterable[int] | None,
    model: str,
) -> dict[int, Any]:
    """Postings or seekers (all, or these ids) as matcher documents, with their offers or
    needs and, where the text has not changed since, their stored embeddings."""
    table: Any = Posting if owner_type == POSTING else SeekerProfile
    child_key = "posting_id" if owner_type == POSTING else "seeker_id"
    rows_of, children_of = _DOC_QUERIES[owner_type]
    if ids is None:
        rows = list(session.exec(select(table)))
    else:
        rows = list(session.exec(rows_of, params={"ids": list(ids)}))
    row_ids = [r.id or 0 for r in rows]
    children: dict[int, list[Any]] = {}
    for chunk in _chunks(row_ids):
        for c in session.exec(children_of, params={"ids": chunk}):
            children.setdefault(getattr(c, child_key), []).append(c)
    centres = _centre_codes(session)
    vectors = stored_vectors(session, owner_type, row_ids, model)
    verified = verified_codes(session, row_ids, utcnow()) if owner_type == POSTING else {}
    text_of: Callable[[Any], str] = posting_text if owner_type == POSTING else seeker_text
    out: dict[int, Any] = {}
    for r in rows:
        rid = r.id or 0
        doc: Any
        if owner_type == POSTING:
            doc = posting_doc(
                r, children.get(rid, []), centres.get(r.centre_id or 0), verified=verified[rid]
            )
        else:
            doc = seeker_doc(r, children.get(rid, []), centres.get(r.centre_id or 0))
        stored = vectors.get(rid)
        if stored is not None and stored[0] == text_hash(text_of(doc)):
            doc = _with_embedding(doc, stored[1])
        out[rid] = doc
    return out


def load_posting_docs(
    session: Session, ids: Iterable[int] | None, model: str
) -> dict[int, PostingDoc]:
    """Postings (all, or these ids) with their offers and stored embeddings."""
    return _load_docs(session, POSTING, ids, model)


def load_seeker_docs(
    session: Session, ids: Iterable[int] | None, model: str
) -> dict[int, SeekerDoc]:
    """Seekers (all, or these ids) with their needs and stored embeddings."""
    return _load_docs(session, SEEKER, ids, model)


def _with_embedding(doc: Any, vector: FloatArray) -> Any:
    from dataclasses import replace

    return replace(doc, embedding=vector)


def _chunks(ids: Sequence[int], size: int = 900) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield list(ids[i : i + size])


# --- stored embeddings ------------------------------------------------------------------


def stored_vectors(
    session: Session, owner_type: str, ids: Sequence[int], model: str
) -> dict[int, tuple[str, FloatArray]]:
    """The stored (text hash, vector) of these owners for this model."""
    out: dict[int, tuple[str, FloatArray]] = {}
    for chunk in _chunks(list(ids)):
        rows = session.exec(
            _STORED_VECTORS, params={"owner_type": owner_type, "model": model, "ids": chunk}
        )
        for row in rows:
            out[row.owner_id] = (row.text_hash, np.frombuffer(row.vector, dtype=np.float32))
    return out


def save_vector(
    session: Session, owner_type: str, owner_id: int, model: str, digest: str, vector: FloatArray
) -> None:
    """Insert or replace one stored embedding."""
    values = {
        "owner_type": owner_type,
        "owner_id": owner_id,
        "model": model,
        "text_hash": digest,
        "dim": int(vector.shape[0]),
        "vector": np.asarray(vector, dtype=np.float32).tobytes(),
        "updated_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(Embedding).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["owner_type", "owner_id", "model"],
        set_={k: stmt.excluded[k] for k in ("text_hash", "dim", "vector", "updated_at")},
    )
    session.execute(stmt)


def embed_stale(
    session: Session,
    encoder: TextEncoder,
    owner_type: str,
    *,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
    ids: Sequence[int] | None = None,
) -> int:
    """Embed every posting or seeker whose stored vector is missing or stale; returns the count.

    Postings are encoded as passages and seekers as queries, as the matcher compares them.
    """
    model = encoder.name
    docs: dict[int, Any] = (
        load_posting_docs(session, ids, model)
        if owner_type == POSTING
        else load_seeker_docs(session, ids, model)
    )
    stale = [(i, d) for i, d in docs.items() if d.embedding is None]
    text_of = posting_text if owner_type == POSTING else seeker_text
    encode = encoder.encode_passages if owner_type == POSTING else encoder.encode_queries
    done = 0
    for start in range(0, len(stale), batch_size):
        batch = stale[start : start + batch_size]
        texts = [text_of(d) for _, d in batch]
        vectors = encode(texts)
        for (owner_id, _), text, vec in zip(batch, texts, vectors, strict=True):
            save_vector(session, owner_type, owner_id, model, text_hash(text), vec)
        session.flush()
        done += len(batch)
        if progress is not None:
            progress(len(batch))
    return done


# --- fusion weights in force ------------------------------------------------------------


def weights_in_force(session: Session) -> tuple[int | None, FusionWeights]:
    """The weight set in force (its id) and its weights; (None, the defaults) when none is."""
    row = session.exec(select(WeightSet).where(col(WeightSet.in_force).is_(True))).first()
    if row is None:
        return None, FusionWeights()
    return row.id, fusion_weights(row.weights)


def fusion_weights(stored: dict[str, float]) -> FusionWeights:
    """FusionWeights from a stored dict (unknown keys ignored, missing ones default)."""
    fields = set(FusionWeights.__dataclass_fields__)
    return FusionWeights(**{k: float(v) for k, v in stored.items() if k in fields})


# --- the in-memory index -----------------------------------------------------------------


@dataclass
class _SyncState:
    versions: dict[int, int]
    polled_at: datetime | None = None
    full_at: float = 0.0


class MatchIndex:
    """Open postings and active seekers, indexed for matching, kept current with the database.

    Every process holds one. A write in this process updates it at once (`refresh_*`); writes
    by other processes are picked up by `sync`, which reads the versions of rows changed since
    the last poll (and all versions every few minutes), so several processes stay consistent.
    """

    def __init__(self, encoder: TextEncoder, *, poll_seconds: float = 1.0) -> None:
        self.encoder = encoder
        self.model = encoder.name
        self.poll_seconds = poll_seconds
        self._lock = threading.RLock()
        self.postings = Ranker(encoder)
        self.seekers = CandidateRanker(encoder)
        self.labels: Labels = {}
        self._p = _SyncState(versions={})
        self._s = _SyncState(versions={})
        self._last_poll = 0.0
        self._loaded = False
        self.weight_set_id: int | None = None
        # Bumped whenever what a seeker's matches depend on changes (postings, weights).
        self._generation = 0
        self._match_cache: OrderedDict[tuple[str, int], tuple[float, int, list[Match]]] = (
            OrderedDict()
        )
        # Bumped whenever a seeker changes: a posting's candidates depend on every seeker.
        self._seeker_generation = 0
        self._candidate_cache: OrderedDict[
            tuple[str, int, str], tuple[float, tuple[int, int], list[Match]]
        ] = OrderedDict()

    @property
    def weights(self) -> FusionWeights:
        """The fusion weights both rankers use (the set in force, or the defaults)."""
        return self.postings.weights

    def _sync_weights(self, session: Session) -> None:
        """Use the weight set in force (adopted by `jobmatch learn` or put back by an admin)."""
        set_id, weights = weights_in_force(session)
        if set_id != self.weight_set_id or not self._loaded:
            self._generation += 1
            self.postings.weights = weights
            self.seekers.weights = weights
            self.weight_set_id = set_id

    def reload_weights(self, session: Session) -> None:
        """Pick up a change of the weight set in force now (after a write in this process)."""
        with self._lock:
            self._sync_weights(session)

    # loading and syncing

    def load(self, session: Session) -> None:
        """Build the index from the database, embedding whatever is missing."""
        with self._lock:
            now = utcnow()
            embed_stale(session, self.encoder, POSTING)
            live_ids = list(
                session.exec(select(SeekerProfile.id).where(col(SeekerProfile.closed_at).is_(None)))
            )
            embed_stale(session, self.encoder, SEEKER, ids=[i for i in live_ids if i])
            pdocs = load_posting_docs(session, None, self.model)
            sdocs = load_seeker_docs(session, None, self.model)
            profiles = {p.id: p for p in session.exec(select(SeekerProfile))}
            versions_p = {p.id or 0: p.version for p in session.exec(select(Posting))}
            open_docs = [d for pid, d in pdocs.items() if _posting_live(d)]
            active = [d for sid, d in sdocs.items() if _seeker_live(profiles.get(sid))]
            self.postings.fit(open_docs)
            self.seekers.fit(active, _stack(active, self.encoder.dim))
            self.labels = vocabulary_labels(session)
            self._sync_weights(session)
            self.postings.labels = self.labels
            self.seekers.labels = self.labels
            self._p = _SyncState(versions=versions_p, polled_at=now, full_at=time.monotonic())
            self._s = _SyncState(
                versions={sid: p.version for sid, p in profiles.items() if sid is not None},
                polled_at=now,
                full_at=time.monotonic(),
            )
            self._loaded = True
            self._generation += 1
            self._last_poll = time.monotonic()

    def sync(self, session: Session, *, force: bool = False) -> None:
        """Apply changes other processes committed since the last poll."""
        if not self._loaded:
            self.load(session)
            return
        if not force and time.monotonic() - self._last_poll < self.poll_seconds:
            return
        with self._lock:
            self._last_poll = time.monotonic()
            self._sync_weights(session)
            self._sync_table(session, Posting, self._p, self._refresh_postings)
            self._sync_table(session, SeekerProfile, self._s, self._refresh_seekers)

    def poll_soon(self) -> None:
        """Make the next sync poll the database whatever the interval (another process has
        committed a write)."""
        self._last_poll = 0.0

    def _sync_table(
        self,
        session: Session,
        table: Any,
        state: _SyncState,
        refresh: Callable[[Session, list[int]], None],
    ) -> None:
        now = utcnow()
        query = select(table.id, table.version)
        full = time.monotonic() - state.full_at > FULL_RESYNC_SECONDS
        if not full and state.polled_at is not None:
            query = query.where(col(table.updated_at) >= state.polled_at - POLL_OVERLAP)
        changed = [
            rid for rid, version in session.exec(query) if state.versions.get(rid) != version
        ]
        if len(changed) > SYNC_MAX_ROWS:
            # Keep the window where it is: the next polls see the rest.
            refresh(session, sorted(changed)[:SYNC_MAX_ROWS])
            return
        state.polled_at = now
        if full:
            state.full_at = time.monotonic()
        if changed:
            refresh(session, changed)

    def refresh_postings(self, session: Session, ids: list[int]) -> None:
        """Re-read these postings (after a write in this process)."""
        with self._lock:
            if self._loaded:
                self._refresh_postings(session, ids)

    def refresh_seekers(self, session: Session, ids: list[int]) -> None:
        """Re-read these seekers (after a write in this process)."""
        with self._lock:
            if self._loaded:
                self._refresh_seekers(session, ids)

    def _refresh_postings(self, session: Session, ids: list[int]) -> None:
        self._generation += 1
        embed_stale(session, self.encoder, POSTING, ids=ids)
        docs = load_posting_docs(session, ids, self.model)
        for pid in ids:
            doc = docs.get(pid)
            if doc is not None and _posting_live(doc):
                self.postings.add_or_update(doc)
            else:
                self.postings.remove(str(pid))
        for row_id, version in session.exec(
            select(Posting.id, Posting.version).where(col(Posting.id).in_(ids))
        ):
            if row_id is not None:
                self._p.versions[row_id] = version

    def _refresh_seekers(self, session: Session, ids: list[int]) -> None:
        self._seeker_generation += 1
        profiles = {
            p.id: p
            for p in session.exec(select(SeekerProfile).where(col(SeekerProfile.id).in_(ids)))
        }
        live = [sid for sid in ids if _seeker_live(profiles.get(sid))]
        if live:  # closed or erased profiles are not embedded again
            embed_stale(session, self.encoder, SEEKER, ids=live)
        docs = load_seeker_docs(session, ids, self.model)
        for sid in ids:
            doc = docs.get(sid)
            if doc is not None and _seeker_live(profiles.get(sid)):
                self.seekers.add_or_update(doc, doc.embedding)
            else:
                self.seekers.remove(str(sid))
            profile = profiles.get(sid)
            if profile is not None:
                self._s.versions[sid] = profile.version

    # queries

    def matches_for(self, seeker: SeekerDoc, k: int, now: datetime | None = None) -> list[Match]:
        """The seeker's top k; a repeat view within MATCH_CACHE_SECONDS, with no posting or
        weight changed since, is served from the kept list (the ranking at a given `now` is
        never kept)."""
        with self._lock:
            return _kept(
                self._match_cache,
                (_doc_key(seeker), k),
                self._generation,
                now,
                lambda: self.postings.rank(seeker, k, now),
            )

    def pair_signals(
        self, seeker: SeekerDoc, postings: Sequence[PostingDoc], now: datetime | None = None
    ) -> list[dict[str, float | None]]:
        """The matcher's signals of one seeker against these postings (see Ranker)."""
        with self._lock:
            return self.postings.pair_signals(seeker, postings, now)

    def candidates_for(
        self, posting: PostingDoc, k: int, language: str, now: datetime | None = None
    ) -> list[Match]:
        """The posting's top k seekers; like matches_for, a repeat view within
        MATCH_CACHE_SECONDS is served from the kept list unless a seeker, a posting or the
        weights changed since (the ranking at a given `now` is never kept)."""
        with self._lock:
            return _kept(
                self._candidate_cache,
                (_doc_key(posting), k, language),
                (self._generation, self._seeker_generation),
                now,
                lambda: self.seekers.rank(posting, k, now, language=language),  # type: ignore[arg-type]
            )


def _kept(
    cache: OrderedDict[Any, tuple[float, Any, list[Match]]],
    key: Any,
    generation: Any,
    now: datetime | None,
    rank: Callable[[], list[Match]],
) -> list[Match]:
    """A ranking kept for MATCH_CACHE_SECONDS (the latest MATCH_CACHE_SIZE of them) while
    `generation` is unchanged; one at a given `now` is never kept. Called under the lock."""
    if now is not None:
        return rank()
    kept = cache.get(key)
    if (
        kept is not None
        and kept[1] == generation
        and time.monotonic() - kept[0] < MATCH_CACHE_SECONDS
    ):
        cache.move_to_end(key)
        return list(kept[2])
    ranked = rank()
    cache[key] = (time.monotonic(), generation, ranked)
    cache.move_to_end(key)
    while len(cache) > MATCH_CACHE_SIZE:
        cache.popitem(last=False)
    return list(ranked)


def _doc_key(doc: SeekerDoc | PostingDoc) -> str:
    """Everything about a seeker or posting that ranking reads (the embedding follows from
    the text)."""
    return repr([getattr(doc, f.name) for f in fields(doc) if f.name != "embedding"])


def _posting_live(doc: PostingDoc) -> bool:
    if doc.status != PostingStatus.open.value:
        return False
    return doc.expires_at is None or doc.expires_at > utcnow()


def _seeker_live(profile: SeekerProfile | None) -> bool:
    return profile is not None and profile.closed_at is None


def _stack(docs: Sequence[SeekerDoc], dim: int) -> FloatArray | None:
    if not docs:
        return np.zeros((0, dim), dtype=np.float32)
    if any(d.embedding is None for d in docs):
        return None
    return np.vstack([np.asarray(d.embedding, dtype=np.float32) for d in docs])


class ModelSettingError(RuntimeError):
    """The embedding model named in the settings cannot be loaded."""


def load_encoder(spec: str) -> TextEncoder:
    """The encoder the settings name, loaded now, or an error naming the setting to fix."""
    try:
        encoder = make_encoder(spec)
        encoder.encode_queries(["模型自检 model self-check"])
    except (MatcherError, OSError, ValueError) as exc:
        raise ModelSettingError(
            f"cannot load the embedding model {spec!r} ({exc}); fix JOBMATCH_EMBEDDING_MODEL "
            "(default, minilm, hashing, or a sentence-transformers model name or folder)"
        ) from exc
    return encoder


def build_match_index(settings: Any, engine: Any) -> MatchIndex:
    """Load the encoder and index what the database holds (embedding what is missing)."""
    index = MatchIndex(
        load_encoder(settings.embedding_model), poll_seconds=settings.index_poll_seconds
    )
    with Session(engine, expire_on_commit=False) as session:
        index.load(session)
        session.commit()
    warm_up(index)
    return index


def warm_up(index: MatchIndex) -> None:
    """Rank once for nobody, so the matcher's compiled kernels are loaded at start and not in
    the first request that needs them (a second or so in each worker process)."""
    try:
        index.postings.rank(SeekerDoc(id="warm-up", text="warm-up", skills=["warm-up"]), 1)
        index.seekers.rank(PostingDoc(id="warm-up", text="warm-up", required_skills=["warm-up"]), 1)
    except Exception:  # only a head start: a failure here must not stop start-up
        log.warning(
            "matcher warm-up failed; the first match request compiles instead", exc_info=True
        )


def track_changes(session: Session, index: MatchIndex) -> None:
    """Refresh the index with the postings and seekers this session writes, once committed."""
    touched: dict[str, set[int]] = {POSTING: set(), SEEKER: set()}

    def collect(sess: Session, _context: Any) -> None:
        for obj in (*sess.new, *sess.dirty, *sess.deleted):
            if isinstance(obj, Posting | PostingOffer):
                pid = obj.id if isinstance(obj, Posting) else obj.posting_id
                if pid is not None:
                    touched[POSTING].add(pid)
            elif isinstance(obj, SeekerProfile | SeekerNeed):
                sid = obj.id if isinstance(obj, SeekerProfile) else obj.seeker_id
                if sid is not None:
                    touched[SEEKER].add(sid)

    def refresh() -> None:
        if not (touched[POSTING] or touched[SEEKER]) or session.info.get(DEFER_INDEX_REFRESH):
            return
        engine = session.get_bind()
        with Session(engine, expire_on_commit=False) as fresh:
            if touched[POSTING]:
                index.refresh_postings(fresh, sorted(touched[POSTING]))
            if touched[SEEKER]:
                index.refresh_seekers(fresh, sorted(touched[SEEKER]))
            fresh.commit()  # the embeddings written for what changed

    event.listen(session, "after_flush", collect)
    after_commit(session, refresh)


def refresh_postings_in_batches(
    engine: Any, index: MatchIndex, ids: Sequence[int], *, batch_size: int = 256
) -> None:
    """Embed and index these postings a batch at a time (the index is locked per batch only,
    so matching goes on meanwhile); for bulk writes, after the response."""
    for chunk in _chunks(sorted(set(ids)), batch_size):
        with Session(engine, expire_on_commit=False) as session:
            index.refresh_postings(session, chunk)
            session.commit()


def candidate_pseudonym(secret: str, posting_id: int, seeker_id: int) -> str:
    """A stable per-posting pseudonym: the same seeker looks different on each posting."""
    digest = hmac.new(
        secret.encode(), f"candidate:{posting_id}:{seeker_id}".encode(), hashlib.sha256
    ).hexdigest()
    return f"C-{digest[:10].upper()}"
