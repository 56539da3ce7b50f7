"""Uploads (multipart, field ``file``): historical sales, store attributes and a week's actuals.

Files over settings.UPLOAD_MAX_BYTES are refused with 413 from the request's declared
Content-Length, before the multipart body is parsed, and again while the file streams in.
Each file may be gzip-compressed (``.csv.gz``, recognised by its content): UPLOAD_MAX_BYTES then
limits the compressed file, and UPLOAD_MAX_DECOMPRESSED_BYTES its decompressed content (413);
see planning.services.csv_files.
"""
from functools import wraps
from uuid import UUID

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from ninja import File, Form, Router, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from planning.api.auth import require_role
from planning.api.schemas import ErrorOut
from planning.api.throttling import UPLOADS
from planning.api.upload_schemas import HistoryUploadOut, StoresUploadOut, WeeklyUploadOut
from planning.errors import NotFound, PayloadTooLarge
from planning.models import Season
from planning.roles import PLANNER
from planning.services import actuals_import, history_import, store_import

router = Router(tags=["data"], throttle=UPLOADS)

# Room for the multipart boundaries and the other form fields around the file.
MULTIPART_ALLOWANCE = 16 * 1024
UPLOAD_ERRORS = {code: ErrorOut for code in (401, 403, 413, 415, 422)}


def _too_large():
    limit = settings.UPLOAD_MAX_BYTES
    return PayloadTooLarge(f"The file is larger than the upload limit of {limit:,} bytes.")


class UploadSizeLimit(FileUploadHandler):
    """Stops an upload over the limit: by the declared size first, then by the bytes received."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.UPLOAD_MAX_BYTES + MULTIPART_ALLOWANCE:
            raise _too_large()

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            raise _too_large()
        return raw_data

    def file_complete(self, file_size):
        return None


def _filename(file):
    """The upload's file name without control characters (PostgreSQL refuses NUL in text)."""
    return "".join(ch for ch in file.name or "" if ch.isprintable())


def limit_upload_size(run):
    @wraps(run)
    def limited(request, *args, **kwargs):
        request.upload_handlers.insert(0, UploadSizeLimit(request))
        return run(request, *args, **kwargs)

    return limited


@router.post("/data/upload-historical-sales", response={200: HistoryUploadOut, **UPLOAD_ERRORS})
@decorate_view(limit_upload_size)
def upload_historical_sales(request, file: File[UploadedFile]):
    """Import daily or weekly sales history: `date, category, store_id, quantity_sold[, revenue]`.

    The whole file is checked first; any bad row -> 422 listing row, column, expected, got and
    message, and nothing is written. Rows for a (store, category, date) already stored are
    replaced. Categories are created from the names in the file. The file may be gzip-compressed
    (`.csv.gz`): 413 when it decompresses past UPLOAD_MAX_DECOMPRESSED_BYTES, 422 when it is
    damaged."""
    require_role(request, PLANNER)
    return history_import.import_historical_sales(file, filename=_filename(file), user=request.auth)


@router.post("/data/upload-stores", response={200: StoresUploadOut, **UPLOAD_ERRORS})
@decorate_view(limit_upload_size)
def upload_stores(request, file: File[UploadedFile]):
    """Import store attributes (upsert by store_id), then recompute the store clusters."""
    require_role(request, PLANNER)
    return store_import.import_stores(file, filename=_filename(file), user=request.auth)


@router.post(
    "/data/upload-weekly-sales",
    response={202: WeeklyUploadOut, 404: ErrorOut, 409: ErrorOut, **UPLOAD_ERRORS},
)
@decorate_view(limit_upload_size)
def upload_weekly_sales(
    request,
    workflow_id: Form[UUID],
    week_number: Form[int],
    file: File[UploadedFile],
    overwrite: Form[bool] = False,
):
    """Week N actuals of a season: `store_id, units_sold` or daily `date, store_id,
    quantity_sold` (dates inside week N). Every store of the plan must appear. The same week
    again -> 409 unless overwrite=true. Answers 202 at once with the run that processes the week
    (variance check, re-forecast, stock alert, replenishment, markdown checkpoint) as a job."""
    require_role(request, PLANNER)
    season = Season.objects.filter(pk=workflow_id).first()
    if season is None:
        raise NotFound(f"Unknown workflow {workflow_id}.")
    return Status(202, actuals_import.import_weekly_actuals(
        season, week_number, file, overwrite=overwrite, user=request.auth, filename=_filename(file)
    ))
