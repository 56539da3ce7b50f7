"""Starting a season (its forecast workflow) and a manual re-forecast: the parameters checked in
full, then one transaction, then the run submitted as a job."""
from django.conf import settings
from django.db import transaction

from agents import orchestration
from agents.orchestration import DEMAND, REFORECAST
from agents.parameters import ECONOMICS_FIELDS, PLANNER_FIELDS, ParameterError, check_economics, parse_parameters
from planning import tasks
from planning.errors import Conflict, Invalid, NotFound
from planning.models import Allocation, Category, Forecast, Run, Season, Store
from planning.selectors.economics import history_unit_price
from planning.selectors.seasons import season_of
from planning.services import extraction as extractions
from planning.services import forecasting
from planning.services.runs import record_usage

WEIGHTINGS = ("equal", "backtest")
# Optional descriptive fields a client may store with the parameters, and what each may hold. A
# season started from an extraction (extraction_id) takes them from the extraction's record
# instead. Token usage is never among them: the server records it (planning.services.extraction).
METADATA_FIELDS = ("confidence", "reasoning", "extractor", "user_input", "missing", "weighting")
_METADATA_TEXT_LIMITS = {"reasoning": 10_000, "user_input": 1000}
_METADATA_CHOICES = {"confidence": ("high", "medium", "low"), "extractor": ("rules", "llm"), "weighting": WEIGHTINGS}


def _invalid(exc):
    return Invalid(f"Invalid value for parameters.{exc.field}: {exc.message}",
                   errors=[{"field": f"parameters.{exc.field}", "message": exc.message}])


def season_parameters(data):
    """Validate the request's parameters: the 7 SeasonParameters fields (season_end_date is derived;
    a given one must agree), the optional economics (ECONOMICS_FIELDS: stored only when given, null
    meaning the default) plus optional metadata (METADATA_FIELDS). Any other key, or metadata of
    the wrong type, is refused. Returns the JSON-safe dict stored on the workflow; an invalid value
    raises Invalid naming the field."""
    if not isinstance(data, dict):
        raise Invalid("parameters must be an object", errors=[{"field": "parameters", "message": "expected an object"}])
    known = (*PLANNER_FIELDS, "season_end_date", *ECONOMICS_FIELDS, *METADATA_FIELDS)
    unknown = sorted(str(name) for name in data if name not in known)
    if unknown:
        raise Invalid(f"Unknown parameter(s): {', '.join(unknown)}. Allowed: {', '.join(known)}.",
                      errors=[{"field": f"parameters.{name}", "message": "unknown parameter"} for name in unknown])
    fields = {name: data[name] for name in (*PLANNER_FIELDS, "season_end_date", *ECONOMICS_FIELDS) if name in data}
    if "season_start_date" not in fields:
        raise Invalid("Invalid value for parameters.season_start_date: required",
                      errors=[{"field": "parameters.season_start_date", "message": "required"}])
    try:
        parsed = parse_parameters(fields)
    except ParameterError as exc:
        raise _invalid(exc) from None
    params = parsed.model_dump(mode="json")
    for name in METADATA_FIELDS:
        if data.get(name) not in (None, ""):
            params[name] = _metadata_value(name, data[name])
    params["weighting"] = params.get("weighting") or "equal"
    return params


def _metadata_value(name, value):
    """A metadata field's value, or Invalid naming it."""
    def invalid(message):
        return Invalid(f"Invalid value for parameters.{name}: {message}",
                       errors=[{"field": f"parameters.{name}", "message": message}])

    if name == "missing":
        allowed = (*PLANNER_FIELDS, "season_end_date")
        if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed for v in value):
            raise invalid(f"a list of parameter names ({', '.join(allowed)})")
        return list(dict.fromkeys(value))
    if not isinstance(value, str):
        raise invalid("expected a string")
    if name in _METADATA_CHOICES and value not in _METADATA_CHOICES[name]:
        raise invalid(f"one of {', '.join(_METADATA_CHOICES[name])}")
    limit = _METADATA_TEXT_LIMITS.get(name, 1000)
    if len(value) > limit:
        raise invalid(f"at most {limit} characters")
    return value


def check_economics_with_history(category_id, params):
    """A season whose price is the default (from the category's history) must still keep salvage <
    cost < price with the cost or salvage value the planner set; Invalid naming the field if not."""
    if params.get("unit_price") is not None or all(params.get(name) is None for name in ECONOMICS_FIELDS):
        return
    price = history_unit_price(category_id, params["season_start_date"])
    try:
        check_economics(price, params.get("unit_cost"), params.get("salvage_value"),
                        price_source="the default: the category's revenue / units over the last 52 weeks")
    except ParameterError as exc:
        raise _invalid(exc) from None


def start_forecast(category_id, parameters, user=None, *, extraction_id=None, background=True):
    """Create a season and its pre-season run (sharing the season's id) and start the run (in the
    background unless told not to). Everything is checked before anything is written; the season,
    its link to the extraction it was started from and that extraction's token usage are written
    in one transaction."""
    category = known_category(category_id)
    params = season_parameters(parameters)
    extraction = extractions.extraction_for_season(extraction_id, user) if extraction_id else None
    check_stores()
    check_category(category, params)
    with transaction.atomic():
        season, run = create_season(category, params, user)
        if extraction is not None:
            season.parameters = {**params, **extractions.claim_for_season(extraction, season)}
            season.save(update_fields=["parameters"])
            record_usage(run.pk, "extraction", extraction.token_usage)
    tasks.start_workflow(run.pk, background=background)
    return season  # as created: its run queued (pending)


def known_category(category_id):
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise NotFound(f"Unknown category {category_id!r}.")
    return category


def check_stores():
    if not Store.objects.exists():
        raise Invalid("No stores yet: upload the store attributes first.")


def check_category(category, params):
    """Invalid unless ``category`` can be planned with ``params`` (checked by season_parameters):
    enough weeks of history before the start, and economics that hold with its default price."""
    weeks = len(forecasting.history_weekly(category.pk, params["season_start_date"]))
    if weeks < forecasting.MIN_HISTORY_WEEKS:
        raise Invalid(f"Insufficient history: {category.name} has {weeks} full weeks of sales before "
                      f"{params['season_start_date']}; at least {forecasting.MIN_HISTORY_WEEKS} are needed.")
    check_economics_with_history(category.pk, params)


def create_season(category, params, user, *, batch=None):
    """Write a season and its pre-season run (queued, not started); call inside a transaction."""
    season = Season.objects.create(category=category, parameters=params, owner=user, batch=batch)
    run = Run.objects.create(id=season.pk, season=season, kind=Run.Kind.PRE_SEASON, step=DEMAND, owner=user,
                             runner="llm" if orchestration.llm_config_from(settings) else "deterministic")
    season.current_run = run
    season.save(update_fields=["current_run"])
    return season, run


def start_reforecast(*, workflow_id=None, forecast_id=None, reason="", user=None):
    """A manual re-forecast of a season's remaining weeks (needs a committed plan)."""
    season = None
    if forecast_id is not None:
        forecast = Forecast.objects.select_related("season").filter(pk=forecast_id).first()
        if forecast is None:
            raise NotFound(f"Unknown forecast {forecast_id}.")
        season = forecast.season
    elif workflow_id is not None:
        season = season_of(workflow_id)
    else:
        raise Invalid("Give workflow_id or forecast_id.", errors=[{"field": "workflow_id", "message": "required"}])
    allocation = Allocation.objects.filter(season=season).first()
    if allocation is None or allocation.status != Allocation.Status.ACCEPTED:
        raise Conflict("This season has no committed plan yet: accept the manufacturing order first.")
    if season.runs.filter(kind=Run.Kind.REFORECAST, status__in=Run.ACTIVE_STATUSES).exists():
        raise Conflict("A re-forecast of this season is already running.")
    runner = season.runs.filter(kind=Run.Kind.PRE_SEASON).values_list("runner", flat=True).first()
    run = Run.objects.create(season=season, kind=Run.Kind.REFORECAST, reason=(reason or "Manual re-forecast")[:255],
                             owner=user, step=REFORECAST, runner=runner or "deterministic")
    tasks.start_workflow(run.pk)
    return run  # as created: queued (pending)
