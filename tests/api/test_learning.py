"""Learning the fusion weights from outcomes: histories generated through the API from known
weights with noise; `jobmatch learn` recovers better weights and adopts them, refuses worse
ones and too few labels; the service ranks with the set in force; admins roll back."""

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from api.cli import app as cli
from api.services import learning
from api.settings import Settings, get_settings
from matcher import FusionWeights
from matcher.learning import SIGNALS, feature_vector, weight_vector
from models import AuditLog, PairSignal, Posting, SeekerProfile, WeightSet
from models.base import NeedLevel, OfferAvailability, Role, Schedule, utcnow
from tests import factories as f
from tests.api.test_concurrency import race
from tests.conftest import TEST_SECRET

SKILLS = ["Excel", "SQL", "打字", "Python", "沟通", "手语", "会计", "客服", "仓储", "设计"]
JOBS = [
    ("数据录入员", "负责 Excel 数据录入与核对"),
    ("Data entry clerk", "Enter data into spreadsheets and check it"),
    ("仓库管理员", "负责库存盘点、出入库登记"),
    ("在线客服", "通过文字回复客户咨询，无需接听电话"),
    ("Python developer", "Build backend services with Django"),
    ("会计助理 Accounting assistant", "协助账务处理 bookkeeping"),
    ("Office assistant", "Filing, scheduling and reception"),
    ("平面设计", "设计海报和宣传册"),
]
CODES = [
    "lift",
    "step_free_entrance",
    "accessible_restroom",
    "height_adjustable_desk",
    "screen_reader_software",
    "text_instead_of_phone",
    "written_instructions",
    "job_coach",
]
# Place and skills first, text little: what the outcomes in these histories reward.
BETTER = {
    "text": 0.05,
    "skills": 0.30,
    "needs": 0.05,
    "location": 0.40,
    "wage": 0.15,
    "freshness": 0.0,
    "fit": 0.05,
}
DEFAULTS = FusionWeights().signal_weights()
NOISE = 0.02


def make_world(session: Session, rng: np.random.Generator, n_postings: int = 40) -> None:
    """Postings that differ in text, skills, offers, place, wage, age and schedule."""
    emp = f.employer(session)
    now = utcnow()
    for i in range(n_postings):
        title, text = JOBS[i % len(JOBS)]
        f.posting(
            session,
            emp,
            title=f"{title} {i}",
            description=text,
            required_skills=list(rng.choice(SKILLS, size=int(rng.integers(1, 4)), replace=False)),
            offers={
                str(c): OfferAvailability.available
                if rng.random() < 0.6
                else OfferAvailability.arrangeable
                for c in rng.choice(CODES, size=int(rng.integers(0, 4)), replace=False)
            },
            lat=30.25 + float(rng.uniform(-0.12, 0.12)),
            lon=120.17 + float(rng.uniform(-0.12, 0.12)),
            wage_max=int(rng.integers(3000, 9000)),
            schedule=Schedule.full_time if rng.random() < 0.6 else Schedule.flexible,
            created_at=now - timedelta(days=float(rng.uniform(0, 90))),
        )


def make_seeker(session: Session, rng: np.random.Generator, i: int) -> tuple[Any, int]:
    title, text = JOBS[int(rng.integers(0, len(JOBS)))]
    acc, profile = f.seeker(
        session,
        needs={
            str(c): NeedLevel.preferred
            for c in rng.choice(CODES, size=int(rng.integers(1, 4)), replace=False)
        },
        skills=list(rng.choice(SKILLS, size=int(rng.integers(2, 5)), replace=False)),
        headline=title,
        experience=text,
        lat=30.25 + float(rng.uniform(-0.1, 0.1)),
        lon=120.17 + float(rng.uniform(-0.1, 0.1)),
        commute_limit_km=45.0,
        expected_wage=int(rng.integers(4000, 8000)),
        schedule=Schedule.any if i % 2 else Schedule.full_time,
    )
    return acc, profile.id or 0


def history(
    client: TestClient,
    session: Session,
    settings: Settings,
    truth: Callable[[int], dict[str, float]],
    *,
    seekers: int = 60,
    seed: int = 0,
) -> int:
    """Each seeker looks at their matches and reacts to twelve of them through the API: the
    five the true weights (plus noise) rank highest are saved, the five lowest dismissed.
    Seekers act one after another, so the newest labels are the last seekers'."""
    rng = np.random.default_rng(seed)
    make_world(session, rng)
    labels = 0
    for i in range(seekers):
        acc, sid = make_seeker(session, rng, i)
        h = f.headers(session, settings, acc)
        r = client.get(f"/seekers/{sid}/matches", params={"limit": 100}, headers=h)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert len(items) >= 12, "every seeker needs twelve feasible matches"
        shown = [items[j] for j in rng.choice(len(items), size=12, replace=False)]
        w = weight_vector(truth(i))
        utility = [feature_vector(m["signals"]) @ w + rng.normal(0, NOISE) for m in shown]
        for rank, j in enumerate(np.argsort(utility)[::-1]):
            if 5 <= rank < 7:
                continue
            kind = "saved" if rank < 5 else "dismissed"
            pid = shown[j]["posting"]["id"]
            put = client.put(f"/seekers/{sid}/feedback/{pid}", headers=h, json={"kind": kind})
            assert put.status_code == 200, put.text
            labels += 1
    return labels


@pytest.fixture
def learn_env(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`jobmatch learn` run as its own process would: settings from the environment."""
    env = {
        "JOBMATCH_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "JOBMATCH_ENVIRONMENT": "test",
        "JOBMATCH_SECRET_KEY": TEST_SECRET,
        "JOBMATCH_EMBEDDING_MODEL": "hashing",
        "JOBMATCH_LEARN_MIN_LABELS": "100",
        "JOBMATCH_LEARN_MIN_HOLDOUT_QUERIES": "10",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run_learn(*args: str) -> Any:
    return CliRunner().invoke(cli, ["learn", *args])


def admin_headers(session: Session, settings: Settings) -> dict[str, str]:
    return f.headers(session, settings, f.account(session, Role.admin, centre_code=None))


def sets(client: TestClient, h: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/weight-sets", headers=h)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def signal_weights(stored: dict[str, float]) -> np.ndarray:
    return weight_vector({name: stored[name] for name in SIGNALS})


def test_learn_recovers_better_weights_adopts_them_and_the_service_ranks_with_them(
    client: TestClient,
    session: Session,
    settings: Settings,
    learn_env: None,
) -> None:
    labels = history(client, session, settings, lambda _i: BETTER)
    assert labels == 600
    # Every label keeps the signals the seeker was shown.
    assert len(session.exec(select(PairSignal)).all()) == labels
    session.rollback()

    dry = run_learn("--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "decision: better" in dry.output and "600 usable" in dry.output
    ha = admin_headers(session, settings)
    assert sets(client, ha) == []  # a dry run stores nothing

    result = run_learn()
    assert result.exit_code == 0, result.output
    assert "decision: adopted" in result.output, result.output
    stored = sets(client, ha)
    assert [(s["source"], s["adopted"], s["in_force"]) for s in stored] == [
        ("learned", True, True),
        ("default", True, False),
    ]
    learned, default = stored
    assert learned["previous_id"] == default["id"]

    # The fitted weights point the way of the weights that made the labels.
    got, want = signal_weights(learned["weights"]), weight_vector(BETTER)
    assert abs(got.sum() - 1) < 1e-6
    assert got @ want / np.linalg.norm(got) / np.linalg.norm(want) > 0.9, got
    heaviest = [SIGNALS[i] for i in np.argsort(-got)[:2]]
    assert heaviest == ["location", "skills"], got
    assert got[SIGNALS.index("text")] < DEFAULTS["text"]
    metrics = learned["metrics"]
    assert metrics["fitted"]["ndcg"] > metrics["current"]["ndcg"] + 0.01
    assert metrics["gain"]["low"] > 0

    # The service (another process's write, picked up by polling) ranks with them now.
    acc, sid = make_seeker(session, np.random.default_rng(99), 1)
    r = client.get(f"/seekers/{sid}/matches", headers=f.headers(session, settings, acc))
    assert r.status_code == 200
    index = client.app.state.match_index  # type: ignore[attr-defined]
    assert index.weight_set_id == learned["id"]
    for m in r.json()["items"][:10]:
        assert feature_vector(m["signals"]) @ got == pytest.approx(m["score"], abs=2e-3)

    # Roll back to the defaults: audited, and the service follows at once.
    stale = client.post(
        f"/weight-sets/{default['id']}/activate",
        headers=ha,
        json={"expected_in_force": default["id"], "reason": "回滚 roll back"},
    )
    assert stale.status_code == 409 and stale.json()["field"] == "expected_in_force"
    back = client.post(
        f"/weight-sets/{default['id']}/activate",
        headers=ha,
        json={"expected_in_force": learned["id"], "reason": "回滚 roll back"},
    )
    assert back.status_code == 200, back.text
    assert back.json()["in_force"] and back.json()["previous_id"] == learned["id"]
    assert index.weight_set_id == default["id"]
    assert index.weights == FusionWeights()
    again = client.post(
        f"/weight-sets/{default['id']}/activate",
        headers=ha,
        json={"expected_in_force": default["id"], "reason": "again"},
    )
    assert again.status_code == 409
    session.rollback()
    audit = session.exec(select(AuditLog).where(AuditLog.action == "weight_set_activated")).all()
    assert [(a.object_id, a.purpose) for a in audit] == [(str(default["id"]), "回滚 roll back")]
    detail = client.get(f"/weight-sets/{learned['id']}", headers=ha).json()
    assert detail["report"]["decision"] == "adopted"
    assert not detail["in_force"]


def test_weights_that_lose_on_the_newest_outcomes_are_refused(
    client: TestClient,
    session: Session,
    settings: Settings,
    learn_env: None,
) -> None:
    # The older outcomes follow skills and place; the newest (held out) follow the weights in
    # force. Weights fitted on the old ones rank the newest worse: they must be refused.
    history(client, session, settings, lambda i: BETTER if i < 48 else DEFAULTS, seed=1)
    result = run_learn()
    assert result.exit_code == 0, result.output
    assert "decision: kept" in result.output, result.output
    ha = admin_headers(session, settings)
    stored = sets(client, ha)
    assert [(s["source"], s["adopted"], s["in_force"]) for s in stored] == [
        ("learned", False, False)
    ]
    metrics = stored[0]["metrics"]
    assert metrics["fitted"]["ndcg"] < metrics["current"]["ndcg"]
    # The fitted set is still kept, with its report, for the record.
    got = signal_weights(stored[0]["weights"])
    assert [SIGNALS[i] for i in np.argsort(-got)[:2]] == ["location", "skills"]
    # Nothing changed for the service.
    acc, sid = make_seeker(session, np.random.default_rng(7), 0)
    client.get(f"/seekers/{sid}/matches", headers=f.headers(session, settings, acc))
    index = client.app.state.match_index  # type: ignore[attr-defined]
    assert index.weight_set_id is None and index.weights == FusionWeights()


def test_too_few_labels_are_refused_with_a_clear_message(
    client: TestClient,
    session: Session,
    settings: Settings,
    learn_env: None,
) -> None:
    history(client, session, settings, lambda _i: BETTER, seekers=5, seed=2)
    result = run_learn()
    assert result.exit_code == 1
    assert "too few labels to learn from: 50 usable, 100 needed" in result.output
    assert "JOBMATCH_LEARN_MIN_LABELS" in result.output
    session.rollback()
    assert session.exec(select(WeightSet)).all() == []


def test_report_holds_no_personal_data(
    client: TestClient,
    session: Session,
    settings: Settings,
    learn_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    history(client, session, settings, lambda _i: BETTER, seekers=20, seed=3)
    monkeypatch.setenv("JOBMATCH_LEARN_MIN_HOLDOUT_QUERIES", "3")
    get_settings.cache_clear()
    result = run_learn("--dry-run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    text = json.dumps(report, ensure_ascii=False)
    session.rollback()
    profiles = session.exec(select(SeekerProfile)).all()
    for p in profiles:
        for value in (p.full_name, p.headline, p.experience, *p.skills):
            assert value not in text
    for posting in session.exec(select(Posting)).all():
        assert posting.title not in text
    for word in ("@example.com", "seeker_id", "posting_id", "disability", "health", "lift"):
        assert word not in text
    # The features are the matcher's signals only: numbers, nothing about the person.
    for row in session.exec(select(PairSignal)).all():
        assert set(row.signals) <= {"dense", "lexical", *SIGNALS}
        assert all(v is None or 0.0 <= v <= 1.0 for v in row.signals.values())


def test_which_outcomes_are_labels(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Hire > interview > approved > saved; not hired, dismissed and a rejection as not
    suitable are negatives; undecided, withdrawn and rule rejections are not labels."""
    emp_acc, emp = f.employer_account(session, f.employer(session, verified=True))
    _, unverified = f.employer_account(session, f.employer(session, verified=False))
    he = f.headers(session, settings, emp_acc)
    hc = f.headers(session, settings, f.account(session, Role.caseworker))
    acc, profile = f.seeker(session, phone="13800001111")
    sid = profile.id or 0
    hs = f.headers(session, settings, acc)
    p = {
        name: f.posting(session, emp, title=f"岗位 Job {name}").id
        for name in (
            "hired",
            "interviewing",
            "sent",
            "not_hired",
            "withdrawn",
            "pending",
            "saved",
            "dismissed",
        )
    }
    q = {
        name: f.posting(session, unverified, title=f"岗位 Job {name}").id
        for name in (
            "not_suitable",
            "rule",
        )
    }
    consent = {"agree": True, "text_version": "2026-11"}

    def ask(pid: int | None, with_consent: bool = True) -> int:
        body: dict[str, Any] = {"posting_id": pid}
        if with_consent:
            body["consent"] = consent
        r = client.post("/referrals", headers=hs, json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def post(rid: int, action: str, headers: dict[str, str], body: Any = None) -> None:
        r = client.post(f"/referrals/{rid}/{action}", headers=headers, json=body or {})
        assert r.status_code == 200, r.text

    # The seeker saved the job they were later hired for: the hire is the label.
    client.put(f"/seekers/{sid}/feedback/{p['hired']}", headers=hs, json={"kind": "saved"})
    for name in ("hired", "interviewing", "not_hired"):
        rid = ask(p[name])
        post(rid, "send", hs)
        post(
            rid,
            "interview" if name != "not_hired" else "not-hired",
            he,
            None if name != "not_hired" else {"reason": "position_filled"},
        )
        if name == "hired":
            post(rid, "hire", he, {"start_date": utcnow().date().isoformat()})
    post(ask(p["sent"]), "send", hs)
    post(ask(p["withdrawn"]), "withdraw", hs, {"reason": "找到了 found one"})
    ask(p["pending"], with_consent=False)
    post(
        ask(q["not_suitable"]),
        "reject",
        hc,
        {"reason": "岗位不适合 not a fit", "reason_code": "not_suitable"},
    )
    post(
        ask(q["rule"]),
        "reject",
        hc,
        {"reason": "单位未认证 employer unverified", "reason_code": "rule_not_met"},
    )
    for name in ("saved", "dismissed"):
        r = client.put(f"/seekers/{sid}/feedback/{p[name]}", headers=hs, json={"kind": name})
        assert r.status_code == 200
    session.rollback()
    labels, skipped = learning.collect_labels(session)
    got = {lb.posting_id: (lb.outcome, lb.grade, lb.source) for lb in labels}
    assert got == {
        p["hired"]: ("hired", 4, "referral"),
        p["interviewing"]: ("interviewing", 3, "referral"),
        p["sent"]: ("sent", 2, "referral"),
        p["saved"]: ("saved", 1, "feedback"),
        p["not_hired"]: ("not_hired", 0, "referral"),
        p["dismissed"]: ("dismissed", 0, "feedback"),
        q["not_suitable"]: ("rejected", 0, "referral"),
    }
    assert skipped == {
        "undecided": 1,
        "withdrawn": 1,
        "rejected_for_a_rule_or_unstated": 1,
        "feedback_outranked_by_referral": 1,
    }
    assert [lb.at for lb in labels] == sorted(lb.at for lb in labels)
    # Each referral and reaction kept its pair's signals when it began.
    kept = {
        (r.posting_id, r.source)
        for r in session.exec(select(PairSignal).where(PairSignal.seeker_id == sid))
    }
    assert (p["hired"], "feedback") in kept and (p["sent"], "referral") in kept
    assert len(kept) == len(p) + len(q)
    # A closed profile's outcomes are not used.
    profile = session.get(SeekerProfile, sid)
    assert profile is not None
    profile.closed_at = utcnow()
    session.add(profile)
    session.commit()
    labels, skipped = learning.collect_labels(session)
    assert labels == [] and skipped["closed_profile"] == 11  # 8 referrals, 3 reactions


def test_labels_without_kept_signals_are_recomputed(
    client: TestClient, session: Session, settings: Settings
) -> None:
    history(client, session, settings, lambda _i: BETTER, seekers=12, seed=4)
    session.rollback()
    keep = session.exec(select(PairSignal).order_by(col(PairSignal.id))).all()
    lost = {(r.seeker_id, r.posting_id): feature_vector(r.signals) for r in keep[: len(keep) // 2]}
    for row in keep[: len(keep) // 2]:
        session.delete(row)
    session.commit()
    labels, _ = learning.collect_labels(session)
    index = client.app.state.match_index  # type: ignore[attr-defined]
    feats, recomputed = learning.label_features(session, lambda: index, labels)
    assert recomputed == len(keep) // 2 and feats.shape == (len(labels), len(SIGNALS))
    # Nothing changed since: recomputed at the label's time, they are what was kept.
    for lb, row in zip(labels, feats, strict=True):
        if (lb.seeker_id, lb.posting_id) in lost:
            assert row == pytest.approx(lost[(lb.seeker_id, lb.posting_id)], abs=1e-3)
    test_settings = settings.model_copy(
        update={"learn_min_labels": 100, "learn_min_holdout_queries": 2}
    )
    report = learning.learn(session, lambda: index, test_settings, dry_run=True)
    assert report["labels"]["signals_recomputed"] == len(keep) // 2
    assert report["decision"] in ("better", "kept")


def test_two_admins_put_weight_sets_in_force_at_once_one_wins(
    app: Any, session: Session, settings: Settings
) -> None:
    rows = [
        WeightSet(weights={**DEFAULTS, "skills": 0.1 * (i + 1)}, source="learned") for i in range(3)
    ]
    rows[0].in_force = True
    session.add_all(rows)
    session.commit()
    ids = [r.id or 0 for r in rows]
    h1, h2 = admin_headers(session, settings), admin_headers(session, settings)
    current = ids[0]
    for round_ in range(3):
        a, b = [i for i in ids if i != current]
        results = race(
            app,
            [
                (
                    "POST",
                    f"/weight-sets/{a}/activate",
                    h1,
                    {"expected_in_force": current, "reason": f"A {round_}"},
                ),
                (
                    "POST",
                    f"/weight-sets/{b}/activate",
                    h2,
                    {"expected_in_force": current, "reason": f"B {round_}"},
                ),
            ],
        )
        assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        session.rollback()
        in_force = session.exec(select(WeightSet.id).where(col(WeightSet.in_force).is_(True))).all()
        assert in_force == [winner["id"]]
        assert winner["previous_id"] == current
        current = winner["id"]
    audited = session.exec(select(AuditLog).where(AuditLog.action == "weight_set_activated")).all()
    assert len(audited) == 3


def test_erasing_a_seeker_erases_their_kept_signals(
    client: TestClient, session: Session, settings: Settings
) -> None:
    emp = f.employer(session)
    posting = f.posting(session, emp)
    acc, profile = f.seeker(session)
    h = f.headers(session, settings, acc)
    r = client.put(
        f"/seekers/{profile.id}/feedback/{posting.id}", headers=h, json={"kind": "saved"}
    )
    assert r.status_code == 200
    exported = client.get(f"/seekers/{profile.id}/export", headers=h).json()
    assert len(exported["tables"]["pair_signal"]) == 1  # theirs to see
    erased = client.post(f"/seekers/{profile.id}/erase", headers=h, json={"confirm": "ERASE"})
    assert erased.status_code == 204
    session.rollback()
    assert session.exec(select(PairSignal).where(PairSignal.seeker_id == profile.id)).all() == []
