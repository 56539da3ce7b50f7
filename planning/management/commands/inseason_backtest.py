"""manage.py inseason_backtest: the in-season re-forecast against the unchanged plan and the ratio
rule, replayed week by week (mlpipeline.inseason_backtest; the same table as bench/inseason.py)."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mlpipeline import inseason_backtest
from mlpipeline.forecasting import quiet_fits

SETS = ("peer", "synthetic", "rolling")


class Command(BaseCommand):
    help = (
        "Replay seasons week by week and compare the in-season re-forecast of the remaining weeks "
        "with the unchanged plan and the ratio rule: mean relative error of the remaining total, "
        "80% interval coverage and re-forecast counts, per scenario, then the done-criteria. Sets: "
        "the peer scenarios (--peer-data), synthetic scenarios with known truth, past seasons."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sets", nargs="*", choices=SETS, default=list(SETS))
        parser.add_argument("--peer-data", type=Path, default=Path(settings.BASE_DIR).parent / "shared" / "peer-data",
                            help="the peer data folder (historical_sales_2022_2024.csv, scenarios/)")
        parser.add_argument("--detail", action="store_true", help="one row per season")

    def handle(self, *args, **options):
        peer = options["peer_data"]
        if "peer" in options["sets"] and not (peer / "scenarios").is_dir():
            raise CommandError(f"No peer scenarios under {peer}; give --peer-data or leave 'peer' out of --sets.")
        with quiet_fits():
            rows = inseason_backtest.run(options["sets"], peer if peer.is_dir() else None)
        if not rows:
            raise CommandError("No seasons to replay.")
        if options["detail"]:
            for row in rows:
                row["kind"] = row["name"]
        self.stdout.write("\n".join(inseason_backtest.report(rows)))
