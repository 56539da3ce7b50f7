"""manage.py backtest: rolling-origin backtests of the forecasting models on the loaded history;
``--series``: the accuracy table over many weekly series (real, peer, synthetic, generated)."""
from datetime import date
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from django.conf import settings

from mlpipeline.backtest import format_table, run_backtest, target_failures
from planning.models import Category
from planning.services.forecasting import daily_units


def history_frame(category_ids):
    """The daily sales frame (category totals per day) of the given categories from the database."""
    frames = []
    for category_id in category_ids:
        daily = daily_units(category_id)
        if daily.empty:
            continue
        frames.append(
            pd.DataFrame(
                {
                    "date": daily.index,
                    "store_id": "ALL",
                    "category": category_id,
                    "quantity_sold": daily.to_numpy(dtype="int64"),
                }
            )
        )
    if not frames:
        raise CommandError("No sales history loaded for those categories.")
    return pd.concat(frames, ignore_index=True)


class Command(BaseCommand):
    help = (
        "Backtest every forecast member (prophet, arima, ets, ses, seasonal naive, seasonal naive "
        "x growth), the Prophet + ARIMA ensemble and the evidence combination over the last two "
        "seasons of history (12-week horizon, rolling origins); prints WAPE, MAPE, bias, interval "
        "coverage and fit time per model and category. --series: the table over many weekly "
        "series (WAPE / seasonal-naive WAPE, bias, 80% coverage) instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--category", action="append", help="category id (repeatable)")
        parser.add_argument("--horizon", type=int, default=12)
        parser.add_argument("--origins", type=int, default=8)
        parser.add_argument(
            "--season-start",
            type=date.fromisoformat,
            help="align weeks to this date's weekday (default: the day after the last sale)",
        )
        parser.add_argument("--weighting", choices=["evidence", "equal", "backtest"], default="evidence")
        parser.add_argument("--series", action="store_true",
                            help="the table over the evaluation series of mlpipeline.series_catalog")
        parser.add_argument("--kinds", nargs="*", choices=["real", "peer", "synthetic", "generated"])
        parser.add_argument("--peer-data", type=Path,
                            default=Path(settings.BASE_DIR).parent / "shared" / "peer-data")

    def handle(self, *args, category, horizon, origins, season_start, weighting, **options):
        if options["series"]:
            return self.series_table(options["peer_data"], tuple(options["kinds"] or ()), horizon)
        ids = category or list(Category.objects.values_list("id", flat=True))
        unknown = set(ids) - set(Category.objects.filter(id__in=ids).values_list("id", flat=True))
        if unknown:
            raise CommandError(f"Unknown category: {', '.join(sorted(unknown))}")
        table = run_backtest(
            history_frame(ids),
            horizon=horizon,
            origins=origins,
            season_start=season_start,
            weighting=weighting,
        )
        self.stdout.write(format_table(table))
        failures = target_failures(table)
        for failure in failures:
            self.stdout.write(self.style.WARNING(f"target missed: {failure}"))
        if not failures:
            self.stdout.write(self.style.SUCCESS("Accuracy targets met on every category."))

    def series_table(self, peer_data, kinds, horizon):
        from mlpipeline import series_backtest
        from mlpipeline.series_catalog import catalog

        table = series_backtest.run_series_backtest(catalog(peer_data, kinds), horizon)
        self.stdout.write(series_backtest.format_series_table(table))
        self.stdout.write("")
        self.stdout.write(series_backtest.format_summary(table))
        failures = series_backtest.target_failures(table)
        for failure in failures:
            self.stdout.write(self.style.WARNING(f"target missed: {failure}"))
        if not failures:
            self.stdout.write(self.style.SUCCESS("Accuracy targets met over the evaluation series."))
