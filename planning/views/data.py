"""The data page: upload sales history and store attributes (checked row by row, nothing saved
when a row fails), the categories with their date ranges, and the data-quality summary."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from planning.api.throttling import UPLOADS
from planning.errors import PlanningError
from planning.forms import UploadForm
from planning.models import Category, DataUpload, Store, StoreCluster
from planning.services import data_quality, history_import, store_import
from planning.views.access import can_plan, planner_required, rate_limited


@login_required
@require_GET
def data_page(request):
    context = {**_data_context(), "can_plan": can_plan(request.user), "nav": "data"}
    return render(request, "planning/data.html", context)


@planner_required
@require_POST
@rate_limited(UPLOADS)
def upload_history(request):
    return _upload(request, history_import.import_historical_sales, "history")


@planner_required
@require_POST
@rate_limited(UPLOADS)
def upload_stores(request):
    return _upload(request, store_import.import_stores, "stores")


def _upload(request, importer, kind):
    upload = report = error = None
    status = 200
    try:
        upload = UploadForm(request.POST, request.FILES).valid_data()["file"]
        report = importer(upload, filename=upload.name, user=request.user)
    except PlanningError as exc:
        error, status = exc, exc.status
    if not request.htmx:
        if error is not None:
            messages.error(request, error.detail)
        else:
            messages.success(request, f"{upload.name}: {report['rows_imported']:,} rows imported.")
        return redirect("data")
    response = render(request, "planning/partials/upload_result.html",
                      {"kind": kind, "report": report, "error": error}, status=status)
    if report is not None:
        response["HX-Trigger"] = "data-changed"
    return response


def _data_context():
    quality = data_quality.quality_report()
    names = dict(Category.objects.values_list("pk", "name"))
    return {
        "quality": quality,
        "categories": [
            {**c, "name": names.get(c["category_id"], c["category_id"])} for c in quality["categories"]
        ],
        "empty_categories": [name for pk, name in names.items()
                             if pk not in {c["category_id"] for c in quality["categories"]}],
        "clusters": StoreCluster.objects.all(),
        "store_count": Store.objects.count(),
        "uploads": DataUpload.objects.select_related("uploaded_by")[:10],
    }
