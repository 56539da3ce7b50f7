"""CSV exports of a season: its store allocation, the replenishment shipments and the variance
table, for planners to open in a spreadsheet.

Text cells that start with = + - @, a tab or a carriage return get a leading single quote, so a
spreadsheet shows them instead of evaluating them as formulas (e.g. a store named "=cmd()").
Numbers are left alone: -0.12 stays a number.
"""
import csv
import io
from dataclasses import dataclass

from django.db.models import F

from planning.errors import NotFound
from planning.models import Allocation, Replenishment, StoreAllocation, VarianceCheck, Season

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel only reads a CSV as UTF-8 (store names with accents or dashes) when it starts with a BOM.
BOM = "\ufeff"


@dataclass(frozen=True)
class CsvExport:
    filename: str
    header: list[str]
    rows: list[list]

    def text(self) -> str:
        buffer = io.StringIO()
        buffer.write(BOM)
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([safe_cell(name) for name in self.header])
        writer.writerows([safe_cell(value) for value in row] for row in self.rows)
        return buffer.getvalue()


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _name(season: Season, what: str) -> str:
    start = season.parameters.get("season_start_date", "")
    return f"{what}-{season.category_id}-{start or season.pk}.csv"


def allocation_export(season: Season) -> CsvExport:
    store_rows = StoreAllocation.objects.filter(allocation__season=season).order_by("store_id")
    rows = [
        [store_id, name, cluster_id or "", round(factor, 6), planned, initial, holdback]
        for store_id, name, cluster_id, factor, planned, initial, holdback in store_rows.values_list(
            "store_id", F("store__name"), "cluster_id", "factor", "planned_units", "initial_qty",
            "holdback_qty")
    ]
    if not rows and not Allocation.objects.filter(season=season).exists():
        raise NotFound("This season has no allocation yet.")
    return CsvExport(
        filename=_name(season, "allocation"),
        header=["store_id", "store_name", "cluster_id", "factor", "planned_units", "initial_allocation",
                "holdback_allocation"],
        rows=rows,
    )


def replenishment_export(season: Season) -> CsvExport:
    shipments = Replenishment.objects.filter(season=season).order_by("week", "-need_units", "store_id")
    rows = [
        [week, store_id, name, need, quantity, "yes" if partial else "no"]
        for week, store_id, name, need, quantity, partial in shipments.values_list(
            "week", "store_id", F("store__name"), "need_units", "quantity", "partial")
    ]
    return CsvExport(
        filename=_name(season, "replenishment"),
        header=["week_number", "store_id", "store_name", "need_units", "quantity", "partial"],
        rows=rows,
    )


def variance_export(season: Season) -> CsvExport:
    rows = [
        [c.week, round(c.forecast_cum, 2), c.actual_cum, round(c.variance, 4),
         round(c.signed_variance, 4), c.band, round(c.threshold, 4),
         "yes" if c.exceeded else "no", "yes" if c.emergency else "no",
         c.shortage_units if c.shortage_units is not None else "", c.stock_alert,
         c.units_at_risk if c.units_at_risk is not None else "", c.action_taken]
        for c in VarianceCheck.objects.filter(season=season).order_by("week")
    ]
    return CsvExport(
        filename=_name(season, "variance"),
        header=["week_number", "forecasted_cumulative", "actual_cumulative", "variance_pct", "signed_variance",
                "band", "threshold", "threshold_exceeded", "emergency", "shortage_units",
                "stock_alert", "units_at_risk", "action_taken"],
        rows=rows,
    )
