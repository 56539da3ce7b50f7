"""Exports of a season for planners to open in a spreadsheet: its store allocation, the
replenishment shipments, the variance table and its scenario comparisons. Each export is one
definition (file name, header, rows) rendered as CSV or as XLSX (openpyxl), with the same cells.

Text cells that start with = + - @, a tab or a carriage return get a leading single quote in both
formats, so a spreadsheet shows them instead of evaluating them as formulas (e.g. a store named
"=cmd()"). Numbers are left alone: -0.12 stays a number (a number cell in XLSX). XLSX cannot hold
the control characters below a tab; they are dropped there.
"""
import csv
import io
from dataclasses import dataclass

from django.db.models import F
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from planning.errors import NotFound
from planning.models import Allocation, Replenishment, ScenarioComparison, Season, StoreAllocation, VarianceCheck

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel only reads a CSV as UTF-8 (store names with accents or dashes) when it starts with a BOM.
BOM = "\ufeff"
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MAX_COLUMN_WIDTH = 40


@dataclass(frozen=True)
class Export:
    name: str  # the file name without its extension
    header: list[str]
    rows: list[list]
    sheet: str = "export"  # the XLSX sheet's title

    def filename(self, fmt: str) -> str:
        return f"{self.name}.{fmt}"

    def render(self, fmt: str) -> tuple[bytes, str]:
        """(file content, content type) in ``fmt`` (csv or xlsx)."""
        if fmt == "csv":
            return self.csv_text().encode("utf-8"), CONTENT_TYPES[fmt]
        if fmt == "xlsx":
            return self.xlsx_bytes(), CONTENT_TYPES[fmt]
        raise ValueError(f"unknown export format {fmt!r}")

    def csv_text(self) -> str:
        buffer = io.StringIO()
        buffer.write(BOM)
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([safe_cell(name) for name in self.header])
        writer.writerows([safe_cell(value) for value in row] for row in self.rows)
        return buffer.getvalue()

    def xlsx_bytes(self) -> bytes:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(self.sheet[:31])
        sheet.freeze_panes = "A2"
        for index, width in enumerate(self._widths()):
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
        bold = Font(bold=True)
        header = []
        for name in self.header:
            cell = WriteOnlyCell(sheet, value=xlsx_cell(name))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in self.rows:
            sheet.append([xlsx_cell(value) for value in row])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    def _widths(self) -> list[float]:
        widths = [len(str(name)) for name in self.header]
        for row in self.rows[:200]:
            for index, value in enumerate(row[:len(widths)]):
                widths[index] = max(widths[index], len(str(value)) if value is not None else 0)
        return [min(MAX_COLUMN_WIDTH, w + 2) for w in widths]


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_cell(value):
    """``safe_cell``, without the characters XLSX cannot store."""
    value = safe_cell(value)
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _name(season: Season, what: str) -> str:
    start = season.parameters.get("season_start_date", "")
    return f"{what}-{season.category_id}-{start or season.pk}"


def allocation_export(season: Season) -> Export:
    store_rows = StoreAllocation.objects.filter(allocation__season=season).order_by("store_id")
    rows = [
        [store_id, name, cluster_id or "", round(factor, 6), planned, initial, holdback]
        for store_id, name, cluster_id, factor, planned, initial, holdback in store_rows.values_list(
            "store_id", F("store__name"), "cluster_id", "factor", "planned_units", "initial_qty",
            "holdback_qty")
    ]
    if not rows and not Allocation.objects.filter(season=season).exists():
        raise NotFound("This season has no allocation yet.")
    return Export(
        name=_name(season, "allocation"), sheet="allocation",
        header=["store_id", "store_name", "cluster_id", "factor", "planned_units", "initial_allocation",
                "holdback_allocation"],
        rows=rows,
    )


def replenishment_export(season: Season) -> Export:
    shipments = Replenishment.objects.filter(season=season).order_by("week", "-need_units", "store_id")
    rows = [
        [week, store_id, name, need, quantity, "yes" if partial else "no"]
        for week, store_id, name, need, quantity, partial in shipments.values_list(
            "week", "store_id", F("store__name"), "need_units", "quantity", "partial")
    ]
    return Export(
        name=_name(season, "replenishment"), sheet="replenishment",
        header=["week_number", "store_id", "store_name", "need_units", "quantity", "partial"],
        rows=rows,
    )


def variance_export(season: Season) -> Export:
    rows = [
        [c.week, round(c.forecast_cum, 2), c.actual_cum, round(c.variance, 4),
         round(c.signed_variance, 4), c.band, round(c.threshold, 4),
         "yes" if c.exceeded else "no", "yes" if c.emergency else "no",
         c.shortage_units if c.shortage_units is not None else "", c.stock_alert,
         c.units_at_risk if c.units_at_risk is not None else "", c.action_taken]
        for c in VarianceCheck.objects.filter(season=season).order_by("week")
    ]
    return Export(
        name=_name(season, "variance"), sheet="variance",
        header=["week_number", "forecasted_cumulative", "actual_cumulative", "variance_pct", "signed_variance",
                "band", "threshold", "threshold_exceeded", "emergency", "shortage_units",
                "stock_alert", "units_at_risk", "action_taken"],
        rows=rows,
    )


SCENARIO_COLUMNS = ("name", "rank", "manufacturing_qty", "expected_units_sold", "expected_sell_through",
                    "stockout_probability", "expected_lost_sales", "expected_leftover_units", "expected_markdown_cost",
                    "expected_revenue", "expected_gross_margin", "gross_margin_p10", "gross_margin_p90",
                    "expected_demand", "demand_exceeds_buy_probability", "markdown_probability",
                    "expected_markdown_pct", "expected_salvage_value")
SCENARIO_SETTINGS = ("safety_stock_pct", "dc_holdback_percentage", "replenishment_strategy",
                     "markdown_checkpoint_week", "markdown_threshold", "markdown_pct")


def scenario_export(comparison: ScenarioComparison) -> Export:
    """One row per scenario: the SPEC fields, its rank and the settings it ran with, and whether it
    is the recommended one."""
    season = comparison.season
    rows = [
        [*(result[name] for name in SCENARIO_COLUMNS),
         *("" if result["settings"][name] is None else result["settings"][name] for name in SCENARIO_SETTINGS),
         "yes" if result["name"] == comparison.recommended else "no"]
        for result in comparison.results
    ]
    return Export(
        name=f"scenarios-{season.category_id}-{comparison.kind}-{comparison.pk}", sheet="scenarios",
        header=[*SCENARIO_COLUMNS, *SCENARIO_SETTINGS, "recommended"],
        rows=rows,
    )
