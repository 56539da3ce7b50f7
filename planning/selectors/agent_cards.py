"""The agent cards of the season page: each agent's state, derived from the season's events.

This is the one rule set for a card's state. The page renders the cards with it, and the live
script (static/js/live.js) applies no rules of its own: on new events it reloads the cards
fragment (``season-cards``), which is rendered from here.

A card is one of: ``idle`` (the agent has not started), ``running`` (its step is open),
``waiting`` (its step asked for the planner's approval), ``done`` (with the duration, summary
and runner of its last completed step) or ``failed`` (with the error). Read in seq order:

- ``agent_started``: the agent's step opens, the card is running. A season runs one step at a
  time, so any other open step is over (done), and a card waiting for an approval is done: the
  workflow moved on.
- ``agent_progress``: a line in the agent's log, nothing else. A progress event never opens a
  step: many are not followed by a completion (the DC is empty, the markdown is on track, an
  alert, a preview, an upload, a recovery notice), whatever their text.
- ``agent_completed``: the step closes, the card is done (duration, summary, runner, fallback).
- ``human_input_required``: the agent's card waits for the approval; any open step is over.
- ``workflow_complete``: the run is over: running and waiting cards are done (a manual
  re-forecast's completion leaves a waiting card waiting: it ran beside the season).
- ``error``: the named agent's card failed, and so does any card whose step was still open.

So a card is running only between its ``agent_started`` and the next event that closes a step;
every step the services open they close (in-season weeks included), so once a step, a week or
the run is over no card is left running.
"""

LOG_LINES = 60
AGENTS = (
    ("demand", "Demand", "Forecasts the category week by week and splits it across store clusters."),
    ("inventory", "Inventory", "Sizes the manufacturing order and splits it between stores and the DC."),
    ("pricing", "Pricing", "Schedules the markdown checkpoint and recommends the markdown."),
)
IDLE, RUNNING, WAITING, DONE, FAILED = "idle", "running", "waiting", "done", "failed"
WORKING = "Working…"


def _card(agent, name=None, role=""):
    return {"agent": agent, "name": name or agent.capitalize(), "role": role, "state": IDLE, "log": [],
            "summary": "", "duration": None, "runner": None, "fallback": None, "step": None}


def agent_cards(events):
    """The cards (the three agents first, then any other agent an event names) from ``events``:
    objects with ``type`` and ``payload`` (SeasonEvent rows), in seq order."""
    cards = {key: _card(key, name, role) for key, name, role in AGENTS}

    def close_open(state, except_agent=None):
        for card in cards.values():
            if card["agent"] != except_agent and card["state"] == RUNNING:
                card["state"] = state
                if card["summary"] == WORKING:
                    card["summary"] = ""

    def release_waiting():
        for card in cards.values():
            if card["state"] == WAITING:
                card["state"] = DONE

    for event in events:
        payload = event.payload or {}
        agent = payload.get("agent") or None
        card = cards.setdefault(agent, _card(agent)) if agent else None
        if event.type == "agent_started" and card:
            release_waiting()
            close_open(DONE, except_agent=agent)
            card.update(state=RUNNING, summary=WORKING, duration=None, step=payload.get("step"))
            card["log"].append(_started_line(payload))
        elif event.type == "agent_progress" and card:
            card["log"].append(payload.get("message", ""))
        elif event.type == "agent_completed" and card:
            card.update(state=DONE, duration=payload.get("duration_seconds"), summary=_summary(payload.get("result")),
                        runner=payload.get("runner"), fallback=payload.get("fallback_reason"))
            card["log"].append("Completed")
        elif event.type == "human_input_required":
            close_open(DONE, except_agent=agent)
            if card:
                card["state"] = WAITING
        elif event.type == "workflow_complete":
            close_open(DONE)
            if payload.get("run_kind") != "reforecast":  # a manual re-forecast runs beside the season
                release_waiting()
        elif event.type == "error":
            message = payload.get("error_message", "")
            close_open(FAILED, except_agent=agent)
            if card:
                card.update(state=FAILED, summary=message)
                card["log"].append(f"Failed: {message}")
    for card in cards.values():
        card["log"] = card["log"][-LOG_LINES:]
    return list(cards.values())


def cards_context(season):
    """The cards of a season and the seq of the last event they show (the fragment's data-seq)."""
    events = list(season.events.order_by("seq").only("seq", "type", "payload"))
    return {"agents": agent_cards(events), "cards_seq": events[-1].seq if events else 0}


def _started_line(payload):
    step, week = payload.get("step"), payload.get("week")
    line = "Started"
    if step and step != payload.get("agent"):
        line += " " + str(step).replace("_", " ")
    return line + (f" (week {week})" if week else "")


def _summary(result):
    if isinstance(result, dict):
        return result.get("summary", "")
    return "" if result is None else str(result)
