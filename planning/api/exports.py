"""CSV downloads of a season (any signed-in role), looked up by one of its forecast ids."""
from django.http import HttpResponse
from ninja import Router

from planning.api.resources import season_of_forecast
from planning.api.schemas import DbId
from planning.services import exports

router = Router(tags=["exports"])

CSV_RESPONSE = {
    "responses": {
        200: {"description": "A CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}},
        404: {"description": "Unknown forecast, or nothing to export yet"},
    }
}


def _download(export: exports.CsvExport) -> HttpResponse:
    response = HttpResponse(export.text(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@router.get("/exports/allocations/{forecast_id}.csv", openapi_extra=CSV_RESPONSE)
def allocation_csv(request, forecast_id: DbId):
    """Store rows of the season's allocation: cluster, factor, planned, initial and holdback."""
    return _download(exports.allocation_export(season_of_forecast(forecast_id)))


@router.get("/exports/replenishments/{forecast_id}.csv", openapi_extra=CSV_RESPONSE)
def replenishment_csv(request, forecast_id: DbId):
    """Every DC-to-store shipment of the season, by week and need."""
    return _download(exports.replenishment_export(season_of_forecast(forecast_id)))


@router.get("/exports/variance/{forecast_id}.csv", openapi_extra=CSV_RESPONSE)
def variance_csv(request, forecast_id: DbId):
    """The season's weekly variance checks: cumulative forecast and actual, band, action."""
    return _download(exports.variance_export(season_of_forecast(forecast_id)))
