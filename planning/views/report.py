"""The season report page (SPEC §9.4): the season service builds the report; this shows it."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from planning.errors import Conflict
from planning.models import Season, StoreCluster
from planning.services import allocation as plans
from planning.services import report as reports


@login_required
@require_GET
def season_report(request, season_id):
    season = get_object_or_404(
        Season.objects.select_related("category", "owner", "current_run"), pk=season_id
    )
    try:
        report = reports.season_report(season)
    except Conflict as exc:
        return render(request, "planning/report.html",
                      {"season": season, "report": None, "reason": exc.detail, "nav": "seasons"})
    original = plans.original_forecast(season)
    weekly_actual = [week["actual"] for week in report["weeks"]]
    names = dict(StoreCluster.objects.values_list("pk", "name"))
    by_cluster = [
        {"cluster": names.get(cluster_id, cluster_id), **accuracy}
        for cluster_id, accuracy in report["by_cluster"].items()
    ]
    return render(request, "planning/report.html", {
        "season": season,
        "report": report,
        "original": original,
        "weekly_actual": weekly_actual,
        "by_cluster": by_cluster,
        "nav": "seasons",
    })
