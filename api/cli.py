"""The `jobmatch` command line."""

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import Engine

from api.settings import get_settings

app = typer.Typer(help="jobmatch: job matching for disabled job seekers.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
keys_app = typer.Typer(help="Data keys for sensitive fields.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
privacy_app = typer.Typer(help="Retention and data rights.", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")
jobs_app = typer.Typer(help="Scheduled jobs: list them, run one now.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
import_app = typer.Typer(help="Bulk imports (docs/import.md).", no_args_is_help=True)
app.add_typer(import_app, name="import")


def _engine() -> Engine:
    from api.db import make_engine

    settings = get_settings()
    return make_engine(
        settings.database_url,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        threads=settings.request_threads,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from api.db import upgrade

    upgrade(_engine(), revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Revert migrations down to REVISION ('base' empties the database)."""
    from api.db import downgrade

    downgrade(_engine(), revision)
    typer.echo(f"database at {revision}")


@app.command("demo-data")
def demo_data(
    if_empty: Annotated[bool, typer.Option(help="do nothing when accounts exist")] = False,
    seed: Annotated[int, typer.Option(help="random seed, for repeatable data")] = 20261129,
    seekers: int = 200,
    employers: int = 50,
    postings: int = 300,
    trainings: int = 30,
) -> None:
    """Load realistic bilingual demo data and print the demo logins."""
    from api.db import session_scope
    from api.demo import DemoSizes, database_is_empty, load_demo_data

    engine = _engine()
    with session_scope(engine) as session:
        if if_empty and not database_is_empty(session):
            typer.echo("demo data: the database already has accounts; nothing loaded")
            return
        logins = load_demo_data(
            session,
            DemoSizes(seekers=seekers, employers=employers, postings=postings, trainings=trainings),
            seed=seed,
            settings=get_settings(),
        )
    typer.echo("demo data loaded. Demo logins:")
    for role, email, password in logins:
        typer.echo(f"  {role:<11} {email:<36} {password}")


@app.command("embed")
def embed(
    batch_size: Annotated[int, typer.Option(min=1, max=4096)] = 64,
    model: Annotated[str | None, typer.Option(help="embedding model (default: settings)")] = None,
) -> None:
    """Embed every posting and seeker profile whose stored vector is missing or stale."""
    from tqdm import tqdm

    from api.db import session_scope
    from api.services.matching import POSTING, SEEKER, embed_stale, load_encoder

    encoder = load_encoder(model or get_settings().embedding_model)
    engine = _engine()
    for owner in (POSTING, SEEKER):
        with session_scope(engine) as session, tqdm(desc=f"embedding {owner}s", unit=owner) as bar:
            count = embed_stale(session, encoder, owner, batch_size=batch_size, progress=bar.update)
        typer.echo(f"{count} {owner} embedding(s) written with {encoder.name}")


@import_app.command("postings")
def import_postings(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    source: Annotated[str, typer.Option(help="the partner's source name, e.g. hz-rencai")],
    as_account: Annotated[
        str, typer.Option("--as", help="e-mail of the admin, caseworker or employer importing")
    ],
    mode: Annotated[str, typer.Option(help="file: all-or-nothing; row: the good rows")] = "file",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check and list, write nothing")] = (
        False
    ),
    encoding: Annotated[str, typer.Option(help="auto, utf-8 or gb18030")] = "auto",
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl (default: from the name)")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="write every row's outcome here as JSON lines")
    ] = None,
    embed: Annotated[bool, typer.Option(help="embed the imported postings afterwards")] = True,
    batch_size: Annotated[int, typer.Option(min=1, max=4096, help="embedding batch")] = 64,
) -> None:
    """Import postings from a CSV (UTF-8 or GB18030) or JSON-lines file; see docs/import.md.

    Prints each refused row (every row in a dry run) and a JSON summary line; exits 1 when
    rows were refused, 2 when the file or an option is unusable.
    """
    import json
    from contextlib import ExitStack
    from typing import Any

    from sqlmodel import Session, select
    from tqdm import tqdm

    from api.db import commit, discard
    from api.errors import DomainError
    from api.services import importer
    from models import Account

    if mode not in ("file", "row") or file_format not in (None, "csv", "jsonl"):
        typer.echo("--mode is file or row; --format is csv or jsonl", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    engine = _engine()
    with ExitStack() as stack:
        session = stack.enter_context(Session(engine, expire_on_commit=False))
        account = session.exec(select(Account).where(Account.email == as_account)).first()
        if account is None or not account.is_active:
            typer.echo(f"no active account {as_account!r}", err=True)
            raise typer.Exit(2)
        actor = importer.ImportActor(
            id=account.id or 0,
            role=account.role,
            employer_id=account.employer_id,
            request_id="cli",
        )
        options = importer.ImportOptions(
            source=source,
            mode=mode,  # type: ignore[arg-type]
            dry_run=dry_run,
            encoding=encoding,
            format=file_format,  # type: ignore[arg-type]
            timezone=settings.timezone,
            max_rows=10_000_000,
            row_limit=0,
        )
        out = stack.enter_context(report.open("w", encoding="utf-8")) if report else None
        stream = stack.enter_context(file.open("rb"))
        bar = stack.enter_context(
            tqdm(total=file.stat().st_size, unit="B", unit_scale=True, desc="importing")
        )

        def on_row(row: importer.RowResult) -> None:
            line: dict[str, Any] = row.as_dict()
            if out is not None:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
            if dry_run or row.outcome == "refused":
                errors = "; ".join(f"{e.field}: {e.reason}" for e in row.errors)
                tqdm.write(f"row {row.row}\t{row.external_id}\t{row.outcome}\t{errors}".rstrip())

        def progress(_rows: int, position: int) -> None:
            bar.update(max(0, position - bar.n))

        try:
            result = importer.import_postings(
                session,
                actor,
                stream,
                options,
                filename=file.name,
                checkpoint=lambda: commit(session),
                progress=progress,
                on_row=on_row,
            )
            commit(session)
        except importer.ImportRefused as exc:
            discard(session)
            bar.close()
            typer.echo(json.dumps(exc.report.summary(), ensure_ascii=False))
            typer.echo(exc.detail, err=True)
            raise typer.Exit(1) from None
        except DomainError as exc:
            discard(session)
            bar.close()
            typer.echo(f"{exc.field or 'file'}: {exc.detail}", err=True)
            raise typer.Exit(2) from None
        bar.close()
    typer.echo(json.dumps(result.summary(), ensure_ascii=False))
    if embed and result.changed_ids:
        _embed_postings(result.changed_ids, batch_size)
    if result.counts["refused"]:
        raise typer.Exit(1)


def _embed_postings(ids: list[int], batch_size: int) -> None:
    """Embed these postings in batches (the running service's index picks them up)."""
    from tqdm import tqdm

    from api.db import session_scope
    from api.services.matching import POSTING, embed_stale, load_encoder

    encoder = load_encoder(get_settings().embedding_model)
    engine = _engine()
    with tqdm(total=len(ids), desc="embedding postings", unit="posting") as bar:
        for start in range(0, len(ids), 1000):
            with session_scope(engine) as session:
                embed_stale(
                    session,
                    encoder,
                    POSTING,
                    batch_size=batch_size,
                    ids=ids[start : start + 1000],
                    progress=bar.update,
                )
    typer.echo(f"{len(ids)} posting(s) embedded with {encoder.name}")


@keys_app.command("new")
def keys_new() -> None:
    """Print a fresh data key (put it first in JOBMATCH_DATA_KEYS)."""
    from api.crypto import new_key

    typer.echo(new_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every sensitive record with the first key of JOBMATCH_DATA_KEYS."""
    from api.db import session_scope
    from api.services.privacy import rotate_keys

    with session_scope(_engine()) as session:
        count = rotate_keys(session, get_settings())
    typer.echo(f"{count} record(s) re-encrypted with the newest key")


@privacy_app.command("purge")
def privacy_purge() -> None:
    """Apply the retention limits of the settings."""
    from api.db import session_scope
    from api.services.privacy import purge

    with session_scope(_engine()) as session:
        done = purge(session, get_settings())
    typer.echo(", ".join(f"{k}: {v}" for k, v in done.items()))


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    reload: bool = False,
    workers: int = 1,
) -> None:
    """Serve the API and web pages."""
    import uvicorn

    settings = get_settings()
    access_log = settings.access_log
    if access_log is None:
        access_log = settings.environment != "production"
    typer.echo(f"jobmatch serving at http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "api.main:service_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
        proxy_headers=False,
        access_log=access_log,
        timeout_keep_alive=settings.keep_alive_seconds,
    )


@jobs_app.command("list")
def jobs_list() -> None:
    """Every scheduled job with its schedule, next run and latest run."""
    from sqlmodel import Session

    from api.scheduler import job_list

    settings = get_settings()
    with Session(_engine()) as session:
        jobs = job_list(session, settings)
    for job in jobs:
        nxt = job.next_run_at.isoformat(timespec="minutes") if job.next_run_at else "-"
        last = (
            f"{job.last_run_at.isoformat(timespec='seconds')} {job.last_status}"
            if job.last_run_at
            else "never"
        )
        typer.echo(f"{job.name:<16} next {nxt:<26} last {last:<36} {job.description}")


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="a job name from `jobmatch jobs list`")],
) -> None:
    """Run one job now (idempotent: a rerun writes nothing twice)."""
    import json

    from api.scheduler import JOBS, run_job
    from api.services.digests import JobContext

    if name not in JOBS:
        typer.echo(f"unknown job {name!r}; jobs: {', '.join(JOBS)}", err=True)
        raise typer.Exit(2)
    summary = run_job(name, JobContext(_engine(), get_settings()))
    typer.echo(json.dumps({"job": name, **summary}, ensure_ascii=False))


@app.command("worker")
def worker() -> None:
    """Run the scheduler: leads while it holds the database lock, stands by otherwise."""
    import logging
    import signal

    from api.scheduler import Worker
    from api.services.digests import JobContext

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    runner = Worker(JobContext(_engine(), get_settings()))

    def _stop(_signum: int, _frame: object) -> None:
        runner.stop_event.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo("jobmatch worker: waiting for the scheduler lead")
    runner.run()


@app.command("learn")
def learn(
    dry_run: Annotated[
        bool, typer.Option(help="fit and compare, but store and adopt nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole report as JSON")] = False,
) -> None:
    """Fit the fusion weights on outcomes (hires, interviews, approvals, saves, dismissals);
    adopt them only if they rank the newest, held-out outcomes better than the weights in
    force. Every run but a dry one is kept with its report."""
    import json

    from api.db import session_scope
    from api.services.learning import LearningRefused
    from api.services.learning import learn as run_learning
    from api.services.matching import MatchIndex, build_match_index

    settings = get_settings()
    engine = _engine()
    built: list[MatchIndex] = []

    def index() -> MatchIndex:
        if not built:
            built.append(build_match_index(settings, engine))
        return built[0]

    try:
        with session_scope(engine) as session:
            report = run_learning(session, index, settings, dry_run=dry_run)
    except LearningRefused as exc:
        typer.echo(f"learn: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for line in report_lines(report):
        typer.echo(line)


def report_lines(report: dict[str, Any]) -> list[str]:
    """A learning report in a few plain lines."""
    labels, metrics = report["labels"], report["metrics"]
    not_used = ", ".join(f"{k} {v}" for k, v in labels["not_used"].items()) or "none"
    by_outcome = ", ".join(f"{k} {v}" for k, v in labels["by_outcome"].items())
    names = list(report["current"]["weights"])
    lines = [
        f"labels: {labels['usable']} usable ({by_outcome}); not used: {not_used}",
        f"split: train {labels['train']}, held out {labels['holdout']} (the newest, from "
        f"{report['split']['holdout_from']}); queries {report['queries']['train']} / "
        f"{report['queries']['holdout']}; {report['pairs']} training pairs",
        f"signals: {labels['signals_kept']} kept with the labels, "
        f"{labels['signals_recomputed']} recomputed from today's data",
        "weights  " + " ".join(f"{n:>9}" for n in names),
        "current  " + " ".join(f"{report['current']['weights'][n]:>9.3f}" for n in names),
        "fitted   " + " ".join(f"{report['fitted']['weights'][n]:>9.3f}" for n in names),
        f"held-out nDCG: current {metrics['current']['ndcg']:.4f}, fitted "
        f"{metrics['fitted']['ndcg']:.4f}; AUC: current {metrics['current']['auc']:.4f}, "
        f"fitted {metrics['fitted']['auc']:.4f} ({metrics['current']['queries']} queries)",
        f"decision: {report['decision']}: {report['reason']}",
    ]
    if "weight_set_id" in report:
        lines.append(f"stored as weight set {report['weight_set_id']}")
    return lines


@app.command("eval")
def evaluate(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    run_out: Annotated[Path | None, typer.Option("--run-out")] = None,
    model: Annotated[str | None, typer.Option(help="dense model name or path")] = None,
) -> None:
    """Evaluate the ranker and the baselines on a folder of queries, corpus and qrels."""
    from api.eval_command import eval_command

    eval_command(directory, run_out=run_out, model=model)


if __name__ == "__main__":
    app()
