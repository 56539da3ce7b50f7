"""Plan several categories at once (issue #17): one set of parameters, a season per category.

Everything is checked before anything is written, by the single-season checks of
planning.services.season_start (the parameters once, then each category's history and economics);
then one transaction writes the Batch and every season with its pre-season run; then each run is
submitted as a job (planning.jobs: on the Celery workers in parallel when CELERY_BROKER_URL is set,
else on the in-process job threads). A category that cannot be planned stops the whole batch: the
422 lists every such category, and nothing is created.
"""
from django.db import transaction

from planning import tasks
from planning.errors import Invalid, NotFound
from planning.models import Batch, Category
from planning.services import season_start

ALL = "all"
MAX_CATEGORIES = 200


def start_batch(category_ids, parameters, user=None, *, background=True):
    """Start a season of each category in ``category_ids`` (a list of ids, or "all") with
    ``parameters``; returns the batch and its seasons in the order asked (their runs queued)."""
    params = season_start.season_parameters(parameters)
    categories = categories_of(category_ids)
    season_start.check_stores()
    problems = []
    for index, category in enumerate(categories):
        try:
            season_start.check_category(category, params)
        except Invalid as exc:
            problems.append({"field": f"category_ids.{index}", "got": category.pk, "message": exc.detail})
    if problems:
        names = ", ".join(p["got"] for p in problems)
        raise Invalid(f"{len(problems)} of {len(categories)} categories cannot be planned ({names}); "
                      f"no season was started.", errors=problems)
    with transaction.atomic():
        batch = Batch.objects.create(parameters=params, created_by=user, all_categories=category_ids == ALL)
        created = [season_start.create_season(category, params, user, batch=batch) for category in categories]
    for _, run in created:
        tasks.start_workflow(run.pk, background=background)
    return batch, [season for season, _ in created]


def categories_of(category_ids) -> list[Category]:
    """The categories asked for, in the order given ("all": every category by name). 422 for an
    empty or oversized list or a repeated id, 404 naming every unknown id."""
    if category_ids == ALL:
        categories = list(Category.objects.order_by("name"))
        if not categories:
            raise Invalid("No categories yet: upload the sales history first.",
                          errors=[{"field": "category_ids", "message": "no categories"}])
        return categories
    if not isinstance(category_ids, list) or not category_ids or not all(isinstance(c, str) for c in category_ids):
        raise Invalid('category_ids must be "all" or a non-empty list of category ids.',
                      errors=[{"field": "category_ids", "message": 'expected "all" or a list of ids'}])
    if len(category_ids) > MAX_CATEGORIES:
        raise Invalid(f"At most {MAX_CATEGORIES} categories in one batch.",
                      errors=[{"field": "category_ids", "message": f"at most {MAX_CATEGORIES}"}])
    seen, repeated = set(), []
    for index, category_id in enumerate(category_ids):
        if category_id in seen:
            repeated.append({"field": f"category_ids.{index}", "got": category_id, "message": "repeated"})
        seen.add(category_id)
    if repeated:
        raise Invalid(f"Category {', '.join(repr(r['got']) for r in repeated)} is listed more than once.",
                      errors=repeated)
    found = Category.objects.in_bulk(category_ids)
    unknown = [category_id for category_id in category_ids if category_id not in found]
    if unknown:
        raise NotFound(f"Unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(repr, unknown))}.")
    return [found[category_id] for category_id in category_ids]
