from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from planning.errors import PlanningError
from planning.services import history_import

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = (
        "Import a historical sales CSV (date, category, store_id, quantity_sold[, revenue]), plain or "
        "gzip-compressed (.csv.gz), with the same checks as the upload, or generate and import the "
        "synthetic demo history."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("path", nargs="?", help="The CSV file to import (.csv or .csv.gz)")
        source.add_argument(
            "--synthetic",
            action="store_true",
            help="Write the seeded demo history to VAR_DIR/demo_history.csv and import it",
        )
        parser.add_argument("--seed", type=int, default=42, help="Seed of the synthetic history")

    def handle(self, *args, path=None, synthetic=False, seed=42, **options):
        if synthetic:
            from mlpipeline.synthetic import write_history_csv

            path = write_history_csv(Path(settings.VAR_DIR) / "demo_history.csv", seed=seed)
            self.stdout.write(f"Wrote the synthetic history to {path}")
        path = Path(path)
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        try:
            report = history_import.import_historical_sales(path, filename=path.name)
        except PlanningError as exc:
            lines = [exc.detail] + [
                f"  row {e['row']}, {e['column']}: {e['message']}"
                for e in (exc.errors or [])[:SHOWN_ERRORS]
            ]
            raise CommandError("\n".join(lines)) from exc
        self._print(report)

    def _print(self, report):
        dates = report["date_range"]
        quality = report["data_quality"]
        self.stdout.write(
            f"Imported {report['rows_imported']:,} rows in {report['seconds']:.2f} s "
            f"({report['rows_added']:,} new, {report['rows_replaced']:,} replaced): "
            f"{report['stores']} stores, {dates['start']} to {dates['end']}."
        )
        for category in report["categories_detected"]:
            note = " (new)" if category["created"] else ""
            self.stdout.write(
                f"  {category['category_id']}: {category['category_name']}{note}, {category['row_count']:,} rows, "
                f"data version {category['data_version']}"
            )
        self.stdout.write(
            f"Data quality: {quality['status']}; {quality['missing_store_days']:,} missing "
            f"store-days, {quality['zero_weeks']} zero weeks, "
            f"{quality['outlier_weeks']} outlier weeks."
        )
