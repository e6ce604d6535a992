"""Bulk import of postings from partner talent markets (人才市场) and employers.

A file (CSV in UTF-8 or GB18030, or JSON lines) is read as a stream, checked row by row and
applied in chunks. Every row ends as one of: created, updated (same source and external
id, something changed), unchanged (same content as the last import: nothing is written),
or refused (with the field and the reason). The file format is described in
docs/import.md.

Modes: "file" is all-or-nothing (one transaction; any refused row and nothing is written);
"row" writes every good row and skips the refused ones (the caller may commit after each
chunk). A dry run decides exactly as a real run would and writes nothing.

Embeddings are not computed here: the CLI runs the embedding machinery afterwards, the API
leaves it to the in-memory index update after the response (see api/routers/imports.py).
"""

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, delete, select

from api import uscc as uscc_check
from api.errors import InvalidInput
from api.schemas.domain import PostingIn
from api.services import audit
from models import Accommodation, Centre, Employer, Posting, PostingOffer
from models.base import OfferAvailability, PostingStatus, Role, Schedule, WorkMode, utcnow

Mode = Literal["file", "row"]
Outcome = Literal["created", "updated", "unchanged", "refused"]
Format = Literal["csv", "jsonl"]

SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
EXTERNAL_ID_MAX = 128
CHUNK_ROWS = 500
SNIFF_BYTES = 64 * 1024

# Canonical field -> accepted header names (English and Chinese), compared case-folded
# with spaces, dashes and underscores removed.
HEADERS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "id", "外部编号", "岗位编号", "编号"),
    "employer_uscc": ("employer_uscc", "uscc", "统一社会信用代码", "用人单位信用代码"),
    "title": ("title", "岗位名称", "职位名称"),
    "description": ("description", "岗位描述", "职位描述", "岗位职责"),
    "required_skills": ("required_skills", "必备技能", "技能要求"),
    "optional_skills": ("optional_skills", "加分技能", "优先技能"),
    "location_text": ("location_text", "location", "工作地点", "地点"),
    "centre": ("centre", "centre_code", "center", "服务中心", "职康中心"),
    "street": ("street", "街道"),
    "lat": ("lat", "latitude", "纬度"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "work_mode": ("work_mode", "工作方式", "办公方式"),
    "schedule": ("schedule", "工作时间", "工时"),
    "wage_min": ("wage_min", "最低月薪", "月薪下限"),
    "wage_max": ("wage_max", "最高月薪", "月薪上限"),
    "openings": ("openings", "招聘人数"),
    "expires_at": ("expires_at", "expires", "expiry", "截止日期", "有效期至"),
    "offers": ("offers", "accommodations", "无障碍支持", "可提供的便利"),
    "status": ("status", "状态"),
}
REQUIRED_HEADERS = ("external_id", "title")


def _norm_header(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.strip().lstrip("\ufeff")).casefold()


HEADER_LOOKUP = {_norm_header(alias): key for key, aliases in HEADERS.items() for alias in aliases}

WORK_MODES = {
    "on_site": WorkMode.on_site, "onsite": WorkMode.on_site, "现场": WorkMode.on_site,
    "坐班": WorkMode.on_site, "到岗": WorkMode.on_site,
    "hybrid": WorkMode.hybrid, "混合": WorkMode.hybrid, "混合办公": WorkMode.hybrid,
    "remote": WorkMode.remote, "远程": WorkMode.remote, "居家": WorkMode.remote,
    "远程办公": WorkMode.remote,
}  # fmt: skip
SCHEDULES = {
    "full_time": Schedule.full_time, "fulltime": Schedule.full_time, "全职": Schedule.full_time,
    "part_time": Schedule.part_time, "parttime": Schedule.part_time, "兼职": Schedule.part_time,
    "非全日制": Schedule.part_time,
    "flexible": Schedule.flexible, "弹性": Schedule.flexible, "灵活": Schedule.flexible,
    "any": Schedule.any, "不限": Schedule.any,
}  # fmt: skip
STATUSES = {
    "open": PostingStatus.open, "开放": PostingStatus.open, "招聘中": PostingStatus.open,
    "draft": PostingStatus.draft, "草稿": PostingStatus.draft,
}  # fmt: skip
AVAILABILITIES = {
    "available": OfferAvailability.available, "现有": OfferAvailability.available,
    "已有": OfferAvailability.available,
    "arrangeable": OfferAvailability.arrangeable, "可安排": OfferAvailability.arrangeable,
}  # fmt: skip
LIST_SPLIT = re.compile(r"[;；、|,，\n]")


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    field: str
    reason: str


@dataclass
class RowResult:
    """What happens (or would happen) to one row of the file."""

    row: int  # CSV: the spreadsheet row (the header is row 1); JSON lines: the line number
    external_id: str
    outcome: Outcome
    posting_id: int | None = None
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "external_id": self.external_id,
            "outcome": self.outcome,
            "posting_id": self.posting_id,
            "errors": [{"field": e.field, "reason": e.reason} for e in self.errors],
        }


@dataclass
class ImportReport:
    """The outcome of one import run; `rows` holds at most `row_limit` results."""

    source: str
    mode: Mode
    dry_run: bool
    format: Format
    encoding: str
    applied: bool = False
    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
    )
    rows: list[RowResult] = field(default_factory=list)
    rows_truncated: bool = False
    row_limit: int = 1000
    only_problems: bool = False
    changed_ids: list[int] = field(default_factory=list)  # created and updated postings
    listener: Callable[[RowResult], None] | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, result: RowResult) -> None:
        self.counts[result.outcome] += 1
        if self.listener is not None:
            self.listener(result)
        if self.only_problems and result.outcome != "refused":
            return
        if len(self.rows) < self.row_limit:
            self.rows.append(result)
        else:
            self.rows_truncated = True

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "format": self.format,
            "encoding": self.encoding,
            "rows_total": self.total,
            **self.counts,
        }

    def as_dict(self) -> dict[str, Any]:
        """The summary, the rows kept and whether rows were left out."""
        return {
            **self.summary(),
            "rows": [r.as_dict() for r in self.rows],
            "rows_truncated": self.rows_truncated,
        }


class ImportFileError(InvalidInput):
    """The file as a whole cannot be read (encoding, format, header, size)."""


class ImportRefused(InvalidInput):
    """A real all-or-nothing run with refused rows: nothing was written."""

    code = "import_refused"

    def __init__(self, detail: str, report: ImportReport) -> None:
        super().__init__(detail, field="file", report=report.as_dict())
        self.report = report


@dataclass(frozen=True)
class ImportActor:
    """Who imports: an admin or caseworker (any employer) or an employer's user (itself)."""

    id: int
    role: Role
    employer_id: int | None = None
    request_id: str = ""


@dataclass(frozen=True)
class ImportOptions:
    source: str
    mode: Mode = "file"
    dry_run: bool = False
    encoding: str = "auto"  # auto, utf-8, gb18030
    format: Format | None = None  # None: from the file name, else sniffed
    timezone: str = "Asia/Shanghai"
    max_rows: int = 100_000
    row_limit: int = 1000
    only_problems: bool = False
    chunk_rows: int = CHUNK_ROWS


# --- reading the file ---------------------------------------------------------------------


def check_source(source: str) -> str:
    """A source name: lower-case letters, digits, dot, dash, underscore, at most 64."""
    value = source.strip()
    if not SOURCE_RE.match(value):
        raise InvalidInput(
            "a source name is 1-64 lower-case letters, digits, '.', '-' or '_'", field="source"
        )
    return value


def detect_encoding(stream: IO[bytes], declared: str = "auto") -> str:
    """The Python codec for the stream: BOM -> utf-8-sig; else UTF-8 if every byte decodes
    as UTF-8, otherwise GB18030. Reads the whole stream once (in 64 KiB pieces) and rewinds."""
    declared = declared.strip().lower().replace("_", "-")
    start = stream.tell()
    head = stream.read(3)
    stream.seek(start)
    has_bom = head.startswith(codecs.BOM_UTF8)
    if declared in ("utf-8", "utf8"):
        return "utf-8-sig" if has_bom else "utf-8"
    if declared in ("gb18030", "gbk", "gb2312"):
        return "gb18030"  # GB18030 is a superset of GBK and GB2312
    if declared != "auto":
        raise ImportFileError(
            f"unknown encoding {declared!r}; use auto, utf-8 or gb18030", field="encoding"
        )
    if has_bom:
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while piece := stream.read(SNIFF_BYTES):
            decoder.decode(piece)
        decoder.decode(b"", final=True)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "gb18030"
    stream.seek(start)
    return encoding


def detect_format(filename: str | None, stream: IO[bytes]) -> Format:
    """csv or jsonl: from the file name's extension, else from the first non-blank byte."""
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    start = stream.tell()
    head = stream.read(1024).lstrip(codecs.BOM_UTF8).lstrip()
    stream.seek(start)
    return "jsonl" if head.startswith(b"{") else "csv"


def _decode_error(encoding: str, where: str) -> ImportFileError:
    name = "UTF-8" if encoding.startswith("utf-8") else "GB18030"
    return ImportFileError(
        f"{where}: the file is not valid {name}; save it as UTF-8 or give the encoding "
        "(utf-8 or gb18030)",
        field="file",
    )


def read_csv(text: IO[str], encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, {canonical field: cell}) per data row; the header is row 1."""
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except UnicodeDecodeError as exc:
        raise _decode_error(encoding, "row 1") from exc
    except csv.Error as exc:
        raise ImportFileError(f"row 1: not a CSV header ({exc})", field="file") from exc
    if header is None:
        raise ImportFileError("the file is empty", field="file")
    keys: list[str | None] = []
    unknown: list[str] = []
    for name in header:
        key = HEADER_LOOKUP.get(_norm_header(name))
        if key is None and name.strip():
            unknown.append(name.strip())
        if key is not None and key in keys:
            raise ImportFileError(f"column {name!r} appears twice", field="file")
        keys.append(key)
    if unknown:
        raise ImportFileError(
            f"unknown column(s): {', '.join(unknown)}; see the import format", field="file"
        )
    missing = [k for k in REQUIRED_HEADERS if k not in keys]
    if missing:
        raise ImportFileError(f"missing column(s): {', '.join(missing)}", field="file")
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise _decode_error(encoding, f"after row {number}") from exc
        except csv.Error as exc:
            raise ImportFileError(f"row {number + 1}: {exc}", field="file") from exc
        number += 1
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        record: dict[str, Any] = {}
        for i, cell in enumerate(cells):
            key = keys[i] if i < len(keys) else None
            if key is None:
                if cell.strip():
                    record.setdefault("_extra", True)
                continue
            record[key] = cell
        yield number, record


def read_jsonl(text: IO[str], encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, {canonical field: value}) per non-blank line of JSON objects."""
    number = 0
    while True:
        try:
            line = text.readline()
        except UnicodeDecodeError as exc:
            raise _decode_error(encoding, f"after line {number}") from exc
        if not line:
            return
        number += 1
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, {"_json_error": f"not valid JSON ({exc.msg})"}
            continue
        if not isinstance(value, dict):
            yield number, {"_json_error": "each line must be one JSON object"}
            continue
        record: dict[str, Any] = {}
        unknown = []
        for name, item in value.items():
            key = HEADER_LOOKUP.get(_norm_header(str(name)))
            if key is None:
                unknown.append(str(name))
            else:
                record[key] = item
        if unknown:
            record["_unknown"] = unknown
        yield number, record


def read_records(
    stream: IO[bytes], fmt: Format, encoding: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream the rows of the file (bounded memory: one row at a time)."""
    text = io.TextIOWrapper(stream, encoding=encoding, newline="" if fmt == "csv" else None)
    try:
        if fmt == "csv":
            yield from read_csv(text, encoding)
        else:
            yield from read_jsonl(text, encoding)
    finally:
        text.detach()  # the caller owns the binary stream


# --- checking one row ---------------------------------------------------------------------


@dataclass
class Candidate:
    """A row that passed the checks that need no database."""

    row: int
    external_id: str
    data: PostingIn
    uscc: str
    centre: str
    street: str
    digest: str = ""
    employer_id: int = 0
    centre_id: int | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | int | float):
        return str(value)
    raise ValueError("must be text")


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [_text(v) for v in value]
    return [p for p in (s.strip() for s in LIST_SPLIT.split(_text(value))) if p]


def _choice(value: Any, table: dict[str, Any], what: str) -> Any:
    text = _text(value)
    found = table.get(text.casefold().replace("-", "_").replace(" ", "_"))
    if found is None:
        options = ", ".join(sorted({v.value for v in table.values()}))
        raise ValueError(f"unknown {what} {text!r}; use one of {options}")
    return found


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        return value
    text = _text(value).replace(",", "").replace("，", "")
    if not re.fullmatch(r"[+-]?\d{1,12}", text):
        raise ValueError("must be a whole number")
    return int(text)


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, int | float):
        return float(value)
    try:
        number = float(_text(value))
    except ValueError:
        raise ValueError("must be a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("must be a number")
    return number


def _expiry(value: Any, zone: ZoneInfo) -> datetime:
    """A date (the end of that day, local time) or a date and time (local unless zoned)."""
    text = _text(value)
    try:
        if re.fullmatch(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}", text):
            day = date(*(int(p) for p in re.split(r"[-/]", text)))
            return datetime.combine(day, time(23, 59, 59), zone).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not a date (YYYY-MM-DD) or date and time (ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _offers(value: Any) -> list[dict[str, str]]:
    items: list[Any] = value if isinstance(value, list) else _list(value)
    out = []
    for item in items:
        if isinstance(item, dict):
            code = _text(item.get("code"))
            availability = _text(item.get("availability") or "available")
        else:
            code, _, availability = _text(item).partition(":")
            if not availability:
                code, _, availability = code.partition("：")
        avail = _choice(availability or "available", AVAILABILITIES, "availability")
        out.append({"code": code.strip(), "availability": avail.value})
    return out


def _content_hash(data: PostingIn, employer_id: int, centre_id: int | None) -> str:
    payload = data.model_dump(mode="json", exclude={"employer_id"})
    payload["offers"] = sorted(payload["offers"], key=lambda o: o["code"])
    payload["employer_id"] = employer_id
    payload["centre_id"] = centre_id
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


CONVERTERS: dict[str, Callable[[Any, ZoneInfo], Any]] = {
    "title": lambda v, _z: _text(v),
    "description": lambda v, _z: _text(v),
    "required_skills": lambda v, _z: _list(v),
    "optional_skills": lambda v, _z: _list(v),
    "location_text": lambda v, _z: _text(v),
    "lat": lambda v, _z: _float(v),
    "lon": lambda v, _z: _float(v),
    "work_mode": lambda v, _z: _choice(v, WORK_MODES, "work mode"),
    "schedule": lambda v, _z: _choice(v, SCHEDULES, "schedule"),
    "wage_min": lambda v, _z: _int(v),
    "wage_max": lambda v, _z: _int(v),
    "openings": lambda v, _z: _int(v),
    "expires_at": _expiry,
    "offers": lambda v, _z: _offers(v),
    "status": lambda v, _z: _choice(v, STATUSES, "status"),
}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def check_row(
    number: int, record: dict[str, Any], zone: ZoneInfo, now: datetime
) -> Candidate | RowResult:
    """The row as a posting to write, or a refusal naming every problem found."""
    errors: list[RowError] = []
    try:
        external_id = _text(record.get("external_id"))
    except ValueError:
        external_id = ""
    if "_json_error" in record:
        return RowResult(number, "", "refused", errors=[RowError("row", record["_json_error"])])
    if record.get("_unknown"):
        names = ", ".join(record["_unknown"])
        errors.append(RowError("row", f"unknown field(s): {names}"))
    if record.get("_extra"):
        errors.append(RowError("row", "more cells than the header has columns"))
    if not external_id:
        errors.append(RowError("external_id", "required"))
    elif len(external_id) > EXTERNAL_ID_MAX or any(ord(c) < 32 for c in external_id):
        errors.append(
            RowError("external_id", f"at most {EXTERNAL_ID_MAX} characters, no control chars")
        )
    values: dict[str, Any] = {}
    for key, convert in CONVERTERS.items():
        raw = record.get(key)
        if _blank(raw):
            continue
        try:
            values[key] = convert(raw, zone)
        except ValueError as exc:
            errors.append(RowError(key, str(exc)))
    if ("lat" in values) != ("lon" in values) and not any(
        e.field in ("lat", "lon") for e in errors
    ):
        errors.append(RowError("lat" if "lat" not in values else "lon", "give both lat and lon"))
    if "expires_at" in values and values["expires_at"] <= now:
        errors.append(RowError("expires_at", "is in the past"))
    uscc = ""
    try:
        uscc = _text(record.get("employer_uscc")).upper()
        centre = _text(record.get("centre")).lower()
        street = _text(record.get("street"))
    except ValueError as exc:
        errors.append(RowError("employer_uscc", str(exc)))
        centre = street = ""
    if uscc and not uscc_check.is_valid(uscc):
        errors.append(
            RowError("employer_uscc", "not a valid unified social credit code (check character)")
        )
    data: PostingIn | None = None
    try:
        data = PostingIn.model_validate(values)
    except ValidationError as exc:
        for e in exc.errors():
            loc = ".".join(str(p) for p in e.get("loc", ())) or "row"
            errors.append(RowError(loc, str(e.get("msg", "invalid"))))
    if errors or data is None:
        return RowResult(number, external_id[:EXTERNAL_ID_MAX], "refused", errors=errors)
    return Candidate(number, external_id, data, uscc, centre, street)


# --- the run ------------------------------------------------------------------------------


class _Lookups:
    """Employers, centres and vocabulary codes, read once per run (employers as needed)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.codes = set(
            session.exec(select(Accommodation.code).where(col(Accommodation.active))).all()
        )
        centres = list(session.exec(select(Centre)))
        self.centres = {c.code: c.id for c in centres}
        self.streets = {c.street_zh: c.id for c in centres if c.street_zh}
        self.employers: dict[str, Employer | None] = {}

    def employer(self, code: str) -> Employer | None:
        if code not in self.employers:
            if len(self.employers) > 50_000:
                self.employers.clear()
            self.employers[code] = self.session.exec(
                select(Employer).where(Employer.uscc == code)
            ).first()
        return self.employers[code]


def _resolve(cand: Candidate, actor: ImportActor, lookups: _Lookups) -> list[RowError]:
    """Employer (by credit code, within the actor's rights), centre and vocabulary codes."""
    errors: list[RowError] = []
    if not cand.uscc:
        if actor.role == Role.employer and actor.employer_id is not None:
            employer_id: int | None = actor.employer_id
        else:
            return [RowError("employer_uscc", "required")]
        employer = lookups.session.get(Employer, employer_id)
    else:
        employer = lookups.employer(cand.uscc)
    if employer is None:
        errors.append(
            RowError("employer_uscc", "no employer with this credit code; register it first")
        )
    elif actor.role == Role.employer and employer.id != actor.employer_id:
        errors.append(RowError("employer_uscc", "you may import only for your own organisation"))
    elif employer.closed_at is not None:
        errors.append(RowError("employer_uscc", "this employer is closed"))
    else:
        cand.employer_id = employer.id or 0
        cand.centre_id = employer.centre_id
    if cand.centre:
        if cand.centre not in lookups.centres:
            errors.append(RowError("centre", f"unknown centre code {cand.centre!r}"))
        else:
            cand.centre_id = lookups.centres[cand.centre]
    elif cand.street:
        if cand.street not in lookups.streets:
            errors.append(RowError("street", f"unknown street {cand.street!r}"))
        else:
            cand.centre_id = lookups.streets[cand.street]
    for i, offer in enumerate(cand.data.offers):
        if offer.code not in lookups.codes:
            errors.append(RowError(f"offers.{i}", f"unknown accommodation code {offer.code!r}"))
    if not errors:
        cand.digest = _content_hash(cand.data, cand.employer_id, cand.centre_id)
    return errors


def _decide(cand: Candidate, existing: Posting | None) -> tuple[Outcome, list[RowError]]:
    if existing is None:
        return "created", []
    if existing.employer_id != cand.employer_id:
        return "refused", [
            RowError("external_id", "this external id belongs to another employer's posting")
        ]
    if existing.import_hash == cand.digest:
        return "unchanged", []
    if existing.status in (PostingStatus.closed, PostingStatus.filled):
        return "refused", [
            RowError("external_id", f"the posting is {existing.status.value}; it cannot change")
        ]
    if existing.imported_version is not None and existing.version != existing.imported_version:
        return "refused", [
            RowError(
                "external_id",
                "the posting was edited in the app since the last import "
                f"(version {existing.version}, imported as {existing.imported_version}); "
                "the import does not overwrite it",
            )
        ]
    return "updated", []


def _fields(cand: Candidate) -> dict[str, Any]:
    values = cand.data.model_dump(exclude={"offers", "employer_id"})
    values["centre_id"] = cand.centre_id
    values["employer_id"] = cand.employer_id
    return values


def _write(
    session: Session, source: str, planned: list[tuple[Candidate, Posting | None, Outcome]]
) -> dict[str, int]:
    """Create (one multi-row INSERT) and update (through the ORM, so the version check holds)
    the planned rows with their offers; external id -> posting id."""
    now = utcnow()
    created = [cand for cand, _, outcome in planned if outcome == "created"]
    ids: dict[str, int] = {}
    if created:
        values = [
            {
                **_fields(cand),
                "source": source,
                "external_id": cand.external_id,
                "import_hash": cand.digest,
                "version": 1,
                "imported_version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for cand in created
        ]
        new_ids = session.scalars(
            insert(Posting).returning(col(Posting.id), sort_by_parameter_order=True), values
        ).all()
        ids.update({c.external_id: pid or 0 for c, pid in zip(created, new_ids, strict=True)})
    updated: list[tuple[Candidate, Posting]] = []
    for cand, existing, outcome in planned:
        if outcome == "updated" and existing is not None:
            for key, value in _fields(cand).items():
                setattr(existing, key, value)
            existing.updated_at = now
            existing.import_hash = cand.digest
            existing.imported_version = existing.version + 1  # the bump this flush makes
            session.add(existing)
            updated.append((cand, existing))
            ids[cand.external_id] = existing.id or 0
    if updated:
        session.flush()
        session.execute(
            delete(PostingOffer).where(col(PostingOffer.posting_id).in_([p.id for _, p in updated]))
        )
    offers = [
        {"posting_id": ids[cand.external_id], "code": o.code, "availability": o.availability}
        for cand in [*created, *(c for c, _ in updated)]
        for o in cand.data.offers
    ]
    if offers:
        session.execute(insert(PostingOffer), offers)
    session.flush()
    forget_postings(session)
    return ids


def forget_postings(session: Session) -> None:
    """Bounded memory: the session keeps no posting or offer rows between chunks."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Posting | PostingOffer):
            session.expunge(obj)


class _Run:
    def __init__(
        self,
        session: Session,
        actor: ImportActor,
        options: ImportOptions,
        report: ImportReport,
        checkpoint: Callable[[], None] | None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.options = options
        self.report = report
        self.checkpoint = checkpoint
        self.lookups = _Lookups(session)
        self.seen: dict[str, int] = {}
        self.refused_any = False

    def chunk(self, items: list[Candidate | RowResult]) -> None:
        results: dict[int, RowResult] = {}
        candidates: list[Candidate] = []
        for item in items:
            if isinstance(item, RowResult):
                results[item.row] = item
                continue
            errors = _resolve(item, self.actor, self.lookups)
            if errors:
                results[item.row] = RowResult(item.row, item.external_id, "refused", errors=errors)
            else:
                candidates.append(item)
        planned = self._plan(candidates, results)
        writing = not self.options.dry_run and not (
            self.options.mode == "file" and (self.refused_any or results_refused(results))
        )
        if writing and any(o != "unchanged" for _, _, o in planned):
            ids = self._write(planned, results)
            for cand, _, outcome in planned:
                if outcome in ("created", "updated") and cand.row not in results:
                    pid = ids.get(cand.external_id)
                    results[cand.row] = RowResult(cand.row, cand.external_id, outcome, pid)
                    if pid:
                        self.report.changed_ids.append(pid)
        for cand, existing, outcome in planned:
            if cand.row not in results:
                pid = existing.id if existing is not None else None
                results[cand.row] = RowResult(cand.row, cand.external_id, outcome, pid)
        for row in sorted(results):
            result = results[row]
            if result.outcome == "refused":
                self.refused_any = True
            self.report.add(result)
        forget_postings(self.session)
        if writing and self.options.mode == "row" and self.checkpoint is not None:
            self.checkpoint()

    def _plan(
        self, candidates: list[Candidate], results: dict[int, RowResult]
    ) -> list[tuple[Candidate, Posting | None, Outcome]]:
        ids = [c.external_id for c in candidates]
        existing = {
            p.external_id: p
            for p in self.session.exec(
                select(Posting).where(
                    Posting.source == self.options.source, col(Posting.external_id).in_(ids)
                )
            )
        }
        planned: list[tuple[Candidate, Posting | None, Outcome]] = []
        for cand in candidates:
            found = existing.get(cand.external_id)
            outcome, errors = _decide(cand, found)
            if errors:
                results[cand.row] = RowResult(
                    cand.row, cand.external_id, "refused", found.id if found else None, errors
                )
            else:
                planned.append((cand, found, outcome))
        return planned

    def _write(
        self,
        planned: list[tuple[Candidate, Posting | None, Outcome]],
        results: dict[int, RowResult],
    ) -> dict[str, int]:
        if self.options.mode == "file":
            return _write(self.session, self.options.source, planned)
        try:
            with self.session.begin_nested():
                return _write(self.session, self.options.source, planned)
        except (IntegrityError, StaleDataError):
            pass
        # Someone else wrote one of these rows meanwhile: apply them one by one.
        ids: dict[str, int] = {}
        for cand, _, _ in planned:
            forget_postings(self.session)
            found = self.session.exec(
                select(Posting).where(
                    Posting.source == self.options.source, Posting.external_id == cand.external_id
                )
            ).first()
            outcome, errors = _decide(cand, found)
            if errors:
                results[cand.row] = RowResult(cand.row, cand.external_id, "refused", errors=errors)
                continue
            if outcome == "unchanged":
                results[cand.row] = RowResult(
                    cand.row, cand.external_id, outcome, found.id if found else None
                )
                continue
            try:
                with self.session.begin_nested():
                    done = _write(self.session, self.options.source, [(cand, found, outcome)])
                ids.update(done)
                pid = done.get(cand.external_id)
                results[cand.row] = RowResult(cand.row, cand.external_id, outcome, pid)
                if pid:
                    self.report.changed_ids.append(pid)
            except (IntegrityError, StaleDataError):
                results[cand.row] = RowResult(
                    cand.row,
                    cand.external_id,
                    "refused",
                    errors=[RowError("external_id", "changed by someone else during the import")],
                )
        return ids


def results_refused(results: dict[int, RowResult]) -> bool:
    return any(r.outcome == "refused" for r in results.values())


def import_postings(
    session: Session,
    actor: ImportActor,
    stream: IO[bytes],
    options: ImportOptions,
    *,
    filename: str | None = None,
    checkpoint: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_row: Callable[[RowResult], None] | None = None,
) -> ImportReport:
    """Check and (unless a dry run) apply a file of postings; the report says row by row.

    The stream must be seekable (the encoding is detected in a first pass). The service
    never commits: in "row" mode the caller's `checkpoint` is called after each written
    chunk (the CLI commits there); an all-or-nothing run with refused rows raises
    ImportRefused carrying the report, and the caller rolls back. `progress(rows, bytes)`
    is called after each chunk.
    """
    if actor.role not in (Role.admin, Role.caseworker, Role.employer):
        raise InvalidInput("your role may not import postings", field="role")
    source = check_source(options.source)
    fmt = options.format or detect_format(filename, stream)
    encoding = detect_encoding(stream, options.encoding)
    zone = ZoneInfo(options.timezone)
    now = utcnow()
    report = ImportReport(
        source=source,
        mode=options.mode,
        dry_run=options.dry_run,
        format=fmt,
        encoding="gb18030" if encoding == "gb18030" else "utf-8",
        row_limit=options.row_limit,
        only_problems=options.only_problems,
    )
    report.listener = on_row
    run = _Run(session, actor, replace(options, source=source), report, checkpoint)
    pending: list[Candidate | RowResult] = []
    rows = 0
    for number, record in read_records(stream, fmt, encoding):
        rows += 1
        if rows > options.max_rows:
            raise ImportFileError(
                f"the file has more than {options.max_rows} rows; split it", field="file"
            )
        item = check_row(number, record, zone, now)
        external_id = item.external_id
        if external_id:
            first = run.seen.get(external_id)
            if first is not None:
                item = RowResult(
                    number,
                    external_id,
                    "refused",
                    errors=[
                        RowError("external_id", f"duplicate in this file (first at row {first})")
                    ],
                )
            else:
                run.seen[external_id] = number
        pending.append(item)
        if len(pending) >= options.chunk_rows:
            run.chunk(pending)
            pending = []
            if progress is not None:
                progress(rows, _position(stream))
    if pending:
        run.chunk(pending)
        if progress is not None:
            progress(rows, _position(stream))
    if rows == 0:
        raise ImportFileError("the file has no rows", field="file")
    refused = report.counts["refused"] > 0
    report.applied = not options.dry_run and not (options.mode == "file" and refused)
    if report.applied and (report.counts["created"] or report.counts["updated"]):
        audit.record_by(
            session,
            actor,
            "postings_imported",
            object_type="import",
            object_id=source,
            detail={k: v for k, v in report.summary().items() if k not in ("source",)},
        )
    if not options.dry_run and options.mode == "file" and refused:
        report.changed_ids = []
        raise ImportRefused(
            f"{report.counts['refused']} row(s) refused; nothing was imported "
            "(all-or-nothing: fix them, or import with mode=row)",
            report,
        )
    return report


def _position(stream: IO[bytes]) -> int:
    try:
        return stream.tell()
    except (OSError, ValueError):
        return 0
