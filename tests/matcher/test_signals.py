from datetime import timedelta

import numpy as np
import pytest
import scipy.sparse as sp
from matcher_factories import NOW, posting, seeker

from matcher import HashingEncoder, Need, Offer
from matcher.lexical import BM25, CharTfidf
from matcher.signals import (
    dense_similarity,
    freshness,
    haversine_km,
    location_fit,
    mode_schedule_fit,
    needs_fit,
    skill_coverage,
    wage_fit,
)
from matcher.text import cjk_share, detect_language, language_pair, normalise


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("数据录入员，熟悉办公软件", "zh"),
        ("Data entry clerk with Excel", "en"),
        ("Java开发工程师", "zh"),
        ("Senior Java developer 北京", "en"),
        ("12345 !!", "unknown"),
        ("", "unknown"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_cjk_share_and_pairs() -> None:
    assert cjk_share("数据abcd") == pytest.approx(2 / 6)
    assert language_pair("zh", "zh") == "zh-zh"
    assert language_pair("en", "en") == "en-en"
    assert language_pair("zh", "en") == "mixed"
    assert language_pair("unknown", "unknown") == "mixed"


def test_normalise_folds_full_width_case_and_spaces() -> None:
    assert normalise("  ＥＸＣＥＬ　表格  ") == "excel 表格"


@pytest.mark.parametrize(
    ("query", "near", "far"),
    [
        ("数据录入", "负责数据录入工作", "仓库搬运装卸"),
        ("data entry", "data entry clerk", "forklift driver"),
        ("Excel 数据录入", "会用Excel做数据录入", "forklift driver"),
    ],
)
def test_dense_similarity_range_and_order(query: str, near: str, far: str) -> None:
    enc = HashingEncoder()
    scores = dense_similarity(enc.encode_queries([query])[0], enc.encode_passages([near, far]))
    assert scores.shape == (2,)
    assert np.all((scores >= 0) & (scores <= 1))
    assert scores[0] > scores[1]


@pytest.mark.parametrize(
    ("query", "best"),
    [("数据录入", 0), ("data entry", 1), ("数据 entry", 2)],
)
def test_lexical_tfidf_in_chinese_english_and_mixed(query: str, best: int) -> None:
    docs = ["负责数据录入和核对", "data entry clerk", "数据 entry 专员", "仓库管理 warehouse"]
    tfidf = CharTfidf().fit(docs)
    scores = (tfidf.transform(docs) @ tfidf.transform([query]).T).toarray().ravel()
    assert np.all((scores >= 0) & (scores <= 1 + 1e-6))
    assert int(np.argmax(scores)) == best


def test_lexical_empty_texts_do_not_break() -> None:
    tfidf = CharTfidf().fit(["", "  "])
    assert tfidf.transform([""]).nnz == 0


_WORDS = ["java", "开发", "工程师", "客服", "data entry", "仓库 管理", "ＡＢＣ", "手语", "a", "ab",
          "abc", "x\ty  z", "Excel表格", "\u00a0nbsp\u2003em", "😀emoji", "\x00nul", "İstanbul",
          "\ud800lone"]  # fmt: skip


@pytest.mark.parametrize("rows", [5, 300])  # one chunk, and chunks over the cores
def test_lexical_compiled_transform_equals_scikit_learn(rows: int) -> None:
    rng = np.random.default_rng(rows)

    def text() -> str:
        return " ".join(rng.choice(_WORDS, size=int(rng.integers(0, 25))))

    tfidf = CharTfidf().fit([text() for _ in range(200)])
    assert tfidf.table_ is not None
    texts = [text() for _ in range(rows)] + ["", "   ", "完全未知", "zzzz qqq", "a" * 5000]
    ours = tfidf.transform(texts)
    assert tfidf.vectorizer_ is not None
    ref = sp.csr_matrix(tfidf.vectorizer_.transform(texts), dtype=np.float32)
    ref.sort_indices()
    assert ours.has_sorted_indices
    np.testing.assert_array_equal(ours.indptr, ref.indptr)
    np.testing.assert_array_equal(ours.indices, ref.indices)
    np.testing.assert_allclose(ours.data, ref.data, rtol=1e-6, atol=1e-7)


def test_lexical_wider_ngrams_fall_back_to_scikit_learn() -> None:
    tfidf = CharTfidf(ngram_range=(2, 5)).fit(["数据录入员", "warehouse keeper"])
    assert tfidf.table_ is None
    assert tfidf.transform(["warehouse"]).nnz > 0


def test_bm25_prefers_the_matching_document() -> None:
    bm25 = BM25().fit(["数据录入员", "warehouse keeper", "data entry"])
    assert int(np.argmax(bm25.score(["数据录入"])[0])) == 0
    assert int(np.argmax(bm25.score(["data entry clerk"])[0])) == 2


def test_skill_coverage_tolerates_case_width_spacing_and_spelling() -> None:
    cov = skill_coverage(
        ["ＥＸＣＥＬ", "power point", "Pythn", "办公软件"],
        required=["Excel", "PowerPoint", "Python", "SQL"],
        optional=["办公 软件", "驾驶"],
    )
    assert cov is not None
    assert cov.matched == ["Excel", "PowerPoint", "Python", "办公 软件"]
    assert cov.missing == ["SQL"]
    assert cov.score == pytest.approx(0.8 * 3 / 4 + 0.2 * 1 / 2)


def test_skill_coverage_reads_the_seeker_text_and_none_without_skills() -> None:
    cov = skill_coverage([], ["数据录入"], seeker_text="三年数据录入经验")
    assert cov is not None and cov.score == 1.0
    assert skill_coverage(["Excel"], [], []) is None
    short = skill_coverage(["Excel"], ["C"])
    assert short is not None and short.missing == ["C"]


def test_needs_fit_counts_arrangeable_half() -> None:
    fit = needs_fit(
        [Need("lift", True), Need("job_coach"), Need("quiet_space")],
        [Offer("lift"), Offer("job_coach", "arrangeable")],
    )
    assert fit is not None
    assert fit.met == ["lift"]
    assert fit.arrangeable == ["job_coach"]
    assert fit.unmet_preferred == ["quiet_space"]
    assert fit.score == pytest.approx(1.5 / 3)
    assert needs_fit([], [Offer("lift")]) is None


def test_location_fit_distance_and_codes() -> None:
    assert haversine_km(31.0, 121.0, 31.0, 121.0) == 0.0
    assert haversine_km(31.0, 121.0, 32.0, 121.0) == pytest.approx(111.2, abs=0.5)
    near = location_fit(
        seeker(lat=31.0, lon=121.0, commute_limit_km=10), posting(lat=31.045, lon=121.0)
    )
    assert near == pytest.approx(0.5, abs=0.01)
    far = location_fit(seeker(lat=31.0, lon=121.0, commute_limit_km=10), posting(lat=32, lon=121))
    assert far == 0.0
    assert location_fit(seeker(), posting(work_mode="remote")) == 1.0
    assert location_fit(seeker(street_code="s1"), posting(street_code="s1")) == 1.0
    assert location_fit(seeker(centre_code="c1"), posting(centre_code="c1")) == 0.7
    assert location_fit(seeker(), posting()) is None


def test_mode_schedule_wage_and_freshness() -> None:
    assert mode_schedule_fit(seeker(schedule="part_time"), posting(schedule="part_time")) == 1.0
    assert mode_schedule_fit(seeker(schedule="part_time"), posting(schedule="flexible")) == 0.75
    assert mode_schedule_fit(seeker(schedule="part_time"), posting(schedule="full_time")) == 0.0
    assert mode_schedule_fit(seeker(work_modes={"remote"}), posting(work_mode="on_site")) == 0.0
    assert wage_fit(5000, 4000, 6000) == 1.0
    assert wage_fit(5000, 3000, 4000) == pytest.approx(0.64)
    assert wage_fit(None, 3000, 4000) is None
    assert wage_fit(5000, None, None) is None
    assert freshness(NOW, NOW) == 1.0
    assert freshness(NOW - timedelta(days=30), NOW) == pytest.approx(0.5)
    assert freshness(None, NOW) is None
