"""The batch path of ``Ranker.rank_many`` agrees with the per-seeker reference path."""

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from matcher_factories import NOW, posting, seeker

from matcher import HashingEncoder, Need, Offer, PostingDoc, SeekerDoc
from matcher.ranker import Ranker

SKILLS = ["Excel", "SQL", "打字", "Python", "沟通", "Photo-shop", "手语"]
CODES = ["lift", "quiet_space", "job_coach", "screen_reader"]
TITLES = ["数据录入员", "仓库管理员", "data clerk", "客服专员", "python developer", "保洁 cleaner"]


def random_postings(rng: np.random.Generator, n: int) -> list[PostingDoc]:
    return [
        posting(
            f"p{i}",
            title=TITLES[int(rng.integers(0, len(TITLES)))] + f" {i % 7}",
            text=["负责 Excel 数据录入", "warehouse stock", "回复客户咨询", ""][i % 4],
            required_skills=list(rng.choice(SKILLS, size=int(rng.integers(0, 3)), replace=False)),
            optional_skills=list(rng.choice(SKILLS, size=int(rng.integers(0, 2)), replace=False)),
            offers=[
                Offer(str(c), "available" if rng.random() < 0.5 else "arrangeable")
                for c in rng.choice(CODES, size=int(rng.integers(0, 4)), replace=False)
            ],
            work_mode=["on_site", "hybrid", "remote"][int(rng.integers(0, 3))],
            schedule=["full_time", "part_time", "flexible", "any"][int(rng.integers(0, 4))],
            lat=31.0 + float(rng.normal(0, 0.08)) if i % 5 else None,
            lon=121.0 + float(rng.normal(0, 0.08)) if i % 5 else None,
            street_code=f"s{i % 3}" if i % 2 else None,
            centre_code=f"c{i % 4}",
            wage_max=int(rng.integers(2000, 8000)) if i % 3 else None,
            posted_at=NOW - timedelta(days=int(rng.integers(0, 60))) if i % 4 else None,
            expires_at=NOW + timedelta(days=int(rng.integers(-5, 30))) if i % 6 else None,
            status="open" if i % 11 else "closed",
        )
        for i in range(n)
    ]


def random_seekers(rng: np.random.Generator, n: int) -> list[SeekerDoc]:
    out = []
    for i in range(n):
        placed = rng.random() < 0.7
        out.append(
            seeker(
                f"s{i}",
                text=["数据录入 Excel 表格", "python developer SQL", "仓库 库存", "", "手语 客服"][
                    i % 5
                ],
                skills=list(rng.choice(SKILLS, size=int(rng.integers(0, 3)), replace=False)),
                needs=[
                    Need(str(c), essential=bool(rng.random() < 0.3))
                    for c in rng.choice(
                        [*CODES, "braille"], size=int(rng.integers(0, 3)), replace=False
                    )
                ],
                work_modes=[
                    frozenset({"on_site", "hybrid", "remote"}),
                    frozenset({"remote"}),
                    frozenset({"on_site", "hybrid"}),
                ][i % 3],
                schedule=["full_time", "part_time", "flexible", "any"][int(rng.integers(0, 4))],
                lat=31.0 + float(rng.normal(0, 0.05)) if placed else None,
                lon=121.0 + float(rng.normal(0, 0.05)) if placed else None,
                commute_limit_km=float(rng.choice([3, 8, 30])) if rng.random() < 0.7 else None,
                street_code="s1" if i % 4 == 0 else None,
                centre_code="c2" if i % 3 == 0 else None,
                expected_wage=int(rng.integers(3000, 7000)) if i % 2 else None,
                language="en" if i % 2 else "zh",
            )
        )
    return out


def assert_same(fast: list, slow: list) -> None:  # type: ignore[type-arg]
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert [m.id for m in a] == [m.id for m in b]
        for x, y in zip(a, b, strict=True):
            assert x.score == pytest.approx(y.score, abs=1e-5)
            assert x.signals.keys() == y.signals.keys()
            assert x.contributions.keys() == y.contributions.keys()
            for key in x.signals:
                assert x.signals[key] == pytest.approx(y.signals[key], abs=1e-5)
            for key in x.contributions:
                assert x.contributions[key] == pytest.approx(y.contributions[key], abs=1e-5)
            assert x.explanation == y.explanation
            assert x.explanation.text == y.explanation.text


@pytest.mark.parametrize(("seed", "candidates", "block"), [(1, 1000, 7), (2, 12, 5), (3, 40, 64)])
def test_batch_path_agrees_with_the_reference_path(seed: int, candidates: int, block: int) -> None:
    rng = np.random.default_rng(seed)
    docs = random_postings(rng, 150)
    labels = {"lift": {"zh": "无障碍电梯", "en": "lift"}}
    r = Ranker(HashingEncoder(dim=64), candidates=candidates, block_size=block, labels=labels).fit(
        docs
    )
    seekers = random_seekers(rng, 40)
    assert_same(r.rank_many(seekers, k=15, now=NOW), r.rank_reference(seekers, k=15, now=NOW))
    # 20 days: about a quarter of the postings; 5 days: few enough that the batch path takes
    # its dense product against those postings only.
    for days in (20, 5):
        after = NOW - timedelta(days=days)
        assert_same(
            r.rank_many(seekers, k=15, now=NOW, posted_after=after),
            r.rank_reference(seekers, k=15, now=NOW, posted_after=after),
        )
    # After updates: side rows of the lexical matrix, freed slots, new skills and places.
    for p in random_postings(np.random.default_rng(seed + 10), 20)[::2]:
        r.add_or_update(replace(p, id=f"new-{p.id}"))
    r.add_or_update(posting("p3", title="盲文校对", required_skills=["盲文"], street_code="s9"))
    for i in range(0, 150, 9):
        r.remove(f"p{i}")
    assert_same(r.rank_many(seekers, k=15, now=NOW), r.rank_reference(seekers, k=15, now=NOW))


def test_batch_path_with_narrowed_products_and_many_offer_codes() -> None:
    """Blocks of 64 or more seekers take their dense product against only the postings some
    of them could be offered (closed, expired and wrong-schedule ones left out); seekers come
    back in the order given although ranked grouped by kind; offer codes beyond the packed
    flag bits of pool selection are read from the level matrix."""
    rng = np.random.default_rng(11)
    many = [f"code{j}" for j in range(60)]
    docs = [
        replace(p, offers=[*p.offers, *(Offer(str(c)) for c in rng.choice(many, 3, replace=False))])
        for p in random_postings(rng, 300)
    ]
    r = Ranker(HashingEncoder(dim=64), candidates=30, block_size=64).fit(docs)
    assert len(r._offer_levels()[0]) > 53  # codes past the flag bits
    seekers = [
        replace(s, needs=[*s.needs, Need(str(rng.choice(many)), essential=True)]) if i % 4 else s
        for i, s in enumerate(random_seekers(rng, 200))
    ]
    order = r.block_order(seekers)
    assert order != sorted(order)  # ranked in another order than given
    assert_same(r.rank_many(seekers, k=10, now=NOW), r.rank_reference(seekers, k=10, now=NOW))


def test_batch_path_on_a_corpus_larger_than_the_sample() -> None:
    """Enough postings that pools are chosen by the sampled threshold (n > 4096 x 2)."""
    rng = np.random.default_rng(5)
    n = 9000
    docs = [
        PostingDoc(
            id=f"p{i}",
            title=TITLES[i % len(TITLES)],
            offers=[Offer("lift")] if i % 3 else [],
            lat=31.0 + float(rng.normal(0, 0.1)),
            lon=121.0 + float(rng.normal(0, 0.1)),
            work_mode="remote" if i % 10 == 0 else "on_site",
            embedding=rng.standard_normal(32).astype(np.float32),
        )
        for i in range(n)
    ]
    r = Ranker(HashingEncoder(dim=32), candidates=200, block_size=16).fit(docs)
    seekers = [
        SeekerDoc(
            id=f"s{i}",
            text="数据录入",
            needs=[Need("lift", essential=i % 2 == 0)],
            lat=31.0,
            lon=121.0,
            commute_limit_km=[2.0, 10.0, None][i % 3],
            embedding=rng.standard_normal(32).astype(np.float32),
        )
        for i in range(24)
    ]
    assert_same(r.rank_many(seekers, k=10, now=NOW), r.rank_reference(seekers, k=10, now=NOW))


FALLBACK_SCRIPT = """
import sys

# Neither thread-safe numba threading layer can load (as on a machine without libgomp or tbb).
sys.modules["numba.np.ufunc.omppool"] = None
sys.modules["numba.np.ufunc.tbbpool"] = None
sys.path.insert(0, sys.argv[1])

import numpy as np
from test_batch import assert_same, random_postings, random_seekers
from matcher_factories import NOW

from matcher import HashingEncoder, batch
from matcher.ranker import Ranker

rng = np.random.default_rng(4)
r = Ranker(HashingEncoder(dim=64), candidates=30, block_size=32).fit(random_postings(rng, 300))
seekers = random_seekers(rng, 80)  # blocks of 32 rows: the parallel kernels' size
fast = r.rank_many(seekers, k=10, now=NOW)
assert not batch.threads_usable()
assert_same(fast, r.rank_reference(seekers, k=10, now=NOW))
print("serial fallback ok", sum(len(m) for m in fast))
"""


def test_kernels_fall_back_to_serial_without_a_threading_layer() -> None:
    """Where no thread-safe layer loads, ranking runs the serial twins instead of raising."""
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).parent
    done = subprocess.run(
        [sys.executable, "-c", FALLBACK_SCRIPT, str(here)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=here.parent.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "serial fallback ok" in done.stdout
    assert int(done.stdout.split()[-1]) > 0


def test_parallel_kernels_are_used_where_a_layer_loads() -> None:
    from matcher import batch

    assert batch.threads_usable()


def test_min_scores_filter_each_full_ranking() -> None:
    """``min_scores`` gives each seeker's full top k filtered by its minimum (a digest's)."""
    rng = np.random.default_rng(8)
    r = Ranker(HashingEncoder(dim=64), candidates=40, block_size=8).fit(random_postings(rng, 200))
    seekers = random_seekers(rng, 40)
    full = r.rank_many(seekers, k=12, now=NOW)
    scores = sorted({m.score for ms in full for m in ms})
    assert len(scores) > 20
    # Floors between and exactly at real scores, below every score and above every score.
    picks = [-1.0, 2.0, *(scores[j] for j in rng.integers(0, len(scores), 38))]
    floors = [float(x) for x in picks]
    for after in (None, NOW - timedelta(days=20)):
        want = r.rank_many(seekers, k=12, now=NOW, posted_after=after)
        assert_same(want, r.rank_reference(seekers, k=12, now=NOW, posted_after=after))
        got = r.rank_many(seekers, k=12, now=NOW, posted_after=after, min_scores=floors)
        assert_same(
            got, [[m for m in ms if m.score >= f] for ms, f in zip(want, floors, strict=True)]
        )
    kept = sum(len(ms) for ms in r.rank_many(seekers, k=12, now=NOW, min_scores=floors))
    assert 0 < kept < sum(len(ms) for ms in full)
    with pytest.raises(ValueError):
        r.rank_many(seekers, k=12, now=NOW, min_scores=[0.5])


@pytest.mark.parametrize("queries", [3, 200])  # one run, and runs over the cores
def test_sample_statistics_equal_those_of_the_full_product(queries: int) -> None:
    from matcher.batch import SampleIndex, sample_stats
    from matcher.lexical import CharTfidf, inverted

    rng = np.random.default_rng(queries)
    words = ["数据", "录入", "data", "entry", "客服", "warehouse", "手语", "Excel"]
    words += [f"{chr(0x4E00 + i)}{chr(0x5E00 + i)}q{i}" for i in range(300)]  # rare n-grams
    texts = [" ".join(rng.choice(words, size=int(rng.integers(0, 8)))) for _ in range(400)]
    tfidf = CharTfidf().fit(texts[:300])
    sample, q = tfidf.transform(texts[:300]), tfidf.transform(texts[300 : 300 + queries])
    index = SampleIndex.of(inverted(sample))
    assert 0 < index.dense.shape[0] < sample.shape[1]  # frequent n-grams dense, the rest not
    mean, std = sample_stats(index, q)
    full = np.asarray((sample @ q.T).toarray(), dtype=np.float32)
    np.testing.assert_allclose(mean, full.mean(axis=0, dtype=np.float64), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(std, full.std(axis=0, dtype=np.float64), rtol=1e-9, atol=1e-12)
    empty_mean, empty_std = sample_stats(SampleIndex.of(inverted(sample[:0])), q)
    assert np.isnan(empty_mean).all() and np.isnan(empty_std).all()
