"""Downloads of a season (any signed-in role), each as CSV and as XLSX with the same cells: the
allocation, replenishments and variance table looked up by one of the season's forecast ids, a
scenario comparison by its id."""
from django.http import HttpResponse
from ninja import Router

from planning.api.resources import season_of_forecast
from planning.api.schemas import DbId
from planning.selectors import scenarios as scenario_reads
from planning.services import exports

router = Router(tags=["exports"])


def _responses(fmt, missing):
    content_type = exports.CONTENT_TYPES[fmt].split(";")[0]
    schema = {"type": "string"} if fmt == "csv" else {"type": "string", "format": "binary"}
    return {"responses": {
        200: {"description": f"A {fmt.upper()} file", "content": {content_type: {"schema": schema}}},
        404: {"description": missing},
    }}


def _download(export: exports.Export, fmt: str) -> HttpResponse:
    content, content_type = export.render(fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename(fmt)}"'
    return response


def _season_view(build, fmt, doc):
    def view(request, forecast_id: DbId):
        return _download(build(season_of_forecast(forecast_id)), fmt)

    view.__doc__ = doc
    return view


def _scenario_view(fmt):
    def view(request, comparison_id: DbId):
        """A scenario comparison, one row per scenario: the SPEC fields, rank, settings, recommended."""
        return _download(exports.scenario_export(scenario_reads.comparison(comparison_id)), fmt)

    return view


# (path, url name, export, description); the url names are api:allocation_csv, api:allocation_xlsx, ...
SEASON_EXPORTS = (
    ("allocations", "allocation", exports.allocation_export,
     "Store rows of the season's allocation: cluster, factor, planned, initial and holdback."),
    ("replenishments", "replenishment", exports.replenishment_export,
     "Every DC-to-store shipment of the season, by week and need."),
    ("variance", "variance", exports.variance_export,
     "The season's weekly variance checks: cumulative forecast and actual, band, action."),
)

for _fmt in exports.FORMATS:
    for _path, _name, _build, _doc in SEASON_EXPORTS:
        router.get(f"/exports/{_path}/{{forecast_id}}.{_fmt}", url_name=f"{_name}_{_fmt}",
                   operation_id=f"planning_api_exports_{_name}_{_fmt}",
                   openapi_extra=_responses(_fmt, "Unknown forecast, or nothing to export yet"))(
            _season_view(_build, _fmt, _doc))
    router.get(f"/exports/scenarios/{{comparison_id}}.{_fmt}", url_name=f"scenarios_{_fmt}",
               operation_id=f"planning_api_exports_scenarios_{_fmt}",
               openapi_extra=_responses(_fmt, "Unknown scenario comparison"))(_scenario_view(_fmt))
