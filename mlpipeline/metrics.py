"""Season performance metrics (SPEC §4 Metrics, §9.4 report page).

Ratios are fractions (0.12 = 12%). A ratio whose denominator is zero (no sales at all) is None
rather than 0 or infinity, so a report never shows a made-up accuracy.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

STORE_WEEK_COLUMNS = ("store_id", "week", "units_sold", "demand", "on_hand")


def _pair(actual: Sequence[float], forecast: Sequence[float]) -> tuple[list[float], list[float]]:
    a, f = [float(x) for x in actual], [float(x) for x in forecast]
    if len(a) != len(f):
        raise ValueError(f"{len(a)} weeks of actuals against {len(f)} weeks of forecast")
    return a, f


def mape(actual: Sequence[float], forecast: Sequence[float]) -> float | None:
    """MAPE = mean over weeks with a > 0 of |a - f| / a (weeks without sales have no percentage
    error and are skipped). None when no week sold anything."""
    a, f = _pair(actual, forecast)
    errors = [abs(x - y) / x for x, y in zip(a, f) if x > 0]
    return sum(errors) / len(errors) if errors else None


def wape(actual: Sequence[float], forecast: Sequence[float]) -> float | None:
    """WAPE = sum |a - f| / sum a: the error in units per unit sold, so big weeks weigh more."""
    a, f = _pair(actual, forecast)
    sold = sum(a)
    return sum(abs(x - y) for x, y in zip(a, f)) / sold if sold > 0 else None


def bias(actual: Sequence[float], forecast: Sequence[float]) -> float | None:
    """bias = (sum f - sum a) / sum a: > 0 the forecast was too high (overbuy), < 0 too low."""
    a, f = _pair(actual, forecast)
    sold = sum(a)
    return (sum(f) - sold) / sold if sold > 0 else None


def sell_through(units_sold: float, manufactured: float) -> float | None:
    """sell-through = units sold / units manufactured; None when nothing was made."""
    return float(units_sold) / float(manufactured) if manufactured > 0 else None


def leftover_units(manufactured: int, units_sold: float) -> int:
    """Units left at season end (stores + DC) = manufactured - sold, never below 0."""
    return max(0, int(manufactured) - math.floor(float(units_sold) + 0.5))


def markdown_cost(marked_down_units: float, markdown_pct: float, full_price: float = 1.0) -> float:
    """Revenue given up by the markdown = units sold at the marked-down price * markdown * full
    price. With the default full_price of 1 the cost is in full-price unit equivalents."""
    if marked_down_units < 0 or not 0 <= markdown_pct <= 1 or full_price < 0:
        raise ValueError("marked_down_units and full_price must be >= 0, markdown_pct within 0..1")
    return float(marked_down_units) * float(markdown_pct) * float(full_price)


@dataclass(frozen=True)
class StockoutSummary:
    count: int  # store-weeks out of stock with demand left unmet
    unmet_units: float  # sum of demand - units sold over those store-weeks
    store_weeks: list[tuple[str, int]]  # (store_id, week), sorted


def stockouts(store_weeks: pd.DataFrame) -> StockoutSummary:
    """A stockout is a store-week that ended with nothing on hand (on_hand <= 0) while planned
    demand exceeded what the store sold (demand > units_sold). ``store_weeks`` has the columns of
    STORE_WEEK_COLUMNS: on_hand is the closing stock of the week, demand the store's planned units
    for that week."""
    missing = [c for c in STORE_WEEK_COLUMNS if c not in store_weeks.columns]
    if missing:
        raise ValueError(f"store-week frame is missing columns: {', '.join(missing)}")
    unmet = store_weeks["demand"].astype(float) - store_weeks["units_sold"].astype(float)
    out = store_weeks[(store_weeks["on_hand"] <= 0) & (unmet > 0)]
    keys = sorted(zip(out["store_id"].astype(str), out["week"].astype(int)))
    return StockoutSummary(count=len(keys), unmet_units=float(unmet[out.index].sum()), store_weeks=keys)


@dataclass(frozen=True)
class TriggerCheck:
    week: int
    triggered: bool  # the variance check fired a re-forecast this week
    baseline_season_total: float  # season total of the baseline in force at this check


@dataclass(frozen=True)
class TriggerAccuracy:
    accuracy: float | None  # (true triggers + correct holds) / checks; None without checks
    true_triggers: int  # fired, and the baseline did miss the season by more than the threshold
    false_triggers: int  # fired, but the baseline turned out within the threshold
    missed_triggers: int  # held, but the baseline missed the season by more than the threshold
    correct_holds: int  # held, and the baseline was within the threshold
    checks: int


def reforecast_was_needed(baseline_season_total: float, actual_season_total: float, threshold: float) -> bool:
    """A re-forecast was needed when the baseline's season total missed the actual season total by
    more than the threshold: |actual - baseline| / baseline > threshold."""
    if baseline_season_total <= 0:
        return actual_season_total > 0
    return abs(actual_season_total - baseline_season_total) / baseline_season_total > threshold


def trigger_accuracy(
    checks: Sequence[TriggerCheck], actual_season_total: float, threshold: float = 0.20
) -> TriggerAccuracy:
    """Trigger accuracy = share of weekly variance checks whose decision (re-forecast or hold) was
    right in hindsight, where "right" compares the decision with reforecast_was_needed() for the
    baseline in force at that check and the season's actual total. A trigger on early noise that
    the season later made up counts as a false trigger; a hold on a baseline that ended up far off
    counts as a missed trigger."""
    counts = {"true": 0, "false": 0, "missed": 0, "hold": 0}
    for check in checks:
        needed = reforecast_was_needed(check.baseline_season_total, actual_season_total, threshold)
        key = ("true" if needed else "false") if check.triggered else ("missed" if needed else "hold")
        counts[key] += 1
    total = len(checks)
    return TriggerAccuracy(
        accuracy=(counts["true"] + counts["hold"]) / total if total else None,
        true_triggers=counts["true"],
        false_triggers=counts["false"],
        missed_triggers=counts["missed"],
        correct_holds=counts["hold"],
        checks=total,
    )


@dataclass(frozen=True)
class WeekAccuracy:
    week: int
    actual: float
    forecast: float
    error: float  # forecast - actual
    abs_pct_error: float | None  # |a - f| / a, None when a = 0


@dataclass(frozen=True)
class AccuracySummary:
    mape: float | None
    wape: float | None
    bias: float | None


@dataclass(frozen=True)
class SeasonReport:
    accuracy: AccuracySummary
    weeks: list[WeekAccuracy]
    by_cluster: dict[str, AccuracySummary]  # empty unless store-weeks with a cluster are given
    manufactured: int
    units_sold: float
    sell_through: float | None
    leftover_units: int
    stockouts: StockoutSummary | None  # None without store-week data
    markdown_pct: float
    markdown_cost: float
    trigger_accuracy: TriggerAccuracy | None  # None without variance checks


def accuracy_summary(actual: Sequence[float], forecast: Sequence[float]) -> AccuracySummary:
    """MAPE, WAPE and bias of one weekly series."""
    return AccuracySummary(mape=mape(actual, forecast), wape=wape(actual, forecast), bias=bias(actual, forecast))


def season_report(
    actual_weekly: Sequence[float],
    forecast_weekly: Sequence[float],
    manufactured: int,
    store_weeks: pd.DataFrame | None = None,
    markdown_pct: float = 0.0,
    marked_down_units: float = 0.0,
    full_price: float = 1.0,
    trigger_checks: Sequence[TriggerCheck] = (),
    threshold: float = 0.20,
) -> SeasonReport:
    """The season-end report from plain inputs: category weekly actuals and the original forecast
    (accuracy overall and by week), the manufacturing quantity (sell-through, leftover), optional
    store-weeks (STORE_WEEK_COLUMNS, plus ``cluster`` for accuracy by cluster, with demand as the
    store's planned units) for stockouts, the markdown taken and the weekly variance checks."""
    actual, forecast = _pair(actual_weekly, forecast_weekly)
    weeks = [
        WeekAccuracy(week=n, actual=a, forecast=f, error=f - a, abs_pct_error=abs(a - f) / a if a > 0 else None)
        for n, (a, f) in enumerate(zip(actual, forecast), start=1)
    ]
    by_cluster: dict[str, AccuracySummary] = {}
    if store_weeks is not None and "cluster" in store_weeks.columns:
        weekly = store_weeks.groupby(["cluster", "week"])[["units_sold", "demand"]].sum()
        for cluster, rows in weekly.groupby(level="cluster"):
            by_cluster[str(cluster)] = accuracy_summary(rows["units_sold"].tolist(), rows["demand"].tolist())
    sold = sum(actual)
    return SeasonReport(
        accuracy=accuracy_summary(actual, forecast),
        weeks=weeks,
        by_cluster=by_cluster,
        manufactured=int(manufactured),
        units_sold=sold,
        sell_through=sell_through(sold, manufactured),
        leftover_units=leftover_units(manufactured, sold),
        stockouts=stockouts(store_weeks) if store_weeks is not None else None,
        markdown_pct=float(markdown_pct),
        markdown_cost=markdown_cost(marked_down_units, markdown_pct, full_price),
        trigger_accuracy=trigger_accuracy(trigger_checks, sold, threshold) if trigger_checks else None,
    )
