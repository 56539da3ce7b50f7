"""SeasonParameters: the seven numbers that shape a season plan (SPEC §3), the season's optional
economics (SPEC §13: unit price, unit cost, salvage value), and their validation."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, model_serializer, model_validator

from mlpipeline.economics import COST_SHARE, SALVAGE_SHARE, default_economics
from mlpipeline.limits import MAX_HORIZON_WEEKS, MAX_UNIT_MONEY, MIN_HORIZON_WEEKS

ReplenishmentStrategy = Literal["none", "weekly", "bi-weekly"]
REPLENISHMENT_STRATEGIES: tuple[ReplenishmentStrategy, ...] = ("none", "weekly", "bi-weekly")

DEFAULT_HORIZON_WEEKS = 12
DEFAULT_REPLENISHMENT: ReplenishmentStrategy = "weekly"
DEFAULT_HOLDBACK = 0.45
DEFAULT_MARKDOWN_THRESHOLD = 0.60

# The six fields a planner can state, in display order; season_end_date is always derived.
PLANNER_FIELDS: tuple[str, ...] = (
    "forecast_horizon_weeks",
    "season_start_date",
    "replenishment_strategy",
    "dc_holdback_percentage",
    "markdown_checkpoint_week",
    "markdown_threshold",
)
# The season's economics (SPEC §13), optional: None means the default (the price from the
# category's history, cost and salvage as shares of the price; planning.selectors.economics).
# Money per unit in the season's one currency; the number is stored, never a currency.
ECONOMICS_FIELDS: tuple[str, ...] = ("unit_price", "unit_cost", "salvage_value")
# A number, not a string or a boolean (strict), finite, at most MAX_UNIT_MONEY.
Money = Annotated[float, Field(strict=True, allow_inf_nan=False, le=MAX_UNIT_MONEY)]


class ParameterError(ValueError):
    """An explicitly stated value that is out of range or unreadable; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def default_start_date(reference_date: date) -> date:
    """The first Monday strictly after `reference_date` (a Monday maps to the following Monday)."""
    return reference_date + timedelta(days=7 - reference_date.weekday())


def season_end_date(start: date, horizon_weeks: int) -> date:
    """Last day of the season, inclusive: start + 7 * horizon - 1 day."""
    return start + timedelta(days=7 * horizon_weeks - 1)


class SeasonParameters(BaseModel):
    """Validated season parameters (immutable; build changed copies with `parse_parameters`).

    `season_end_date` is derived; a supplied value must agree with start and horizon.
    `markdown_threshold` defaults to 0.60 when a checkpoint week is set and to null otherwise;
    a threshold given without a checkpoint is kept (the pricing step is skipped anyway).
    The economics are optional (None: the default applies) and must keep 0 <= salvage < cost <
    price among the values given (``check_economics``); a dump leaves out the ones not given, so a
    season without them stores exactly the seven fields.
    """

    model_config = ConfigDict(frozen=True)

    forecast_horizon_weeks: int = Field(DEFAULT_HORIZON_WEEKS, ge=MIN_HORIZON_WEEKS, le=MAX_HORIZON_WEEKS)
    season_start_date: date
    replenishment_strategy: ReplenishmentStrategy = DEFAULT_REPLENISHMENT
    dc_holdback_percentage: float = Field(DEFAULT_HOLDBACK, ge=0.0, le=1.0)
    markdown_checkpoint_week: int | None = Field(None, ge=1)
    markdown_threshold: float | None = Field(None, ge=0.0, le=1.0)
    unit_price: Annotated[Money, Field(gt=0)] | None = None
    unit_cost: Annotated[Money, Field(gt=0)] | None = None
    salvage_value: Annotated[Money, Field(ge=0)] | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def season_end_date(self) -> date:
        return season_end_date(self.season_start_date, self.forecast_horizon_weeks)

    @model_validator(mode="before")
    @classmethod
    def _fill_threshold_and_check_end_date(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if data.get("markdown_checkpoint_week") not in (None, "") and data.get("markdown_threshold") in (None, ""):
            data["markdown_threshold"] = DEFAULT_MARKDOWN_THRESHOLD
        supplied = data.pop("season_end_date", None)
        if supplied not in (None, ""):
            _check_supplied_end_date(data, supplied)
        return data

    @model_validator(mode="after")
    def _check_checkpoint_in_season(self) -> SeasonParameters:
        week = self.markdown_checkpoint_week
        if week is not None and week > self.forecast_horizon_weeks:
            raise ParameterError(
                "markdown_checkpoint_week",
                f"markdown week {week} is after the end of a {self.forecast_horizon_weeks}-week season",
            )
        check_economics(self.unit_price, self.unit_cost, self.salvage_value)
        return self

    @model_serializer(mode="wrap")
    def _leave_out_unset_economics(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        for name in ECONOMICS_FIELDS:
            if data.get(name) is None:
                data.pop(name, None)
        return data

    def economics(self) -> dict[str, float]:
        """The economics the planner gave (the others default)."""
        return {name: getattr(self, name) for name in ECONOMICS_FIELDS if getattr(self, name) is not None}


def _amount(value: float) -> str:
    return f"{value:,.2f}"


def check_economics(price: float | None, cost: float | None, salvage: float | None, *,
                    price_source: str | None = None) -> None:
    """Raise ParameterError naming the field unless 0 <= salvage < cost < price holds.

    The values given are checked against each other (cost < price, salvage < cost, salvage <
    price). When the price is known (given, or a default whose origin ``price_source`` names), a
    defaulted cost or salvage value (SPEC §13: COST_SHARE / SALVAGE_SHARE of the price) is checked
    against a given one too, so the season's economics are always usable."""
    price_words = f"the unit price {_amount(price)}" if price is not None else ""
    if price_source and price is not None:
        price_words += f" ({price_source}; or state the unit price)"
    if cost is not None and price is not None and not cost < price:
        raise ParameterError("unit_cost", f"must be below {price_words} (got {_amount(cost)})")
    if salvage is not None and cost is not None and not salvage < cost:
        raise ParameterError("salvage_value", f"must be below the unit cost {_amount(cost)} (got {_amount(salvage)})")
    if salvage is not None and price is not None and not salvage < price:
        raise ParameterError("salvage_value", f"must be below {price_words} (got {_amount(salvage)})")
    if price is None:
        return
    default = default_economics(price)
    if cost is None and salvage is not None and not salvage < default.cost:
        raise ParameterError("salvage_value", f"must be below the unit cost, by default {COST_SHARE:g} x price = "
                                              f"{_amount(default.cost)} (got {_amount(salvage)}); or state the unit cost")
    if salvage is None and cost is not None and not cost > default.salvage:
        raise ParameterError("unit_cost", f"must be above the salvage value, by default {SALVAGE_SHARE:g} x price = "
                                          f"{_amount(default.salvage)} (got {_amount(cost)}); or state the salvage value")


def _check_supplied_end_date(data: Mapping[str, Any], supplied: Any) -> None:
    """Reject an end date that disagrees with start + horizon; bad start/horizon are reported elsewhere."""
    try:
        end = supplied if isinstance(supplied, date) else date.fromisoformat(str(supplied))
    except ValueError:
        raise ParameterError("season_end_date", f"not a date: {supplied!r}") from None
    try:
        start = data["season_start_date"]
        start = start if isinstance(start, date) else date.fromisoformat(str(start))
        horizon = int(data.get("forecast_horizon_weeks", DEFAULT_HORIZON_WEEKS))
    except (KeyError, TypeError, ValueError):
        return
    expected = season_end_date(start, horizon)
    if end != expected:
        raise ParameterError(
            "season_end_date",
            f"{end.isoformat()} does not match start + {horizon} weeks ({expected.isoformat()}); "
            "change the horizon or the start date instead",
        )


def parse_parameters(data: Mapping[str, Any]) -> SeasonParameters:
    """Build SeasonParameters from a mapping; any invalid value raises ParameterError naming the field."""
    try:
        return SeasonParameters.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        original = error.get("ctx", {}).get("error")
        if isinstance(original, ParameterError):
            raise original from None
        field = next((part for part in error["loc"] if isinstance(part, str)), "parameters")
        bounds = error.get("ctx", {})
        if error["type"] == "greater_than_equal":
            message = f"must be at least {bounds['ge']}"
        elif error["type"] == "greater_than":
            message = f"must be more than {bounds['gt']:g}"
        elif error["type"] in ("float_type", "float_parsing"):
            message = "must be a number"
        elif error["type"] == "finite_number":
            message = "must be a finite number"
        elif error["type"] == "less_than_equal":
            message = f"must be at most {bounds['le']}"
        else:
            message = str(error["msg"])
        raise ParameterError(field, f"{message} (got {error['input']!r})") from None
