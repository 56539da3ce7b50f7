"""SeasonParameters: the seven numbers that shape a season plan (SPEC §3), and their validation."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, model_validator

from mlpipeline.limits import MAX_HORIZON_WEEKS, MIN_HORIZON_WEEKS

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
    """

    model_config = ConfigDict(frozen=True)

    forecast_horizon_weeks: int = Field(DEFAULT_HORIZON_WEEKS, ge=MIN_HORIZON_WEEKS, le=MAX_HORIZON_WEEKS)
    season_start_date: date
    replenishment_strategy: ReplenishmentStrategy = DEFAULT_REPLENISHMENT
    dc_holdback_percentage: float = Field(DEFAULT_HOLDBACK, ge=0.0, le=1.0)
    markdown_checkpoint_week: int | None = Field(None, ge=1)
    markdown_threshold: float | None = Field(None, ge=0.0, le=1.0)

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
        return self


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
        elif error["type"] == "less_than_equal":
            message = f"must be at most {bounds['le']}"
        else:
            message = str(error["msg"])
        raise ParameterError(field, f"{message} (got {error['input']!r})") from None
