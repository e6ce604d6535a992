"""Bulk import of postings from partner talent markets (人才市场) and employers."""

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, UploadFile

from api.deps import LIMITED, AccountLimit, IndexDep, Principal, SessionDep, SettingsDep, allow_for
from api.errors import InvalidInput
from api.schemas.imports import ImportReportOut
from api.services import importer
from api.services.matching import DEFER_INDEX_REFRESH, refresh_postings_in_batches
from models.base import Role

router = APIRouter(prefix="/postings", tags=["postings"])

Importer = Annotated[Principal, allow_for(Role.employer, Role.caseworker, Role.admin)]
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed"},
    409: {"description": "a row was changed by someone else during an all-or-nothing import"},
    413: {"description": "the file is larger than JOBMATCH_IMPORT_MAX_BYTES"},
    422: {
        "description": "the file cannot be read (field `file`), or an all-or-nothing run "
        "refused rows (error `import_refused`, the row-by-row report under `report`)"
    },
}


@router.post(
    "/import",
    response_model=ImportReportOut,
    responses={**ERRORS, **LIMITED},
    dependencies=[Depends(AccountLimit("imports"))],
)
def import_postings(
    principal: Importer,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or JSON lines")],
    source: Annotated[str, Form(min_length=1, max_length=64, description="partner's name")],
    mode: Annotated[Literal["file", "row"], Form()] = "file",
    dry_run: Annotated[bool, Form()] = False,
    encoding: Annotated[Literal["auto", "utf-8", "gb18030"], Form()] = "auto",
    report: Annotated[Literal["all", "problems"], Query()] = "all",
    report_limit: Annotated[int, Query(ge=0, le=1000)] = 200,
) -> ImportReportOut:
    """Import postings: a dry run lists what would be created, updated or refused and why;
    mode=file is all-or-nothing, mode=row writes the good rows. Re-sending a file changes
    nothing. Imported postings reach matching right after the response."""
    if file.size is not None and file.size > settings.import_max_bytes:
        raise InvalidInput(
            f"the file is larger than {settings.import_max_bytes} bytes", field="file"
        )
    actor = importer.ImportActor(
        id=principal.id,
        role=principal.role,
        employer_id=principal.account.employer_id,
        request_id=principal.request_id,
    )
    options = importer.ImportOptions(
        source=source,
        mode=mode,
        dry_run=dry_run,
        encoding=encoding,
        timezone=settings.timezone,
        max_rows=settings.import_max_rows,
        row_limit=report_limit,
        only_problems=report == "problems",
    )
    # The index is brought up to date after the response, a batch at a time (embedding
    # what the import wrote), instead of inside the request's commit.
    session.info[DEFER_INDEX_REFRESH] = True
    result = importer.import_postings(session, actor, file.file, options, filename=file.filename)
    if result.changed_ids:
        background.add_task(
            refresh_postings_in_batches, session.get_bind(), index, list(result.changed_ids)
        )
    return ImportReportOut.model_validate(result.as_dict())
