"""The approval protocol, one for both approvals (SPEC §6): the manufacturing order before the
season and the markdown at the checkpoint week.

- ``modify`` (repeatable) previews the proposal recomputed for the planner's value (safety stock,
  elasticity) and records an Approval row of what the planner looked at; nothing is committed.
  409 unless the season waits for this approval; the value is required (422).
- ``accept`` commits the proposal at the planner's value (default: the proposed one), records
  the Approval, and resumes the season as a job.
- Idempotency: the same planner repeating an identical accept after it succeeded (a retried
  request) gets the committed result again with ``replayed: true``; nothing is written twice. Any
  other accept after the commit (another user, another value) is a 409 naming who accepted, and so
  is any action while the season is not waiting for this approval.
- One winner: an accept locks the season row (select_for_update), recomputes the proposal
  inside the lock from what is stored, and moves the paused run awaiting_approval -> pending with
  a compare-and-set (planning.services.states); the run resumes where it stopped. Of two
  concurrent accepts exactly one commits; the other sees the commit and gets the 409 (or the
  replay).

What differs between the two approvals is described by an ``ApprovalKind``.
"""
from dataclasses import dataclass
from typing import Any, Callable

from django.db import transaction
from django.utils import timezone

from planning import tasks
from planning.errors import Conflict, Invalid, NotFound
from planning.models import Allocation, Approval, MarkdownDecision, Run, ScenarioComparison, Season
from planning.selectors import scenarios as scenario_reads
from planning.selectors.seasons import markdown_dict, markdown_view
from planning.services import allocation as plans
from planning.services import events, states
from planning.services.manufacturing import Buy, accepted_body, order_proposal
from planning.services.markdown import approval_values, recompute, scenario_markdown
from planning.services.runs import add_outputs

Status = Run.Status
ACTIONS = ("modify", "accept")


@dataclass(frozen=True)
class ApprovalKind:
    pending: str  # the Season.PendingApproval the season waits with
    kind: str  # Approval.Kind
    agent: str  # the agent whose card and events carry it
    field: str  # the planner's value, as the API names it
    choices: str  # every way to give the value, for the message when none is given
    what: str  # "the manufacturing order", in messages
    proposed: Callable[[Season], Any]  # the value proposed to the planner
    committed: Callable[[Season], Any]  # the committed record, or None (inside the lock)
    same_value: Callable[[Any, Any], bool]  # (the planner's value, the committed record): an identical accept?
    propose: Callable[[Season, Any], Any]  # the proposal at the planner's value (Invalid if impossible)
    values: Callable[[Any], dict]  # what an Approval row records of a proposal
    preview: Callable[[Any], str]  # the event line of a preview
    commit: Callable[[Season, Any, Any, Any], Any]  # (locked, proposal, user, now) -> record
    accepted: Callable[[Any, str], str]  # (proposal, who) -> the event line of the commit
    body: Callable[[Season, Any, bool], dict]  # (season, record, replayed) -> accept response
    preview_body: Callable[[Any], dict]  # the modify response's proposal fields


def decide(kind, workflow_id, action, value=None, note="", user=None, *, background=True):
    """Apply ``action`` (modify or accept) of approval ``kind`` to the season ``workflow_id``."""
    season = _season(workflow_id)
    if action not in ACTIONS:
        raise Invalid("action must be modify or accept", errors=[{"field": "action", "message": "modify or accept"}])
    if action == "modify":
        return _preview(kind, season, value, note, user)
    with transaction.atomic():
        locked = Season.objects.select_for_update().get(pk=season.pk)  # its current run: read after the lock
        record = kind.committed(locked)
        if record is not None:
            return _repeated_accept(kind, locked, record, value, user)
        if not _waiting(kind, locked):
            raise Conflict(f"The season is {locked.status}, not waiting for the approval of {kind.what}.")
        proposal = kind.propose(locked, kind.proposed(locked) if value is None else value)
        now = timezone.now()
        if not states.release_approval(locked.pk, kind.pending, heartbeat_at=now):
            raise Conflict(f"{kind.what.capitalize()} was accepted by another request.")
        record = kind.commit(locked, proposal, user, now)
        Approval.objects.create(season=locked, kind=kind.kind, action=Approval.Action.ACCEPT,
                                values=kind.values(proposal), note=note or "", user=user)
        run = locked.current_run
        add_outputs(run.pk, **{f"{kind.kind}_approval": kind.values(proposal)})
        events.emit(locked.pk, events.AGENT_PROGRESS, run=run.pk, agent=kind.agent, progress_pct=run.progress_pct,
                    message=kind.accepted(proposal, user.get_username() if user else "system"))
        body = kind.body(locked, record, False)
    tasks.start_workflow(run.pk, background=background)
    return body


def _season(workflow_id):
    season = Season.objects.select_related("category", "current_run").filter(pk=workflow_id).first()
    if season is None:
        if Run.objects.filter(pk=workflow_id).exists():
            raise Conflict("Approvals belong to the season (forecast) workflow, not to one of its runs.")
        raise NotFound(f"Unknown workflow {workflow_id}.")
    return season


def _waiting(kind, season):
    return season.pending_approval == kind.pending and season.status == Status.AWAITING_APPROVAL


def _preview(kind, season, value, note, user):
    if not _waiting(kind, season):
        raise Conflict(f"The season is {season.status}, not waiting for the approval of {kind.what}.")
    if value is None:
        raise Invalid(f"{kind.choices} is required to modify {kind.what}.",
                      errors=[{"field": kind.field, "message": "required for modify"}])
    proposal = kind.propose(season, value)
    Approval.objects.create(season=season, kind=kind.kind, action=Approval.Action.MODIFY,
                            values=kind.values(proposal), note=note or "", user=user)
    events.emit(season.pk, events.AGENT_PROGRESS, run=season.current_run_id, agent=kind.agent,
                progress_pct=season.current_run.progress_pct, message=kind.preview(proposal))
    return {"workflow_id": str(season.pk), "action": "modify", "committed": False, "replayed": False,
            "status": season.status, **kind.preview_body(proposal)}


def _repeated_accept(kind, locked, record, value, user):
    """An accept after the commit: the replay of the same planner's identical accept, else 409."""
    last = locked.approvals.filter(kind=kind.kind, action=Approval.Action.ACCEPT).select_related("user").last()
    same_value = value is None or kind.same_value(value, record)
    if last is not None and user is not None and last.user_id == user.pk and same_value:
        return kind.body(locked, record, True)
    who = last.user.get_username() if last is not None and last.user_id else "someone"
    at = getattr(record, "accepted_at", None) or getattr(record, "decided_at", None)
    when = f" at {at:%Y-%m-%d %H:%M} UTC" if at else ""
    raise Conflict(f"{kind.what.capitalize()} was already accepted by {who}{when}.")


# --- the manufacturing order ----------------------------------------------------------------------


def _committed_allocation(season):
    allocation = Allocation.objects.select_for_update().filter(season=season).first()
    return allocation if allocation is not None and allocation.status == Allocation.Status.ACCEPTED else None


def _commit_order(season, proposal, user, now):
    allocation = Allocation.objects.get(season=season)
    if proposal.parameters != season.parameters:  # an accepted scenario's plan (holdback, strategy, markdown)
        Season.objects.filter(pk=season.pk).update(parameters=proposal.parameters)
        season.parameters = proposal.parameters
    plans.commit_allocation(allocation, proposal.order, proposal.plan, user, now)
    allocation.refresh_from_db()
    return allocation


def _worth(money):
    """The money of a buy in an event line ("" without a price)."""
    if money is None or money["expected_gross_margin"] is None:
        return ""
    return (f"; expected gross margin {money['expected_gross_margin']:,.0f}, stock-out risk "
            f"{money['stockout_probability']:.0%}, expected leftover {money['expected_leftover_units']:,.0f} "
            f"(newsvendor buy {money['newsvendor_buy_quantity']:,})")


def _basis(order):
    if order["safety_stock_source"] == "quantity":
        return f"the planner's quantity ({order['safety_stock_pct']:+.1%} on demand)"
    return f"{order['safety_stock_pct']:.0%} safety stock"


def _order_accepted(proposal, who):
    order, scenario = proposal.order, proposal.scenario
    chosen = f" (scenario {scenario['name']!r} of comparison {scenario['comparison_id']})" if scenario else ""
    return (f"Manufacturing order accepted by {who}{chosen}: {order['manufacturing_qty']:,} units at "
            f"{_basis(order)}; {order['initial_qty']:,} ship at week 0, "
            f"{order['holdback_qty']:,} stay at the DC" + _worth(proposal.money))


def _order_preview(proposal):
    order = proposal.order
    return (f"Preview: {_basis(order)} -> manufacturing {order['manufacturing_qty']:,} "
            f"units ({order['initial_qty']:,} initial / {order['holdback_qty']:,} holdback)"
            + _worth(proposal.money) + "; not committed")


def _same_buy(buy, allocation):
    if buy.comparison_id is not None:
        last = allocation.season.approvals.filter(kind=Approval.Kind.MANUFACTURING,
                                                  action=Approval.Action.ACCEPT).last()
        chosen = (last.values or {}).get("scenario") if last else None
        return bool(chosen) and (chosen["comparison_id"], chosen["name"]) == (buy.comparison_id, buy.scenario)
    if buy.manufacturing_qty is not None:
        return (allocation.buy_basis == Allocation.Basis.QUANTITY
                and buy.manufacturing_qty == allocation.manufacturing_qty)
    return (allocation.buy_basis == Allocation.Basis.SAFETY_STOCK
            and round(float(buy.safety_stock_pct), 4) == round(allocation.safety_stock_pct, 4))


def _proposed_buy(season):
    allocation = Allocation.objects.filter(season=season).first()
    if allocation is None:
        return Buy()
    if allocation.buy_basis == Allocation.Basis.QUANTITY:
        return Buy(manufacturing_qty=allocation.manufacturing_qty)
    return Buy(safety_stock_pct=allocation.safety_stock_pct)


def _order_values(proposal):
    """What the Approval row records: the order, what it was worth, and the accepted scenario."""
    return {**plans.order_view(proposal.order), "money": proposal.money, "scenario": proposal.scenario}


MANUFACTURING = ApprovalKind(
    pending=Season.PendingApproval.MANUFACTURING, kind=Approval.Kind.MANUFACTURING, agent="inventory",
    field="safety_stock_pct", what="the manufacturing order",
    choices="A safety_stock_pct, a manufacturing_qty or a scenario (comparison_id + scenario)",
    proposed=_proposed_buy, committed=_committed_allocation, same_value=_same_buy,
    propose=order_proposal, values=_order_values, preview=_order_preview,
    commit=_commit_order, accepted=_order_accepted,
    body=lambda wf, allocation, replayed: accepted_body(wf, allocation, replayed=replayed),
    preview_body=lambda proposal: {"order": plans.order_view(proposal.order),
                                   "clusters": plans.cluster_allocations(proposal.plan["clusters"]),
                                   "money": proposal.money},
)


def approve_manufacturing(workflow_id, action, safety_stock_pct=None, note="", user=None, *, background=True,
                          manufacturing_qty=None, comparison_id=None, scenario=None):
    """The manufacturing approval, the buy decided by a safety stock, a manufacturing quantity or
    a scenario of a saved comparison (``comparison_id`` and ``scenario``: its buy and plan become
    the season's): ``accept`` commits the Allocation with its store rows (dc_available = the
    holdback) and resumes the season at the pricing step."""
    buy = Buy(safety_stock_pct, manufacturing_qty, comparison_id, scenario)
    return decide(MANUFACTURING, workflow_id, action, buy if buy.given else None, note, user, background=background)


# --- the markdown ---------------------------------------------------------------------------------


def _markdown_decision(season):
    return season.markdowns.first()


def _committed_markdown(season):
    decision = season.markdowns.select_for_update().first()
    return decision if decision is not None and decision.status == MarkdownDecision.Status.ACCEPTED else None


@dataclass(frozen=True)
class MarkdownChoice:
    """What the planner decides the markdown by: an elasticity (the §4 formula), or a scenario
    of a saved markdown comparison (its depth, from the next week)."""

    elasticity: float | None = None
    comparison_id: int | None = None
    scenario: str | None = None


def _markdown_proposal(season, choice):
    decision = _markdown_decision(season)
    if decision is None:
        raise Conflict(f"The season is {season.status}, not waiting for the approval of the markdown.")
    if choice.comparison_id is None:
        return recompute(decision, choice.elasticity)
    if choice.elasticity is not None:
        raise Invalid("Give an elasticity or a scenario, not both.", errors=[{"field": "scenario", "message": "alone"}])
    chosen = scenario_reads.chosen_scenario(season, choice.comparison_id, choice.scenario,
                                            ScenarioComparison.Kind.MARKDOWN)
    return {**scenario_markdown(decision, chosen), "scenario": chosen}


def _same_markdown(choice, decision):
    if choice.comparison_id is None:
        return round(float(choice.elasticity), 4) == round(decision.elasticity, 4)
    last = decision.season.approvals.filter(kind=Approval.Kind.MARKDOWN, action=Approval.Action.ACCEPT).last()
    chosen = (last.values or {}).get("scenario") if last else None
    return bool(chosen) and (chosen["comparison_id"], chosen["name"]) == (choice.comparison_id, choice.scenario)


def _proposed_markdown(season):
    decision = _markdown_decision(season)
    return MarkdownChoice(elasticity=decision.elasticity) if decision else None


def _commit_markdown(season, final, user, now):
    decision = season.markdowns.select_for_update().get()
    for name in ("elasticity", "markdown_pct", "expected_lift", "gap", "sell_through"):
        setattr(decision, name, final[name])
    decision.status = MarkdownDecision.Status.ACCEPTED
    decision.decided_by = user
    decision.decided_at = now
    decision.save()
    return decision


MARKDOWN = ApprovalKind(
    pending=Season.PendingApproval.MARKDOWN, kind=Approval.Kind.MARKDOWN, agent="pricing",
    field="elasticity_coefficient", what="the markdown",
    choices="An elasticity_coefficient or a scenario (comparison_id + scenario)",
    proposed=_proposed_markdown, committed=_committed_markdown, same_value=_same_markdown,
    propose=_markdown_proposal,
    values=lambda final: {**approval_values(final, final["week"]), "scenario": final.get("scenario")},
    preview=lambda p: (f"Preview: elasticity {p['elasticity']} -> markdown {p['markdown_pct']:.0%}, "
                       f"expected lift {p['expected_lift']:.1%}; not committed"),
    commit=_commit_markdown,
    accepted=lambda final, who: (f"Markdown accepted by {who}"
                                 + (f" (scenario {final['scenario']['name']!r} of comparison "
                                    f"{final['scenario']['comparison_id']})" if final.get("scenario") else "")
                                 + f": {final['markdown_pct']:.0%} off from week "
                                 f"{final['week'] + 1}, expected lift {final['expected_lift']:.1%}"),
    body=lambda wf, decision, replayed: {
        "workflow_id": str(wf.pk), "action": "accept", "committed": True, "replayed": replayed,
        "status": Run.objects.values_list("status", flat=True).get(pk=wf.current_run_id),
        "markdown": markdown_dict(decision)},
    preview_body=lambda final: {"markdown": {**markdown_view(final, final["week"]),
                                             "scenario": final.get("scenario")}},
)


def approve_markdown(workflow_id, action, elasticity=None, note="", user=None, *, comparison_id=None,
                     scenario=None):
    """The markdown approval, decided by an elasticity (the §4 formula) or by a scenario of a saved
    markdown comparison (its depth): ``accept`` applies the markdown and resumes the season, which
    re-forecasts the remaining weeks with the expected lift (planning.services.markdown)."""
    choice = MarkdownChoice(elasticity, comparison_id, scenario)
    given = elasticity is not None or comparison_id is not None
    return decide(MARKDOWN, workflow_id, action, choice if given else None, note, user)
