import json
import math
from pathlib import Path

import pytest

from api.eval_command import eval_command
from matcher.evaluation import (
    average_precision_at,
    evaluate,
    mrr_at,
    ndcg_at,
    recall_at,
)


def test_metrics_on_a_hand_made_ranking() -> None:
    gains = {"a": 2.0, "b": 1.0, "z": 0.0}
    ranked = ["x", "a", "y", "b"]
    dcg = 3 / math.log2(3) + 1 / math.log2(5)
    idcg = 3 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranked, gains) == pytest.approx(dcg / idcg)
    assert ndcg_at(["a", "b"], gains) == pytest.approx(1.0)
    assert mrr_at(ranked, gains) == 0.5
    assert recall_at(ranked, gains, 2) == 0.5
    assert recall_at(ranked, gains, 10) == 1.0
    assert average_precision_at(ranked, gains) == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert ndcg_at(["a"], {}) == 0.0


def test_evaluate_averages_over_judged_queries() -> None:
    qrels = {"q1": {"a": 1.0}, "q2": {"b": 1.0}, "q3": {"c": 0.0}}
    out = evaluate({"q1": ["a"], "q2": ["x"]}, qrels)
    assert out["mrr@10"] == 0.5
    assert out["recall@100"] == 0.5


def _write_set(folder: Path) -> None:
    folder.mkdir()
    (folder / "queries.tsv").write_text(
        "id\ttext\nq1\t数据录入员\nq2\tpython developer\n", encoding="utf-8"
    )
    (folder / "corpus.tsv").write_text(
        "id\ttext\nd1\t数据录入与核对\nd2\tbackend python developer\nd3\t仓库管理员\n",
        encoding="utf-8",
    )
    (folder / "qrels.tsv").write_text("q1 0 d1 1\nq2 0 d2 1\n", encoding="utf-8")


def test_eval_command_prints_one_line_per_ranker_and_writes_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "tiny"
    _write_set(folder)
    run = tmp_path / "run.txt"
    eval_command(folder, run_out=run, model="hashing")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["ranker"] == "product"
    assert {"tfidf-char1-3", "bm25-char1-3", "dense-hashing:256"} <= {x["ranker"] for x in lines}
    for line in lines:
        assert line["set"] == "tiny" and line["queries"] == 2
        assert set(line) >= {"ndcg@10", "mrr@10", "recall@10", "recall@100", "map@100"}
    assert lines[0]["mrr@10"] == 1.0
    rows = [r.split() for r in run.read_text().splitlines()]
    assert rows[0][:4] == ["q1", "Q0", "d1", "1"] and rows[0][5] == "jobmatch"
    assert len(rows) == 6
