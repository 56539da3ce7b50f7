"""Reads of a batch of seasons (planning.services.batches): each category's season as the status and
progress of its current run, and the batch summed up from them."""
from planning.errors import NotFound
from planning.models import Batch, Run

ACTIVE = {Run.Status.PENDING, Run.Status.RUNNING}


def get_batch(batch_id) -> Batch:
    batch = Batch.objects.select_related("created_by").filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(f"Unknown batch {batch_id}.")
    return batch


def batch_seasons(batch):
    """One row per season of the batch, by category name: its current run's status and progress."""
    rows = []
    for season in batch.seasons.select_related("category", "current_run").order_by("category__name"):
        run = season.current_run
        rows.append({
            "category_id": season.category_id, "category_name": season.category.name,
            "workflow_id": season.pk, "status": season.status, "status_label": Run.Status(season.status).label,
            "phase": season.phase,
            "step": run.step if run else "", "current_agent": (run.current_agent if run else "") or None,
            "progress_pct": run.progress_pct if run else 0, "pending_approval": season.pending_approval or None,
            "error": (run.error if run else "") or None,
        })
    return rows


def batch_dict(batch):
    """GET /api/batches/{batch_id}: the batch, its seasons and how far they got. ``status``:
    ``running`` while any season's run is pending or running, then ``failed`` if any failed, else
    ``ready`` (every season at its approval or beyond)."""
    seasons = batch_seasons(batch)
    statuses = [row["status"] for row in seasons]
    counts = {status: statuses.count(status) for status in Run.Status.values}
    if any(status in ACTIVE for status in statuses):
        status = "running"
    else:
        status = "failed" if counts[Run.Status.FAILED] else "ready"
    return {
        "batch_id": batch.pk, "status": status,
        "progress_pct": round(sum(row["progress_pct"] for row in seasons) / len(seasons)) if seasons else 0,
        "finished": sum(1 for s in statuses if s not in ACTIVE), "total": len(seasons), "counts": counts,
        "all_categories": batch.all_categories, "parameters": batch.parameters,
        "created_by": batch.created_by.get_username() if batch.created_by_id else None,
        "created_at": batch.created_at, "workflows": seasons,
    }
