from django.contrib.auth import views as auth_views
from django.urls import path

from planning.views import batches, data, report, scenarios, season, seasons, store_tables

urlpatterns = [
    path("", seasons.seasons, name="seasons"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # New season: describe -> extract -> check the card -> confirm & run.
    path("seasons/new/", seasons.new_season, name="new-season"),
    path("seasons/new/extract", seasons.extract, name="extract-parameters"),
    path("seasons/new/check", seasons.check, name="check-parameters"),
    path("seasons/new/confirm", seasons.confirm, name="confirm-season"),
    path("seasons/plan-all", batches.plan_all, name="plan-all"),
    path("batches/<uuid:batch_id>/", batches.batch_progress, name="batch-progress"),
    # One season: the page, its panels (htmx) and the planner's actions.
    path("seasons/<uuid:season_id>/", season.season_page, name="season"),
    path("seasons/<uuid:season_id>/panels", season.season_panels, name="season-panels"),
    path("seasons/<uuid:season_id>/cards", season.season_cards, name="season-cards"),
    path("seasons/<uuid:season_id>/manufacturing", season.manufacturing_decision, name="manufacturing-decision"),
    path("seasons/<uuid:season_id>/markdown", season.markdown_decision, name="markdown-decision"),
    path("seasons/<uuid:season_id>/scenarios", scenarios.scenario_comparison, name="scenario-comparison"),
    path("seasons/<uuid:season_id>/actuals", season.upload_actuals, name="upload-actuals"),
    path("seasons/<uuid:season_id>/variance/<int:week>/stores", store_tables.store_variance, name="store-variance"),
    # The season page's store tables, a page at a time (htmx; without it, the season page).
    path("seasons/<uuid:season_id>/stores", store_tables.season_stores_table, name="season-stores-table"),
    path("seasons/<uuid:season_id>/shipments", store_tables.season_shipments_table, name="season-shipments-table"),
    path("seasons/<uuid:season_id>/run-again", season.run_again, name="run-again"),
    path("seasons/<uuid:season_id>/report/", report.season_report, name="season-report"),
    # Data: history and store uploads, categories, data quality.
    path("data/", data.data_page, name="data"),
    path("data/history", data.upload_history, name="upload-history"),
    path("data/stores", data.upload_stores, name="upload-stores"),
]
