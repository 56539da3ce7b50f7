"""Migration 0012 (the saved scenario comparison) run for real, backwards and forwards, on the
test database (SQLite, or PostgreSQL when DATABASE_URL points there): the table appears with its
columns, holds a comparison of an existing season, and goes away again. It always leaves the
database at the latest migration."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("planning", "0011_variance_rest_of_season")
AFTER = ("planning", "0012_scenario_comparison")
TABLE = "planning_scenariocomparison"
pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


def _latest():
    return [node for node in MigrationExecutor(connection).loader.graph.leaf_nodes() if node[0] == "planning"]


def _tables():
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def test_the_scenario_comparison_table_migrates_both_ways():
    try:
        apps = _migrate(BEFORE)
        assert TABLE not in _tables()
        Season = apps.get_model("planning", "Season")
        season = Season.objects.create(category=apps.get_model("planning", "Category").objects.create(
            id="womens_dresses", name="Women's Dresses"), parameters={"forecast_horizon_weeks": 12})
        apps = _migrate(AFTER)
        assert TABLE in _tables()
        with connection.cursor() as cursor:
            columns = {c.name for c in connection.introspection.get_table_description(cursor, TABLE)}
        assert {"season_id", "kind", "paths", "seed", "scenarios", "results", "margin_bin_edges", "recommended",
                "forecast_id", "forecast_version", "week", "economics", "demand", "created_by_id",
                "created_at"} <= columns
        Comparison = apps.get_model("planning", "ScenarioComparison")
        saved = Comparison.objects.create(
            season_id=season.pk, kind="manufacturing", paths=2000, seed=2**40, scenarios=[{"name": "a"}],
            results=[{"name": "a", "expected_gross_margin": 1.5}], recommended="a", forecast_version=1)
        saved.refresh_from_db()
        assert (saved.seed, saved.results[0]["expected_gross_margin"], saved.week) == (2**40, 1.5, 0)
        _migrate(BEFORE)
        assert TABLE not in _tables()
    finally:
        MigrationExecutor(connection).migrate(_latest())
