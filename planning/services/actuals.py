"""A week's actuals arrive (SPEC §2.3): checked, stored, and handed to a week run that processes
them as a job (planning.services.weeks); the upload answers at once with the run.

Rules a planner can rely on:
- Week 0 is the initial allocation (stores hold their ``initial_qty``; the holdback is at the DC).
- Weeks are uploaded in order: week N needs week N-1 uploaded and processed (409 otherwise; a
  week whose processing failed is uploaded again with ``overwrite``), and N must be within the
  horizon (422). The season needs an accepted manufacturing order (409).
- The same week again is a 409 unless ``overwrite``; only the latest uploaded week can be
  overwritten, not while its run is still processing it, and not once a markdown decided at that
  week was accepted. Overwriting undoes that week's effects first (its variance check, its
  re-forecast, its shipments, which go back to the DC, and a markdown still awaiting approval) and
  then processes the new numbers in a new run.
- While a markdown waits for approval the season is paused: later weeks are refused (409).
"""
from django.db import transaction

from planning import tasks
from planning.errors import Conflict, Invalid
from planning.models import Allocation, MarkdownDecision, Run, Season, VarianceCheck, WeeklyActual
from planning.selectors.seasons import season_of
from planning.services import events, states
from planning.services.runs import week_progress_pct
from planning.services.weeks import undo_processing

Status = Run.Status


def record_week_actuals(season, week, units_by_store, *, overwrite=False, user=None, background=True,
                        on_stored=None):
    """Store week ``week``'s units per store for the season and start the run that processes the
    week (see the module doc). ``on_stored(run)`` runs in the same transaction (the upload's own
    record), so the run's job never waits for the request's last write. Returns the run as
    created: queued (pending)."""
    season = season_of(season)
    horizon = season.horizon_weeks
    try:
        week = int(week)
    except (TypeError, ValueError):
        raise Invalid(f"week must be a whole number, got {week!r}") from None
    if not 1 <= week <= horizon:
        raise Invalid(f"Week {week} is outside this {horizon}-week season (1..{horizon}).",
                      errors=[{"field": "week", "message": f"expected 1..{horizon}", "got": week}])
    with transaction.atomic():
        locked = Season.objects.select_for_update().get(pk=season.pk)
        allocation = Allocation.objects.filter(season=locked).first()
        if allocation is None or allocation.status != Allocation.Status.ACCEPTED:
            raise Conflict("This season has no accepted manufacturing order yet; accept it before uploading actuals.")
        rows = _validated_rows(allocation, units_by_store)
        exists = WeeklyActual.objects.filter(season=locked, week=week).exists()
        _check_order(locked, week, exists, overwrite)
        if exists:
            undo_week(locked, week)
            WeeklyActual.objects.filter(season=locked, week=week).delete()
        WeeklyActual.objects.bulk_create(
            [WeeklyActual(season=locked, week=week, store_id=store_id, units=units) for store_id, units in rows])
        pre_season = locked.runs.filter(kind=Run.Kind.PRE_SEASON).values_list("runner", flat=True).first()
        run = Run.objects.create(season=locked, kind=Run.Kind.WEEK, week=week, step=states.PROCESS_WEEK,
                                 owner=user, runner=pre_season or "deterministic",
                                 progress_pct=week_progress_pct(locked, week - 1))
        Season.objects.filter(pk=locked.pk).update(current_week=week, current_run=run)
        if locked.phase == Season.Phase.SEASON_COMPLETE:
            states.change_phase(locked.pk, Season.Phase.IN_SEASON)
        events.emit(locked.pk, events.AGENT_PROGRESS, run=run.pk, agent="demand",
                    progress_pct=week_progress_pct(locked, week), week=week,
                    message=(f"Week {week} actuals {'replaced' if exists else 'uploaded'}: "
                             f"{sum(u for _, u in rows):,} units from {len(rows)} stores"
                             + (f" by {user.get_username()}" if user else "")))
        if on_stored is not None:
            on_stored(run)
    tasks.start_workflow(run.pk, background=background)
    return run


def _check_order(season, week, exists, overwrite):
    """409 unless week ``week`` may be stored now (see the module doc)."""
    if season.pending_approval == Season.PendingApproval.MARKDOWN and not (exists and overwrite):
        raise Conflict("The season is paused for the markdown approval; accept or modify it first.")
    if exists and not overwrite:
        raise Conflict(f"Week {week} is already uploaded; send overwrite=true to replace it.")
    if exists and week != season.current_week:
        raise Conflict(f"Only the latest uploaded week ({season.current_week}) can be overwritten.")
    if exists and _processing(season, week):
        raise Conflict(f"Week {week} is still being processed; try again in a moment.")
    if exists and season.markdowns.filter(week=week, status=MarkdownDecision.Status.ACCEPTED).exists():
        raise Conflict(f"A markdown decided at week {week} was accepted; the week can no longer be replaced.")
    if not exists and week != season.current_week + 1:
        raise Conflict(f"Weeks are uploaded in order: upload week {season.current_week + 1} next.")
    if not exists and week > 1 and not VarianceCheck.objects.filter(season=season, week=week - 1).exists():
        failed = season.runs.filter(kind=Run.Kind.WEEK, week=week - 1, status=Status.FAILED).first()
        if failed is not None:
            raise Conflict(f"Processing week {week - 1} failed ({failed.error}); upload week {week - 1} again "
                           "with overwrite=true.")
        raise Conflict(f"Week {week - 1} is still being processed; try again in a moment.")


def _processing(season, week):
    """A run is still processing week ``week`` (replacing it now would process it twice at once)."""
    return season.runs.filter(kind=Run.Kind.WEEK, week=week, status__in=Run.ACTIVE_STATUSES).exists()


def _validated_rows(allocation, units_by_store):
    planned = set(allocation.stores.values_list("store_id", flat=True))
    given = {str(k): v for k, v in dict(units_by_store).items()}
    missing = sorted(planned - set(given))
    unknown = sorted(set(given) - planned)
    errors = []
    if missing:
        errors.append({"column": "store_id", "message": f"Missing data for stores: {', '.join(missing)}"})
    if unknown:
        errors.append({"column": "store_id", "message": f"Stores not in this season's plan: {', '.join(unknown)}"})
    rows = []
    for store_id in sorted(given):
        value = given[store_id]
        try:
            units = int(value)
            if units != float(value) or units < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors.append({"column": "units_sold", "store_id": store_id, "expected": "whole number >= 0",
                           "got": value, "message": f"{store_id}: units must be a whole number >= 0"})
            continue
        rows.append((store_id, units))
    if errors:
        raise Invalid(errors[0]["message"], errors=errors)
    return rows


def undo_week(season, week):
    """Remove what processing ``week`` produced (inside the caller's transaction), a markdown it
    recommended and the season's wait for it included."""
    undo_processing(season, week)
    season.markdowns.filter(week=week, status=MarkdownDecision.Status.RECOMMENDED).delete()
    if season.pending_approval == Season.PendingApproval.MARKDOWN:
        states.withdraw_approval(season.pk)
