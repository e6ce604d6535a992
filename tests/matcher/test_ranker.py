import warnings
from datetime import timedelta

import numpy as np
import pytest
from matcher_factories import NOW, corpus, posting, ranker, seeker

from matcher import HashingEncoder, MatcherError, Need, NotFittedError, Offer, violations
from matcher.fusion import FusionWeights
from matcher.ranker import CandidateRanker, Ranker, posting_text


def ids(matches: list) -> list[str]:  # type: ignore[type-arg]
    return [m.id for m in matches]


def test_ranks_the_matching_posting_first_in_each_language() -> None:
    r = ranker()
    top = ids(r.rank(seeker(text="数据录入 Excel表格"), k=2, now=NOW))
    assert top[0] in {"zh-data", "mix-data"}
    assert ids(r.rank(seeker(text="python backend developer", language="en"), k=1, now=NOW)) == [
        "en-dev"
    ]
    assert ids(r.rank(seeker(text="库存盘点 仓库"), k=1, now=NOW)) == ["zh-store"]


def test_scores_are_in_range_sorted_and_shares_sum_to_one() -> None:
    matches = ranker().rank(seeker(skills=["Excel"], expected_wage=4000), k=10, now=NOW)
    assert len(matches) == len(corpus())
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    for m in matches:
        assert 0.0 <= m.score <= 1.0
        assert sum(m.contributions.values()) == pytest.approx(1.0)
        assert all(0.0 <= v <= 1.0 for v in m.signals.values())
        assert m.explanation.top_signal == max(m.contributions, key=m.contributions.__getitem__)


def test_vectorised_constraints_agree_with_the_scalar_rules() -> None:
    postings = [
        posting("a", offers=[Offer("lift")], lat=31.0, lon=121.0),
        posting("b", offers=[Offer("lift", "arrangeable")], work_mode="remote"),
        posting("c", schedule="full_time"),
        posting("d", status="closed", offers=[Offer("lift")]),
        posting("e", expires_at=NOW - timedelta(days=1), offers=[Offer("lift")]),
        posting("f", offers=[Offer("lift")], lat=32.0, lon=121.0, schedule="part_time"),
        posting("g", offers=[Offer("lift")], work_mode="hybrid"),
    ]
    r = ranker(postings)
    for s in [
        seeker(needs=[Need("lift", True)]),
        seeker(schedule="part_time"),
        seeker(work_modes={"remote", "on_site"}, lat=31.0, lon=121.01, commute_limit_km=20),
        seeker(needs=[Need("sign_language", True)]),
        seeker(),
    ]:
        expected = {p.id for p in postings if not violations(s, p, NOW)}
        assert set(ids(r.rank(s, k=100, now=NOW))) == expected


def test_preferred_needs_and_skills_raise_the_score() -> None:
    postings = [
        posting("plain", title="数据录入员"),
        posting("kind", title="数据录入员", offers=[Offer("quiet_space")]),
    ]
    s = seeker(needs=[Need("quiet_space")])
    assert ids(ranker(postings).rank(s, k=2, now=NOW)) == ["kind", "plain"]
    postings = [
        posting("sql", title="数据录入员", required_skills=["SQL"]),
        posting("excel", title="数据录入员", required_skills=["Excel"]),
    ]
    assert ids(ranker(postings).rank(seeker(skills=["excel"]), k=2, now=NOW))[0] == "excel"


def test_rank_and_rank_many_agree() -> None:
    r = ranker(block_size=2)
    seekers = [
        seeker("a", text="数据录入"),
        seeker("b", text="python developer"),
        seeker("c", text="cleaning offices 保洁"),
        seeker("d", text=""),
    ]
    many = r.rank_many(seekers, k=4, now=NOW)
    for s, batch in zip(seekers, many, strict=True):
        single = r.rank(s, k=4, now=NOW)
        assert ids(single) == ids(batch)
        assert [m.score for m in single] == pytest.approx([m.score for m in batch])


def test_incremental_updates_match_a_full_refit() -> None:
    docs = corpus()
    r = ranker(docs[:3])
    for p in docs[3:]:
        r.add_or_update(p)
    r.add_or_update(posting("zh-store", title="保安", text="夜间巡逻"))
    assert r.remove("en-clean") is True
    assert r.remove("missing") is False
    assert len(r) == len(docs) - 1
    s = seeker(text="python developer")
    assert ids(r.rank(s, k=10, now=NOW))[0] == "en-dev"
    assert "en-clean" not in ids(r.rank(s, k=10, now=NOW))
    assert ids(r.rank(seeker(text="夜间巡逻 保安"), k=1, now=NOW)) == ["zh-store"]
    assert len(r.postings_) == r.embeddings_.shape[0] == len(docs) - 1
    r.add_or_update(posting("new", title="盲文校对员", text="校对盲文读物"))
    assert ids(r.rank(seeker(text="盲文校对"), k=1, now=NOW)) == ["new"]


def test_many_updates_compact_without_changing_results() -> None:
    r = ranker([posting(f"p{i}", title=f"岗位{i}", text="数据录入") for i in range(10)])
    for i in range(300):
        r.add_or_update(posting(f"n{i}", title=f"新岗位{i}", text="仓库管理"))
    for i in range(0, 300, 2):
        r.remove(f"n{i}")
    assert len(r) == 160
    top = r.rank(seeker(text="仓库管理"), k=200, now=NOW)
    assert len(top) == 160


def test_precomputed_embeddings_are_used() -> None:
    enc = HashingEncoder(dim=64)
    vec = enc.encode_passages(["python developer"])[0]
    docs = [posting("x", title="保洁员", text="打扫卫生", embedding=vec), posting("y")]
    r = Ranker(enc).fit(docs)
    assert np.allclose(r.embeddings_[0], vec)
    with pytest.raises(MatcherError, match="width"):
        Ranker(enc).fit([posting("z", embedding=np.ones(3, dtype=np.float32)), posting("w")])


def test_bad_input_is_handled() -> None:
    with pytest.raises(NotFittedError):
        Ranker(HashingEncoder()).rank(seeker(), now=NOW)
    empty = Ranker(HashingEncoder()).fit([])
    assert empty.rank(seeker(), k=5, now=NOW) == []
    grown = Ranker(HashingEncoder()).fit([])  # a service started on an empty database
    grown.add_or_update(posting("first"))  # its lexical sample is still empty
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" or division by zero
        assert [m.id for m in grown.rank(seeker(), k=5, now=NOW)] == ["first"]
        assert [[m.id for m in ms] for ms in grown.rank_many([seeker()], k=5, now=NOW)] == [
            ["first"]
        ]
    r = ranker()
    assert len(r.rank(seeker(text="", skills=[], desired_roles=[]), k=3, now=NOW)) == 3
    assert len(r.rank(seeker(text="数据" * 50_000), k=100, now=NOW)) == len(corpus())
    assert r.rank(seeker(text="%%% 123"), k=0, now=NOW) == []
    assert r.rank_many([], now=NOW) == []
    with pytest.raises(MatcherError):
        r.rank(seeker(), now=NOW.replace(tzinfo=None))
    with pytest.raises(MatcherError):
        ranker([posting("a"), posting("a")])
    with pytest.raises(MatcherError):
        FusionWeights(dense_zh=1.5)


def test_candidate_pool_smaller_than_corpus_still_returns_k() -> None:
    r = ranker(candidates=2)
    assert len(r.rank(seeker(), k=2, now=NOW)) == 2


def test_explanations_in_chinese_and_english() -> None:
    p = posting(
        "p",
        required_skills=["Excel", "SQL"],
        offers=[Offer("lift"), Offer("job_coach", "arrangeable")],
        lat=31.0,
        lon=121.0,
    )
    labels = {"lift": {"zh": "无障碍电梯", "en": "lift"}, "job_coach": {"zh": "就业辅导员"}}
    r = Ranker(HashingEncoder(), labels=labels).fit([p])
    needs = [Need("lift", True), Need("job_coach"), Need("quiet_space")]
    zh = r.rank(seeker(skills=["excel"], needs=needs, lat=31.01, lon=121.0), now=NOW)[0]
    e = zh.explanation
    assert (e.matched_skills, e.missing_skills) == (["Excel"], ["SQL"])
    assert (e.needs_met, e.needs_arrangeable, e.needs_unmet) == (
        ["lift"],
        ["job_coach"],
        ["quiet_space"],
    )
    assert e.distance_km == pytest.approx(1.1, abs=0.05)
    assert "无障碍电梯" in e.text and "就业辅导员" in e.text and "SQL" in e.text
    assert "公里" in e.text
    en = r.rank(seeker(skills=["excel"], needs=needs, language="en"), now=NOW)[0]
    assert en.explanation.text.startswith("Shown mainly because")
    assert "Skills still missing: SQL." in en.explanation.text
    assert "Not offered: quiet_space." in en.explanation.text


def test_candidate_ranker_is_pseudonymous_and_filters() -> None:
    seekers = [
        seeker("s-data", text="数据录入 Excel", needs=[Need("lift", True), Need("braille")]),
        seeker("s-dev", text="python developer", language="en", needs=[Need("quiet_space")]),
        seeker("s-blocked", text="数据录入", needs=[Need("sign_language", True)]),
    ]
    cr = CandidateRanker(HashingEncoder()).fit(seekers)
    p = posting("p", offers=[Offer("lift"), Offer("quiet_space", "arrangeable")])
    out = cr.rank(p, k=10, now=NOW, language="zh")
    assert [m.id for m in out] == ["s-data", "s-dev"]
    first = out[0].explanation
    assert first.needs_met == ["lift"]
    assert first.needs_unmet == []  # "braille" is not the employer's business
    assert "数据录入 Excel" not in first.text
    cr.add_or_update(seeker("s-new", text="数据录入员 Excel 表格"))
    assert cr.remove("s-dev") is True
    assert "s-new" in [m.id for m in cr.rank(p, now=NOW)]
    with pytest.raises(NotFittedError):
        CandidateRanker(HashingEncoder()).rank(p, now=NOW)


def test_posting_text_holds_title_text_and_skills() -> None:
    p = posting("p", title="T", text="body", required_skills=["Excel"], optional_skills=["SQL"])
    assert posting_text(p) == "T body Excel SQL"


def test_vectorised_scores_agree_with_the_scalar_pair_scores() -> None:
    rng = np.random.default_rng(7)
    skills = ["Excel", "SQL", "打字", "Python", "沟通"]
    codes = ["lift", "quiet_space", "job_coach"]
    postings = [
        posting(
            f"p{i}",
            title=["数据录入员", "仓库管理员", "data clerk", "客服"][i % 4],
            required_skills=list(rng.choice(skills, size=int(rng.integers(0, 3)), replace=False)),
            optional_skills=list(rng.choice(skills, size=int(rng.integers(0, 2)), replace=False)),
            offers=[
                Offer(str(c), "available" if rng.random() < 0.5 else "arrangeable")
                for c in rng.choice(codes, size=int(rng.integers(0, 3)), replace=False)
            ],
            work_mode=["on_site", "hybrid", "remote"][i % 3],
            lat=31.0 + float(rng.normal(0, 0.05)) if i % 5 else None,
            lon=121.0 + float(rng.normal(0, 0.05)) if i % 5 else None,
            centre_code="c1" if i % 2 else "c2",
            wage_max=int(rng.integers(2000, 8000)) if i % 3 else None,
            posted_at=NOW - timedelta(days=int(rng.integers(0, 60))) if i % 4 else None,
        )
        for i in range(40)
    ]
    r = ranker(postings, candidates=15)
    s = seeker(
        skills=["excel", "打字"],
        needs=[Need("lift"), Need("quiet_space")],
        lat=31.0,
        lon=121.0,
        commute_limit_km=8,
        centre_code="c1",
        expected_wage=5000,
    )
    matches = r.rank(s, k=40, now=NOW)
    assert len(matches) == 15
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert {m.id for m in matches} <= {p.id for p in postings if not violations(s, p, NOW)}


def test_stored_seeker_embeddings_are_used() -> None:
    enc = HashingEncoder(dim=512)
    r = Ranker(enc).fit(corpus())
    vec = enc.encode_queries(["python developer"])[0]
    top = r.rank(seeker(text="仓库", embedding=vec), k=6, now=NOW)
    assert top[0].signals["dense"] == pytest.approx(
        float(r.embeddings_[[p.id for p in r.postings_].index(top[0].id)] @ vec), abs=1e-5
    )


def test_posted_after_ranks_only_newer_postings_with_unchanged_scores() -> None:
    postings = [
        posting(
            f"p{i}",
            title=["数据录入员", "Data entry clerk", "仓库管理员"][i % 3],
            posted_at=None if i == 5 else NOW - timedelta(days=i),
        )
        for i in range(9)
    ]
    r = ranker(postings)
    s = seeker(text="数据录入 data entry")
    full = {m.id: m.score for m in r.rank(s, k=100, now=NOW)}
    newer = r.rank(s, k=100, now=NOW, posted_after=NOW - timedelta(days=3, hours=1))
    assert set(ids(newer)) == {"p0", "p1", "p2", "p3"}  # p5 has no posting date: left out
    for m in newer:
        assert m.score == pytest.approx(full[m.id])
    many = r.rank_many([s, seeker("s2", text="仓库")], k=2, now=NOW, posted_after=NOW)
    assert many == [[], []]
    with pytest.raises(MatcherError):
        r.rank(s, now=NOW, posted_after=NOW.replace(tzinfo=None))
