"""The pages' forms, one per action: what a planner posts, read into the values the services
take. Bounds come from mlpipeline.limits and the season parameters are judged by
agents.parameters.parse_parameters, as the API's schemas and services do, so a page and the API
accept and refuse the same values. Rules that need the season or the database (a week inside the
season's horizon, an existing category, an unused extraction) stay in the services, checked once
for both."""
from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import timezone

from agents.parameters import ECONOMICS_FIELDS, PLANNER_FIELDS, ParameterError, parse_parameters
from mlpipeline.limits import ELASTICITY_RANGE, SAFETY_STOCK_RANGE
from planning.errors import Invalid, PayloadTooLarge

ACTIONS = [("modify", "Preview"), ("accept", "Accept")]
ACTION_ERRORS = {"required": "modify or accept", "invalid_choice": "modify or accept"}
NUMBER_ERRORS = {"invalid": "enter a number"}
# The extraction's metadata that the confirmation card carries in hidden inputs.
CARRIED_FIELDS = ("confidence", "reasoning", "extractor", "user_input")


class NumberField(forms.FloatField):
    """A number; spaces alone count as empty (to Django they are not a number)."""

    def to_python(self, value):
        return super().to_python(value.strip() if isinstance(value, str) else value)


class WholeNumberField(forms.IntegerField):
    """A whole number; spaces alone count as empty."""

    def to_python(self, value):
        return super().to_python(value.strip() if isinstance(value, str) else value)


class PercentField(NumberField):
    """A percentage as the planner types it ("25"), cleaned to the fraction the services take
    (0.25). "0.25" means a quarter of a percent, as it always has on these pages."""

    def to_python(self, value):
        value = super().to_python(value)
        return None if value is None else value / 100


class KnownNamesField(forms.Field):
    """Repeated hidden inputs (``missing``): the values that name a planner field, in order;
    anything else is dropped rather than refused."""

    widget = forms.MultipleHiddenInput

    def __init__(self, names, **kwargs):
        self.names = names
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        return [name for name in value or [] if name in self.names]


def within(value, bounds, show=str):
    """``value`` unless it is outside ``bounds`` (None passes: the service decides if it is needed)."""
    low, high = bounds
    if value is not None and not low <= value <= high:
        raise forms.ValidationError(
            "must be between %(low)s and %(high)s (got %(value)s)", code="range",
            params={"low": show(low), "high": show(high), "value": show(value)},
        )
    return value


def percent(fraction):
    return f"{fraction * 100:g}%"


class PageForm(forms.Form):
    """A page action's form. ``valid_data()`` returns the cleaned values or raises the form's first
    problem as the PlanningError (422) a panel shows, so a view keeps one ``except PlanningError``."""

    # The API's name of a field, where the page's input is named differently.
    api_names = {}

    def valid_data(self):
        if self.is_valid():
            return self.cleaned_data
        raise self.planning_error(*self.first_error())

    def first_error(self):
        """(field name, ValidationError) of the first problem, in the order of the fields."""
        name, errors = next(iter(self.errors.as_data().items()))
        return name, errors[0]

    def planning_error(self, name, error):
        field = self.api_names.get(name, name)
        message = " ".join(error.messages)
        return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message}])


class ScenarioChoiceForm(PageForm):
    """An approval decided by a scenario of a saved comparison: ``comparison_id`` and ``scenario``
    together (the service checks that they name this season's comparison of the right kind)."""

    comparison_id = WholeNumberField(required=False, min_value=1, error_messages=NUMBER_ERRORS)
    scenario = forms.CharField(required=False, max_length=64, strip=True)

    def clean(self):
        data = super().clean()
        if bool(data.get("comparison_id")) != bool(data.get("scenario")):
            raise forms.ValidationError("a scenario needs its comparison", code="scenario")
        return data


class ManufacturingDecisionForm(ScenarioChoiceForm):
    """Preview (modify) or accept the manufacturing order: by a safety stock in percent within
    SAFETY_STOCK_RANGE, by a manufacturing quantity of the planner's own, or by a compared
    scenario. All empty is allowed: accept then keeps the proposed order, and the service says
    that modify needs a value."""

    action = forms.ChoiceField(choices=ACTIONS, error_messages=ACTION_ERRORS)
    safety_stock_pct = PercentField(required=False, error_messages=NUMBER_ERRORS)
    manufacturing_qty = WholeNumberField(required=False, min_value=0, error_messages=NUMBER_ERRORS)

    def clean_safety_stock_pct(self):
        return within(self.cleaned_data["safety_stock_pct"], SAFETY_STOCK_RANGE, percent)


class MarkdownDecisionForm(ScenarioChoiceForm):
    """Preview (modify) or accept the markdown at an elasticity within ELASTICITY_RANGE, or at a
    compared scenario's depth (empty: accept keeps the recommended one)."""

    api_names = {"elasticity": "elasticity_coefficient"}

    action = forms.ChoiceField(choices=ACTIONS, error_messages=ACTION_ERRORS)
    elasticity = NumberField(required=False, error_messages=NUMBER_ERRORS)

    def clean_elasticity(self):
        return within(self.cleaned_data["elasticity"], ELASTICITY_RANGE)


class UploadForm(PageForm):
    """A CSV upload (field ``file``): 422 when none was chosen, 413 over UPLOAD_MAX_BYTES. An
    empty file is the importer's to explain, as it is for the API."""

    missing_message = "Choose a CSV file to upload."

    file = forms.FileField(allow_empty_file=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].error_messages["required"] = self.missing_message

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; the limit is {settings.UPLOAD_MAX_BYTES:,}.", code="too_large"
            )
        return upload

    def planning_error(self, name, error):
        if name != "file":
            return super().planning_error(name, error)
        message = " ".join(error.messages)
        if error.code == "too_large":
            return PayloadTooLarge(message)
        problem = "no file chosen" if error.code == "required" else message
        return Invalid(message, errors=[{"column": "file", "message": problem}])


class WeeklyActualsForm(UploadForm):
    """A week's actuals: the file, the season week and whether to replace an uploaded week. The
    week's range (1..the season's horizon) is the service's to check, for the API too."""

    missing_message = "Choose the CSV file of the week's actuals."

    week = WholeNumberField()
    overwrite = forms.BooleanField(required=False)

    def planning_error(self, name, error):
        if name != "week":
            return super().planning_error(name, error)
        return Invalid("Enter the season week of the file (a whole number).",
                       errors=[{"column": "week", "got": self.data.get("week"), "message": "a whole number"}])


class ExtractForm(PageForm):
    """The planner's description and the day relative dates count from (today when blank). The
    text's own rules (not empty, at most 1000 characters) are the extractor's, shared with the API."""

    user_input = forms.CharField(required=False, strip=False)
    reference_date = forms.DateField(required=False, input_formats=["%Y-%m-%d"],
                                     error_messages={"invalid": "Use a date like 2025-01-15."})

    def clean_reference_date(self):
        return self.cleaned_data["reference_date"] or timezone.localdate()


REQUIRED = {"required": "Required."}


class SeasonCardForm(PageForm):
    """The confirmation card: the six fields a planner states (percent inputs as fractions, blanks
    as None) and the season's optional economics (money per unit; blank: the default), judged by
    parse_parameters as the API's are, and the extraction's metadata carried along unchanged
    (start_forecast checks it on confirm)."""

    # The card's visible inputs: a problem with any other field is shown at the top of the card.
    INPUTS = (*PLANNER_FIELDS, *ECONOMICS_FIELDS)
    CARD_FIELDS = (*PLANNER_FIELDS, *ECONOMICS_FIELDS)

    forecast_horizon_weeks = WholeNumberField(error_messages={**REQUIRED, "invalid": "Enter a number."})
    season_start_date = forms.CharField(error_messages=REQUIRED)
    replenishment_strategy = forms.CharField(error_messages=REQUIRED)
    dc_holdback_percentage = PercentField(error_messages={**REQUIRED, "invalid": "Enter a number."})
    markdown_checkpoint_week = WholeNumberField(required=False, error_messages={"invalid": "Enter a number."})
    markdown_threshold = PercentField(required=False, error_messages={"invalid": "Enter a number."})
    unit_price = NumberField(required=False, error_messages={"invalid": "Enter an amount, e.g. 49.99."})
    unit_cost = NumberField(required=False, error_messages={"invalid": "Enter an amount, e.g. 21.50."})
    salvage_value = NumberField(required=False, error_messages={"invalid": "Enter an amount, e.g. 5."})
    confidence = forms.CharField(required=False, strip=False)
    reasoning = forms.CharField(required=False, strip=False)
    extractor = forms.CharField(required=False, strip=False)
    user_input = forms.CharField(required=False, strip=False)
    missing = KnownNamesField(PLANNER_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in self.CARD_FIELDS):
            return cleaned
        try:
            parsed = parse_parameters({name: cleaned[name] for name in self.CARD_FIELDS})
        except ParameterError as exc:
            if exc.field in self.fields:
                self.add_error(exc.field, exc.message)
            else:
                self.add_error(None, f"{exc.field}: {exc.message}")
        else:
            cleaned["season_end_date"] = parsed.season_end_date.isoformat()
        return cleaned

    def card(self):
        """The values to show on the card again: cleaned for a valid field (percent fields as
        fractions), as typed for an invalid one, plus the derived end date once all are valid."""
        self.is_valid()  # cleans once
        cleaned = self.cleaned_data
        values = {}
        for name in (*self.CARD_FIELDS, *CARRIED_FIELDS):
            if name in cleaned:
                values[name] = cleaned[name]
            else:
                raw = self.data.get(name, "")
                values[name] = raw.strip() if name in self.CARD_FIELDS else raw
        if "season_end_date" in cleaned:
            values["season_end_date"] = cleaned["season_end_date"]
        return values

    def missing_fields(self):
        self.is_valid()
        return self.cleaned_data.get("missing", [])

    def parameters(self):
        """What start_forecast takes: the card's values (the economics only when set: a blank one
        takes its default) and the fields that were defaulted."""
        values = {name: value for name, value in self.card().items()
                  if name not in ECONOMICS_FIELDS or value not in (None, "")}
        return {**values, "missing": self.missing_fields()}

    def field_errors(self):
        """``{input: message}``, each input's first problem; problems with hidden fields or with the
        whole card go under ``card``, shown at its top."""
        errors = {}
        for name, messages in self.errors.items():
            if name in self.INPUTS:
                errors[name] = messages[0]
            elif name == NON_FIELD_ERRORS:
                errors.setdefault("card", messages[0])
            else:
                errors.setdefault("card", f"{name}: {messages[0]}")
        return errors


class SeasonConfirmForm(SeasonCardForm):
    """Confirm & Run: the card plus the category to plan and the extraction it came from (whether
    they exist, and the extraction is unused, is start_forecast's to say)."""

    INPUTS = (*PLANNER_FIELDS, *ECONOMICS_FIELDS, "category_id")

    category_id = forms.CharField(error_messages={"required": "Choose the category to plan."})
    extraction_id = forms.UUIDField(required=False,
                                    error_messages={"invalid": "expected the id the extraction returned"})
