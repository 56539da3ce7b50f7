"""What the approval panels' scenario comparison shows (SPEC §13): the latest comparison of the
kind the season waits for, arranged for the table and the chart, and the what-if rows to compare
next (pre-filled from the approval, or as the planner typed them). Reads only."""
from planning.errors import Conflict
from planning.scenario_forms import ScenarioRows, buy_range, manufacturing_rows, markdown_rows
from planning.selectors.scenarios import MANUFACTURING, comparison_dict, comparison_kind, latest_comparison
from planning.services.scenarios import DEFAULT_PATHS

# Where a row's "Accept" posts, and the panel that answer replaces.
ACCEPT = {MANUFACTURING: ("manufacturing-decision", "#manufacturing-panel"),
          "markdown": ("markdown-decision", "#markdown-panel")}


def panel_context(season, *, can_plan, rows: ScenarioRows | None = None, comparison=None) -> dict:
    """``{"sc": ...}`` for planning/partials/scenario_comparison.html. ``rows``: the planner's rows
    (with their problems) to show again; ``comparison``: the one just saved (else the latest)."""
    try:
        kind = comparison_kind(season)
    except Conflict as exc:
        return {"season": season, "can_plan": can_plan, "sc": {"unavailable": exc.detail}}
    latest = comparison or latest_comparison(season, kind)
    shown = comparison_view(latest) if latest else None
    if rows is None:
        paths, seed = (latest.paths, latest.seed) if latest else (DEFAULT_PATHS, 0)
        rows = ScenarioRows.initial(kind, default_rows(season, kind), paths=paths, seed=seed)
    accept_url, accept_target = ACCEPT[kind]
    return {"season": season, "can_plan": can_plan, "sc": {
        "kind": kind, "comparison": shown, "form": rows.table(), "accept_url": accept_url,
        "accept_target": accept_target, "markdown": kind != MANUFACTURING, "just_compared": comparison is not None,
        "buy_range": buy_range(season.approval_data or {}) if kind == MANUFACTURING else None}}


def default_rows(season, kind) -> list[dict]:
    if kind == MANUFACTURING:
        return manufacturing_rows(season.approval_data or {})
    decision = season.markdowns.first()
    return markdown_rows(decision.markdown_pct if decision else 0.0)


def comparison_view(row) -> dict:
    """``comparison_dict`` with each scenario's recommended flag and its markdown depth."""
    body = comparison_dict(row)
    body["scenarios"] = [{**s, "is_recommended": s["name"] == body["recommended"],
                          "markdown_pct": (s.get("settings") or {}).get("markdown_pct")}
                         for s in body["scenarios"]]
    body["created_at_dt"] = row.created_at
    return body
