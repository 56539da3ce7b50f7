"""Write the demo's CSV files, for trying the uploads and the API by hand: the demo stores, and
the weekly actuals of a season of the seeded generator's held-out future (known truth)."""
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mlpipeline import synthetic
from mlpipeline.synthetic import SCENARIO_FACTORS


class Command(BaseCommand):
    help = "Write demo CSVs (stores, and a season's weekly actuals) under VAR_DIR/demo/ (or --folder)."

    def add_arguments(self, parser):
        parser.add_argument("--folder", help="Where to write (default VAR_DIR/demo)")
        parser.add_argument("--category", default="womens_dresses")
        parser.add_argument("--season-start", default="2025-03-01", help="Week 1's first day")
        parser.add_argument("--weeks", type=int, default=12)
        parser.add_argument("--scenario", default="normal", choices=sorted(SCENARIO_FACTORS))

    def handle(self, *args, folder=None, category, season_start, weeks, scenario, **options):
        try:
            start = date.fromisoformat(season_start)
        except ValueError as exc:
            raise CommandError(f"--season-start: {exc}") from exc
        folder = Path(folder or Path(settings.VAR_DIR) / "demo")
        folder.mkdir(parents=True, exist_ok=True)
        stores = synthetic.generate_stores()
        written = [synthetic.write_stores_csv(folder / "stores.csv", stores)]
        truth = synthetic.generate_future_season(stores, category, start, weeks, scenario)
        written += synthetic.write_weekly_actuals_csvs(folder / f"{category}_{scenario}", truth)
        for path in written:
            self.stdout.write(str(path))
