"""Small factories for matcher tests (plain data, no shared state)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from matcher import HashingEncoder, PostingDoc, SeekerDoc
from matcher.ranker import Ranker

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def posting(id: str = "p1", **kw: Any) -> PostingDoc:
    """A posting with plain defaults."""
    kw.setdefault("title", "数据录入员")
    kw.setdefault("text", "负责 Excel 数据录入与核对")
    return PostingDoc(id=id, **kw)


def seeker(id: str = "s1", **kw: Any) -> SeekerDoc:
    """A seeker with plain defaults."""
    kw.setdefault("text", "熟悉 Excel，做过数据录入")
    return SeekerDoc(id=id, **kw)


def corpus() -> list[PostingDoc]:
    """A small mixed Chinese/English corpus."""
    return [
        posting("zh-data", title="数据录入员", text="负责Excel表格数据录入和核对"),
        posting("zh-store", title="仓库管理员", text="负责库存盘点、出入库登记"),
        posting("zh-cs", title="在线客服", text="通过文字回复客户咨询，无需接听电话"),
        posting("en-dev", title="Python developer", text="Build backend services with Django"),
        posting("en-clean", title="Office cleaner", text="Clean offices and meeting rooms"),
        posting("mix-data", title="Data entry 数据录入", text="Enter data into Excel spreadsheets"),
    ]


def ranker(postings: list[PostingDoc] | None = None, **kw: Any) -> Ranker:
    """A Ranker on the hashing encoder, fitted on ``postings`` (default: ``corpus()``)."""
    return Ranker(HashingEncoder(dim=512), **kw).fit(corpus() if postings is None else postings)
