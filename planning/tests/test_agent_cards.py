"""The agent cards' rule set (planning.selectors.agent_cards) on event sequences, including the
progress events that no completion follows, and the cards fragment the live page reloads."""
import re
from types import SimpleNamespace

import pytest
from django.test import Client

from planning.selectors.agent_cards import agent_cards
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)
from planning.tests.season_fixtures import accept_order, start_season, upload_week, week_units


def ev(type, agent=None, **payload):
    if agent is not None:
        payload["agent"] = agent
    return SimpleNamespace(type=type, payload=payload)


def started(agent, step=None, **extra):
    return ev("agent_started", agent, step=step or agent, **extra)


def progress(agent, message, **extra):
    return ev("agent_progress", agent, message=message, progress_pct=50, **extra)


def completed(agent, summary="ok", duration=1.5, **extra):
    return ev("agent_completed", agent, duration_seconds=duration, result={"summary": summary},
              runner="deterministic", **extra)


def waiting(agent, action):
    return ev("human_input_required", agent, action=action, data={}, options=["modify", "accept"])


def complete():
    return ev("workflow_complete", duration_seconds=3.0, result={})


def error(agent, message="boom"):
    return ev("error", agent, error_message=message)


PRE_SEASON = [
    started("demand"), progress("demand", "Forecast 115,793 units"), completed("demand", "Forecast done"),
    started("inventory"), progress("inventory", "Sizing the manufacturing order"), completed("inventory"),
    waiting("inventory", "approve_manufacturing_order"),
]
ACCEPTED = PRE_SEASON + [
    progress("inventory", "Manufacturing order accepted by planner"),
    started("pricing"), progress("pricing", "Scheduling the markdown checkpoint"), completed("pricing"),
    complete(),
]


def states(events):
    return {card["agent"]: card["state"] for card in agent_cards(events)}


def card_of(events, agent):
    return next(card for card in agent_cards(events) if card["agent"] == agent)


def test_no_events_three_idle_cards():
    cards = agent_cards([])
    assert [c["agent"] for c in cards] == ["demand", "inventory", "pricing"]
    assert {c["state"] for c in cards} == {"idle"}
    assert all(c["role"] for c in cards)


def test_pre_season_run_to_the_approval_and_on():
    assert states(PRE_SEASON[:2]) == {"demand": "running", "inventory": "idle", "pricing": "idle"}
    assert card_of(PRE_SEASON[:2], "demand")["summary"] == "Working…"
    assert states(PRE_SEASON) == {"demand": "done", "inventory": "waiting", "pricing": "idle"}
    demand = card_of(PRE_SEASON, "demand")
    assert (demand["duration"], demand["summary"], demand["runner"]) == (1.5, "Forecast done", "deterministic")
    # The accept's progress event is a log line; the card waits until the workflow moves on.
    assert states(ACCEPTED[:8])["inventory"] == "waiting"
    assert states(ACCEPTED[:9]) == {"demand": "done", "inventory": "done", "pricing": "running"}
    assert states(ACCEPTED) == {"demand": "done", "inventory": "done", "pricing": "done"}
    assert card_of(ACCEPTED, "inventory")["log"] == [
        "Started", "Sizing the manufacturing order", "Completed", "Manufacturing order accepted by planner"]


def test_a_progress_event_never_makes_a_card_running():
    for agent in ("demand", "inventory", "pricing"):
        events = ACCEPTED + [progress(agent, "anything at all", week=1)]
        assert states(events)[agent] == "done", agent
        assert card_of(events, agent)["log"][-1] == "anything at all"
    assert states([progress("pricing", "before any step")])["pricing"] == "idle"


def week(n, *, replenish="dc_empty", markdown=None):
    """The events of one processed week (the shapes planning.services.weeks emits)."""
    events = [progress("demand", f"Week {n} actuals uploaded", week=n),
              started("demand", "variance_check", week=n), progress("demand", f"Week {n}: variance 3%", week=n),
              completed("demand", "No re-forecast", week=n)]
    if replenish == "dc_empty":
        events.append(progress("inventory", f"Week {n}: no replenishment, the DC is empty", week=n))
    elif replenish == "ship":
        events += [started("inventory", "replenishment", week=n), progress("inventory", "shipped", week=n),
                   completed("inventory", "Replenishment", week=n)]
    if markdown:
        events += [started("pricing", "markdown", week=n), progress("pricing", "Checking sell-through", week=n),
                   completed("pricing", "Markdown checked", week=n)]
        if markdown == "on_track":
            events.append(progress("pricing", "Markdown checkpoint: on track; no markdown needed", week=n))
        else:
            events.append(waiting("pricing", "approve_markdown"))
    return events


def test_dc_empty_leaves_the_inventory_card_done():
    events = ACCEPTED + week(1)
    assert states(events) == {"demand": "done", "inventory": "done", "pricing": "done"}
    assert card_of(events, "inventory")["log"][-1] == "Week 1: no replenishment, the DC is empty"


def test_markdown_on_track_leaves_the_pricing_card_done():
    events = ACCEPTED + week(1, replenish="ship", markdown="on_track")
    assert states(events) == {"demand": "done", "inventory": "done", "pricing": "done"}
    assert card_of(events, "pricing")["summary"] == "Markdown checked"


def test_alerts_and_reviews_are_log_lines_whatever_their_text():
    # An emergency alert, or an over-stock review from the variance step: progress, no step.
    events = ACCEPTED + week(1)[:4] + [
        progress("inventory", "Emergency order alert: shortage 1,200 units", week=1, alert={"shortage": 1200}),
        progress("demand", "Over-stock review: 900 units at risk of being left over", week=1, alert={}),
    ]
    assert states(events) == {"demand": "done", "inventory": "done", "pricing": "done"}


def test_every_card_settles_after_each_week_and_is_done_at_the_end():
    events = list(ACCEPTED)
    for n in range(1, 6):
        events += week(n, replenish="ship" if n % 2 else "dc_empty", markdown="recommend" if n == 3 else None)
        if n == 3:
            assert states(events) == {"demand": "done", "inventory": "done", "pricing": "waiting"}
            events += [progress("pricing", "Preview: elasticity 1.5; not committed"),
                       progress("pricing", "Markdown accepted by planner")]
            assert states(events)["pricing"] == "waiting"
            events += [started("pricing", "apply_markdown", week=3)]
            assert states(events)["pricing"] == "running"
            events += [completed("pricing", "Markdown applied", week=3)]
        assert "running" not in states(events).values(), n
    events.append(complete())
    assert states(events) == {"demand": "done", "inventory": "done", "pricing": "done"}
    assert card_of(events, "pricing")["summary"] == "Markdown applied"


def test_a_re_forecast_inside_a_week():
    events = ACCEPTED + [
        progress("demand", "Week 1 actuals uploaded", week=1), started("demand", "variance_check", week=1),
        completed("demand", "Re-forecast", week=1), started("demand", "reforecast", week=1),
        progress("demand", "Refitting", week=1)]
    assert states(events)["demand"] == "running"
    assert card_of(events, "demand")["log"][-3:] == ["Completed", "Started reforecast (week 1)", "Refitting"]
    assert states(events + [completed("demand", "v2", week=1)])["demand"] == "done"


def test_a_failed_step():
    events = [started("demand"), progress("demand", "Forecasting"), error("demand", "no history")]
    card = card_of(events, "demand")
    assert (card["state"], card["summary"], card["log"][-1]) == ("failed", "no history", "Failed: no history")
    # An error naming no agent fails the step that was open.
    events = PRE_SEASON[:5] + [error(None, "Interrupted in step inventory")]
    assert states(events) == {"demand": "done", "inventory": "failed", "pricing": "idle"}


def test_a_resumed_step():
    events = [started("demand"), progress("demand", "Forecasting"),
              progress("demand", "Resuming step demand after the process running it stopped (recovery attempt 1 of 2)")]
    assert states(events)["demand"] == "running"
    events += [started("demand"), completed("demand", "Forecast done")]
    card = card_of(events, "demand")
    assert card["state"] == "done"
    assert card["log"] == ["Started", "Forecasting", "Resuming step demand after the process running it stopped "
                           "(recovery attempt 1 of 2)", "Started", "Completed"]
    # A recovery notice naming no agent is ignored.
    assert states([ev("agent_progress", "", message="Resuming step done")]) == states([])


def test_a_step_left_open_is_over_once_the_run_pauses_completes_or_moves_on():
    open_demand = [started("demand"), progress("demand", "Forecasting")]
    assert states(open_demand + [complete()])["demand"] == "done"
    assert states(open_demand + [waiting("inventory", "approve_manufacturing_order")]) == {
        "demand": "done", "inventory": "waiting", "pricing": "idle"}
    assert states(open_demand + [started("inventory")]) == {"demand": "done", "inventory": "running", "pricing": "idle"}
    assert card_of(open_demand + [complete()], "demand")["summary"] == ""


def test_other_agents_get_a_card_and_the_log_keeps_the_last_60_lines():
    events = [started("audit", "audit")] + [progress("audit", f"line {i}") for i in range(100)]
    card = card_of(events, "audit")
    assert (card["name"], card["state"]) == ("Audit", "running")
    assert len(card["log"]) == 60 and card["log"][-1] == "line 99"


# --- the real event stream and the fragment ------------------------------------------------------

SHORT = {"forecast_horizon_weeks": 4, "dc_holdback_percentage": 0.0, "markdown_checkpoint_week": 2,
         "markdown_threshold": 0.05}


@pytest.mark.django_db
def test_cards_settle_after_every_week_of_a_real_season(seeded, planner, inline_jobs, fit_memo):
    """No holdback (the DC is empty every week) and a markdown checkpoint on track: progress
    events that no completion follows, from the services themselves."""
    season = start_season(planner, SHORT)
    accept_order(season, planner)
    for n in range(1, 5):
        upload_week(season, n, week_units(n), user=planner)
        events = list(season.events.order_by("seq"))
        assert "running" not in states(events).values(), (n, states(events))
    messages = [e.payload.get("message", "") for e in events if e.type == "agent_progress"]
    assert any("the DC is empty" in m for m in messages)
    assert any("on track" in m for m in messages)
    assert events[-1].type == "workflow_complete"
    assert states(events) == {"demand": "done", "inventory": "done", "pricing": "done"}


@pytest.mark.django_db
def test_the_cards_fragment(seeded, planner, viewer, inline_jobs, fit_memo):
    season = start_season(planner)
    last = season.events.order_by("-seq").first().seq
    client = Client()
    assert client.get(f"/seasons/{season.pk}/cards").status_code == 302  # sign in first
    client.force_login(viewer)
    response = client.get(f"/seasons/{season.pk}/cards")
    assert response.status_code == 200
    html = response.content.decode()
    assert "{#" not in html
    assert f'id="agent-cards" data-seq="{last}"' in html
    assert f'hx-get="/seasons/{season.pk}/cards"' in html
    assert re.search(r'data-agent="demand" data-state="done"', html)
    assert re.search(r'data-agent="inventory" data-state="waiting">\s*<h3><span class="name">Inventory</span> '
                     r'<span class="state">Waiting for approval</span>', html)
    assert 'id="log-inventory" tabindex="0"' in html
    # The page renders the same fragment at the same seq.
    page = client.get(f"/seasons/{season.pk}/").content.decode()
    assert f'id="agent-cards" data-seq="{last}"' in page
    assert "agent-card-template" not in page
