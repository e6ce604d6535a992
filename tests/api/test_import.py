"""Bulk import of postings (issue #9), through the API and the CLI, on fixture files with good,
bad and duplicate rows in UTF-8 CSV, GB18030 CSV and JSON lines, Chinese and English text."""

import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.main import create_app
from api.settings import Settings
from models import AuditLog, Embedding, Posting, PostingOffer
from models.base import Role
from tests import factories as f

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"
USCC_A = "91330106MA2B00001Y"
USCC_B = "91330106MA2B000022"
URL = "/postings/import"

# row -> (external id, outcome, fields named in the refusal)
CSV_EXPECTED: dict[int, tuple[str, str, set[str]]] = {
    2: ("JM-001", "created", set()),
    3: ("JM-002", "created", set()),
    4: ("JM-003", "refused", {"offers.0"}),
    5: ("JM-001", "refused", {"external_id"}),
    6: ("JM-004", "refused", {"work_mode", "row"}),
    7: ("JM-005", "refused", {"employer_uscc"}),
    8: ("JM-006", "refused", {"expires_at"}),
    9: ("JM-007", "created", set()),
    10: ("", "refused", {"external_id"}),
    11: ("JM-008", "refused", {"employer_uscc"}),
}
JSONL_EXPECTED: dict[int, tuple[str, str, set[str]]] = {
    1: ("JL-101", "created", set()),
    2: ("JL-102", "created", set()),
    3: ("JL-103", "refused", {"offers.0"}),
    4: ("JL-101", "refused", {"external_id"}),
    5: ("", "refused", {"row"}),
    6: ("JL-105", "refused", {"row"}),
    7: ("JL-106", "refused", {"title", "lon"}),
}
FILES = {
    "postings.csv": CSV_EXPECTED,
    "postings_gb18030.csv": CSV_EXPECTED,
    "postings.jsonl": JSONL_EXPECTED,
}


@pytest.fixture
def world(session: Session, settings: Settings) -> dict[str, Any]:
    a = f.employer(session, uscc=USCC_A, name="和平数据 Heping Data Ltd")
    b = f.employer(session, uscc=USCC_B, name="新华客服 Xinhua Service Co")
    admin = f.account(session, Role.admin, centre_code=None)
    emp_acc, _ = f.employer_account(session, a)
    return {
        "a": a,
        "b": b,
        "admin": f.headers(session, settings, admin),
        "employer_a": f.headers(session, settings, emp_acc),
    }


def upload(
    client: TestClient,
    headers: dict[str, str],
    name: str,
    content: bytes | None = None,
    **form: Any,
) -> Any:
    data = content if content is not None else (FIXTURES / name).read_bytes()
    fields = {"source": "hz-rencai", **{k: str(v).lower() for k, v in form.items()}}
    return client.post(URL, headers=headers, files={"file": (name, data)}, data=fields)


def outcomes(body: dict[str, Any]) -> dict[int, tuple[str, str, set[str]]]:
    return {
        r["row"]: (r["external_id"], r["outcome"], {e["field"] for e in r["errors"]})
        for r in body["rows"]
    }


def imported(session: Session) -> list[Posting]:
    session.rollback()  # end the read snapshot: see what the app committed since
    return list(session.exec(select(Posting).where(Posting.source == "hz-rencai")))


def audit_count(session: Session) -> int:
    return session.exec(select(func.count()).where(AuditLog.action == "postings_imported")).one()


@pytest.mark.parametrize("name", list(FILES))
def test_dry_run_lists_every_row_and_changes_nothing(
    client: TestClient, session: Session, world: dict[str, Any], name: str
) -> None:
    r = upload(client, world["admin"], name, mode="file", dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] and not body["applied"]
    assert body["encoding"] == ("gb18030" if "gb18030" in name else "utf-8")
    got = outcomes(body)
    expected = FILES[name]
    assert {k: v[:2] for k, v in got.items()} == {k: v[:2] for k, v in expected.items()}
    for row, (_, _, fields) in expected.items():
        assert fields <= got[row][2], (row, got[row])
    for row in body["rows"]:
        if row["outcome"] == "refused":
            assert all(e["reason"] for e in row["errors"])
    assert body["created"] == sum(1 for v in expected.values() if v[1] == "created")
    assert imported(session) == [] and audit_count(session) == 0


def test_reasons_are_clear(client: TestClient, world: dict[str, Any]) -> None:
    rows = {
        r["row"]: r
        for r in upload(client, world["admin"], "postings.csv", dry_run=True).json()["rows"]
    }
    reasons = {row: " ".join(e["reason"] for e in r["errors"]) for row, r in rows.items()}
    assert "teleporter" in reasons[4]
    assert "first at row 2" in reasons[5]
    assert "太空" in reasons[6] and "wage_min is above wage_max" in reasons[6]
    assert "register it first" in reasons[7]
    assert "past" in reasons[8]
    assert "check character" in reasons[11]


@pytest.mark.parametrize("name", list(FILES))
def test_all_or_nothing_rolls_back_on_a_bad_row(
    client: TestClient, session: Session, world: dict[str, Any], name: str
) -> None:
    r = upload(client, world["admin"], name, mode="file")
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "import_refused" and body["field"] == "file"
    assert body["report"]["applied"] is False and body["report"]["refused"] >= 1
    assert imported(session) == [] and audit_count(session) == 0


def test_all_or_nothing_writes_a_good_file(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    lines = (FIXTURES / "postings.csv").read_text(encoding="utf-8").splitlines()
    good = "\n".join([lines[0], lines[1], lines[2], lines[8]]) + "\n"
    r = upload(client, world["admin"], "good.csv", good.encode("gb18030"), mode="file")
    assert r.status_code == 200, r.text
    assert r.json()["applied"] and r.json()["created"] == 3
    assert {p.external_id for p in imported(session)} == {"JM-001", "JM-002", "JM-007"}


@pytest.mark.parametrize("name", list(FILES))
def test_row_mode_writes_the_good_rows_and_a_rerun_changes_nothing(
    client: TestClient, session: Session, world: dict[str, Any], name: str
) -> None:
    r = upload(client, world["admin"], name, mode="row")
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["applied"]
    created = {
        x["external_id"]: x["posting_id"] for x in first["rows"] if x["outcome"] == "created"
    }
    expected = {v[0] for v in FILES[name].values() if v[1] == "created"}
    assert set(created) == expected
    rows = imported(session)
    assert {p.external_id for p in rows} == expected
    before = {p.id: (p.version, p.updated_at) for p in rows}
    audits = audit_count(session)
    assert audits == 1
    embedded = session.exec(
        select(Embedding.owner_id).where(
            Embedding.owner_type == "posting", col(Embedding.owner_id).in_(list(before))
        )
    ).all()
    assert set(embedded) == set(before), "imported postings are embedded after the response"

    again = upload(client, world["admin"], name, mode="row").json()
    assert again["created"] == again["updated"] == 0
    assert again["unchanged"] == len(expected)
    assert again["refused"] == first["refused"]
    rows = imported(session)
    assert {p.id: (p.version, p.updated_at) for p in rows} == before
    assert audit_count(session) == audits, "a re-run leaves no audit noise"


def test_the_same_content_in_the_other_encoding_is_unchanged(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    assert upload(client, world["admin"], "postings.csv", mode="row").json()["created"] == 3
    r = upload(client, world["admin"], "postings_gb18030.csv", mode="row").json()
    assert r["encoding"] == "gb18030" and r["unchanged"] == 3 and r["created"] == 0


def test_imported_posting_reads_as_in_the_file(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    body = upload(client, world["admin"], "postings_gb18030.csv", mode="row").json()
    pid = next(r["posting_id"] for r in body["rows"] if r["external_id"] == "JM-001")
    p = client.get(f"/postings/{pid}", headers=world["admin"]).json()
    assert p["title"] == "数据录入员 Data entry clerk"
    assert p["description"] == "录入订单数据, enter order data; 安静的办公室"
    assert p["required_skills"] == ["Excel", "数据录入"] and p["optional_skills"] == ["Word"]
    assert p["work_mode"] == "on_site" and p["schedule"] == "full_time"
    assert (p["wage_min"], p["wage_max"], p["openings"]) == (4000, 6000, 2)
    assert p["lat"] == pytest.approx(30.2741) and p["employer_id"] == world["a"].id
    assert p["expires_at"].startswith("2099-12-31T15:59:59")  # end of the day in Shanghai
    assert {(o["code"], o["availability"]) for o in p["offers"]} == {
        ("screen_reader_software", "available"),
        ("lift", "arrangeable"),
    }
    assert (p["source"], p["external_id"]) == ("hz-rencai", "JM-001")
    jm2 = next(r["posting_id"] for r in body["rows"] if r["external_id"] == "JM-002")
    row = session.get(Posting, jm2)
    assert row is not None and row.centre_id == f.centre(session, "xinhua").id  # by street


def test_a_changed_row_updates_once_and_keeps_versioning(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    upload(client, world["admin"], "postings.jsonl", mode="row")
    original = (FIXTURES / "postings.jsonl").read_text(encoding="utf-8")
    changed = original.replace("图书馆助理 Library assistant", "图书管理员 Librarian").replace(
        '"written_instructions:arrangeable"', '"job_coach"'
    )
    r = upload(client, world["admin"], "postings.jsonl", changed.encode(), mode="row").json()
    assert r["updated"] == 1 and r["unchanged"] == 1 and r["created"] == 0
    (p,) = [p for p in imported(session) if p.external_id == "JL-101"]
    assert p.title == "图书管理员 Librarian" and p.version == 2 and p.imported_version == 2
    codes = set(session.exec(select(PostingOffer.code).where(PostingOffer.posting_id == p.id)))
    assert codes == {"quiet_workspace", "job_coach"}
    again = upload(client, world["admin"], "postings.jsonl", changed.encode(), mode="row").json()
    assert again["updated"] == 0 and again["unchanged"] == 2
    assert session.get(Posting, p.id).version == 2  # type: ignore[union-attr]


def test_an_edit_in_the_app_is_not_overwritten(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    body = upload(client, world["admin"], "postings.jsonl", mode="row").json()
    pid = next(r["posting_id"] for r in body["rows"] if r["external_id"] == "JL-101")
    r = client.patch(
        f"/postings/{pid}", headers=world["employer_a"], json={"version": 1, "openings": 5}
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    # The same file again: nothing to do, the app's edit stands.
    again = upload(client, world["admin"], "postings.jsonl", mode="row").json()
    assert again["unchanged"] == 2 and again["updated"] == 0
    # A changed row for that posting is refused with the reason.
    changed = (
        (FIXTURES / "postings.jsonl")
        .read_text(encoding="utf-8")
        .replace("图书馆助理 Library assistant", "图书管理员 Librarian")
    )
    r = upload(client, world["admin"], "postings.jsonl", changed.encode(), mode="row").json()
    (row,) = [x for x in r["rows"] if x["external_id"] == "JL-101" and x["row"] == 1]
    assert row["outcome"] == "refused" and "edited in the app" in row["errors"][0]["reason"]
    p = session.get(Posting, pid)
    assert p is not None and p.openings == 5 and p.title == "图书馆助理 Library assistant"


def test_an_employer_imports_only_for_itself(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    r = upload(client, world["employer_a"], "postings.csv", mode="row").json()
    got = outcomes(r)
    assert got[2][1] == "created" and got[9][1] == "created"  # its own
    assert got[3][1] == "refused" and got[3][2] == {"employer_uscc"}  # another employer's
    assert {p.employer_id for p in imported(session)} == {world["a"].id}


def test_an_external_id_stays_with_its_employer(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    upload(client, world["admin"], "postings.csv", mode="row")
    moved = (
        (FIXTURES / "postings.csv")
        .read_text(encoding="utf-8")
        .replace("JM-002,91330106MA2B000022", f"JM-002,{USCC_A}")
    )
    r = upload(client, world["employer_a"], "postings.csv", moved.encode(), mode="row").json()
    (row,) = [x for x in r["rows"] if x["row"] == 3]
    assert row["outcome"] == "refused" and "another employer" in row["errors"][0]["reason"]


def test_unusable_files_are_refused_as_a_whole(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    h = world["admin"]
    gb = (FIXTURES / "postings_gb18030.csv").read_bytes()
    r = upload(client, h, "postings.csv", gb, encoding="utf-8", dry_run=True)
    assert r.status_code == 422 and r.json()["field"] == "file" and "UTF-8" in r.json()["detail"]
    r = upload(client, h, "x.csv", "外部编号,岗位名称,薪水\nA,B,1\n".encode(), dry_run=True)
    assert r.status_code == 422 and "薪水" in r.json()["detail"]
    r = upload(client, h, "x.csv", b"title\nA\n", dry_run=True)
    assert r.status_code == 422 and "external_id" in r.json()["detail"]
    r = upload(client, h, "x.csv", b"", dry_run=True)
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = client.post(URL, headers=h, files={"file": ("x.csv", b"")}, data={"source": "Bad Name!"})
    assert r.status_code == 422 and r.json()["field"] == "source"
    bom = "\ufeffexternal_id,title,employer_uscc\nB-1,出纳 Cashier,91330106MA2B00001Y\n"
    r = upload(client, h, "bom.csv", bom.encode("utf-8"), mode="row")
    assert r.status_code == 200 and r.json()["created"] == 1
    assert imported(session)[0].title == "出纳 Cashier"


def test_report_is_bounded_and_can_list_problems_only(
    client: TestClient, world: dict[str, Any]
) -> None:
    r = client.post(
        URL,
        headers=world["admin"],
        params={"report": "problems", "report_limit": 3},
        files={"file": ("postings.csv", (FIXTURES / "postings.csv").read_bytes())},
        data={"source": "hz-rencai", "dry_run": "true"},
    ).json()
    assert len(r["rows"]) == 3 and r["rows_truncated"]
    assert all(x["outcome"] == "refused" for x in r["rows"]) and r["created"] == 3


def test_upload_size_limit(settings: Settings, engine: Any, session: Session, world: Any) -> None:
    # The import has its own limit, above the one for JSON bodies.
    small = settings.model_copy(update={"max_body_bytes": 1024, "import_max_bytes": 8192})
    with TestClient(create_app(small, engine)) as c:
        body = io.BytesIO(b"external_id,title\n" + b"X-1,title\n" * 1000)
        r = c.post(
            URL, headers=world["admin"], files={"file": ("big.csv", body)}, data={"source": "s"}
        )
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
        r = upload(c, world["admin"], "postings.csv", dry_run=True)
        assert r.status_code == 200


def test_imports_are_rate_limited(
    settings: Settings, engine: Any, session: Session, world: Any
) -> None:
    strict = settings.model_copy(update={"limit_imports_per_account": 2})
    with TestClient(create_app(strict, engine)) as c:
        codes = [upload(c, world["admin"], "postings.csv", dry_run=True).status_code for _ in "abc"]
    assert codes == [200, 200, 429]


def test_imported_postings_reach_matching(
    client: TestClient, session: Session, settings: Settings, world: dict[str, Any]
) -> None:
    acc, profile = f.seeker(
        session, skills=["打字", "沟通"], headline="在线客服 chat support", desired_roles=["客服"]
    )
    h = f.headers(session, settings, acc)
    url = f"/seekers/{profile.id}/matches"
    assert client.get(url, headers=h).json()["total"] == 0
    body = upload(client, world["admin"], "postings.csv", mode="row").json()
    jm2 = next(r["posting_id"] for r in body["rows"] if r["external_id"] == "JM-002")
    items = client.get(url, headers=h).json()["items"]
    assert jm2 in [m["posting"]["id"] for m in items]


def summary_of(output: str) -> dict[str, Any]:
    (line,) = [x for x in output.splitlines() if x.startswith('{"source"')]
    return json.loads(line)  # type: ignore[no-any-return]


def test_cli_dry_run_then_import_then_rerun(
    tmp_path: Path, session: Session, settings: Settings, engine: Any, world: dict[str, Any]
) -> None:
    from typer.testing import CliRunner

    from api.cli import app
    from api.settings import get_settings

    admin = f.account(session, Role.admin, centre_code=None)
    env = {
        "JOBMATCH_DATABASE_URL": settings.database_url,
        "JOBMATCH_EMBEDDING_MODEL": "hashing",
    }
    runner = CliRunner()
    base = ["import", "postings", str(FIXTURES / "postings_gb18030.csv")]
    base += ["--source", "hz-rencai", "--as", admin.email]
    get_settings.cache_clear()
    try:
        r = runner.invoke(app, [*base, "--dry-run"], env=env)
        assert r.exit_code == 1, r.output  # rows refused
        assert "row 4\tJM-003\trefused\toffers.0: unknown accommodation code" in r.output
        assert "row 2\tJM-001\tcreated" in r.output
        assert imported(session) == []
        r = runner.invoke(app, base, env=env)  # all-or-nothing
        assert r.exit_code == 1 and imported(session) == []
        report = tmp_path / "report.jsonl"
        r = runner.invoke(app, [*base, "--mode", "row", "--report", str(report)], env=env)
        assert r.exit_code == 1, r.output
        summary = summary_of(r.output)
        assert summary["created"] == 3 and summary["encoding"] == "gb18030"
        assert "3 posting(s) embedded" in r.output
        lines = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
        assert len(lines) == 10 and lines[0]["outcome"] == "created"
        ids = [p.id for p in imported(session)]
        assert (
            len(ids) == 3
            and session.exec(
                select(func.count()).where(
                    Embedding.owner_type == "posting", col(Embedding.owner_id).in_(ids)
                )
            ).one()
            == 3
        )
        r = runner.invoke(app, [*base, "--mode", "row"], env=env)
        summary = summary_of(r.output)
        assert summary["unchanged"] == 3 and summary["created"] == summary["updated"] == 0
    finally:
        get_settings.cache_clear()


def test_a_bulk_import_elsewhere_reaches_the_index_a_poll_at_a_time(
    app: Any, client: TestClient, session: Session, engine: Any, world: dict[str, Any]
) -> None:
    """Another process (here: the service function on its own session, as the CLI runs it)
    writes 300 postings; this process's index takes them in at most 256 per poll."""
    from api.db import commit
    from api.services import matching
    from api.services.importer import ImportActor, ImportOptions, import_postings

    index = app.state.match_index
    before = len(index.postings)
    lines = ["external_id,employer_uscc,title,required_skills"]
    lines += [f"B-{i},{USCC_A},批量岗位 Bulk posting {i},Excel" for i in range(300)]
    admin = f.account(session, Role.admin, centre_code=None)
    actor = ImportActor(id=admin.id or 0, role=Role.admin)
    with Session(engine, expire_on_commit=False) as writer:
        report = import_postings(
            writer,
            actor,
            io.BytesIO("\n".join(lines).encode("gb18030")),
            ImportOptions(source="bulk", mode="row", chunk_rows=100),
            checkpoint=lambda: commit(writer),
        )
        commit(writer)
    assert report.counts["created"] == 300 and report.encoding == "gb18030"
    with Session(engine) as s:
        index.sync(s, force=True)
        s.commit()
    assert len(index.postings) == before + matching.SYNC_MAX_ROWS
    with Session(engine) as s:
        index.sync(s, force=True)
        s.commit()
    assert len(index.postings) == before + 300


def _upload_together(app: Any, headers: dict[str, str], content: bytes, mode: str) -> list[Any]:
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        with TestClient(app, raise_server_exceptions=False) as c:
            barrier.wait()
            results[i] = upload(c, headers, "same.csv", content, mode=mode)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.parametrize("mode", ["row", "file"])
def test_the_same_file_twice_at_once_writes_each_posting_once(
    app: Any, session: Session, world: dict[str, Any], mode: str
) -> None:
    lines = (FIXTURES / "postings.csv").read_text(encoding="utf-8").splitlines()
    content = (lines[0] + "\n" + "\n".join(lines[1:3] + lines[8:9]) + "\n").encode("gb18030")
    results = _upload_together(app, world["admin"], content, mode)
    ok = [r.json() for r in results if r.status_code == 200]
    assert ok and all(r.status_code in (200, 409) for r in results), [r.text for r in results]
    assert sum(r["created"] for r in ok) == 3
    for other in (r for r in ok if r["created"] < 3):  # the one that came second
        for row in other["rows"]:
            assert row["outcome"] == "unchanged" or (
                row["outcome"] == "refused" and "someone else" in row["errors"][0]["reason"]
            ), row
    assert len(imported(session)) == 3
    assert audit_count(session) == 1


def test_a_row_written_by_someone_else_mid_chunk_is_redone_alone(
    engine: Any, session: Session, world: dict[str, Any]
) -> None:
    """Row mode: another writer commits one of the chunk's external ids between the plan and
    the write; the chunk's savepoint rolls back and its rows are applied one by one: the
    others are created, that one is decided again (here: updated), nothing is lost."""
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the import holds the write lock: nobody writes in between")
    from sqlalchemy import event, insert

    from api.db import commit
    from api.services.importer import ImportActor, ImportOptions, import_postings

    admin = f.account(session, Role.admin, centre_code=None)
    lines = ["external_id,employer_uscc,title"]
    lines += [f"R-{i},{USCC_A},岗位 Job {i}" for i in range(5)]
    interfered: list[bool] = []
    with Session(engine, expire_on_commit=False) as writer:

        def interfere(orm_execute_state: Any) -> None:
            if orm_execute_state.is_insert and not interfered:
                interfered.append(True)
                with engine.begin() as other:
                    other.execute(
                        insert(Posting).values(
                            title="别人写的 Written by someone else",
                            employer_id=world["a"].id,
                            source="race",
                            external_id="R-3",
                            import_hash="x" * 64,
                            imported_version=1,
                            version=1,
                            required_skills=[],
                            optional_skills=[],
                        )
                    )

        event.listen(writer, "do_orm_execute", interfere)
        report = import_postings(
            writer,
            ImportActor(id=admin.id or 0, role=Role.admin),
            io.BytesIO("\n".join(lines).encode()),
            ImportOptions(source="race", mode="row", row_limit=10),
            checkpoint=lambda: commit(writer),
        )
        commit(writer)
    assert interfered
    got = {r.external_id: r.outcome for r in report.rows}
    assert got == {"R-0": "created", "R-1": "created", "R-2": "created", "R-3": "updated",
                   "R-4": "created"}  # fmt: skip
    session.rollback()
    titles = dict(
        session.exec(
            select(Posting.external_id, Posting.title).where(Posting.source == "race")
        ).all()
    )
    assert titles["R-3"] == "岗位 Job 3" and len(titles) == 5
