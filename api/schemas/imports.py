"""Shapes of the posting import report."""

from typing import Literal

from pydantic import BaseModel


class ImportRowError(BaseModel):
    field: str
    reason: str


class ImportRowOut(BaseModel):
    """One row of the file: what was (or, in a dry run, would be) done with it."""

    row: int
    external_id: str
    outcome: Literal["created", "updated", "unchanged", "refused"]
    posting_id: int | None
    errors: list[ImportRowError]


class ImportReportOut(BaseModel):
    """The counts of a run and its rows (at most `report_limit`, in file order)."""

    source: str
    mode: Literal["file", "row"]
    dry_run: bool
    applied: bool
    format: Literal["csv", "jsonl"]
    encoding: Literal["utf-8", "gb18030"]
    rows_total: int
    created: int
    updated: int
    unchanged: int
    refused: int
    rows: list[ImportRowOut]
    rows_truncated: bool
