"""The pages' forms: what each accepts and refuses, with the business limits of mlpipeline.limits
and the parameter checks of agents.parameters (the ones the API uses)."""
import uuid
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils import timezone

from agents.parameters import ParameterError, parse_parameters
from mlpipeline import limits
from planning.errors import Invalid, PayloadTooLarge
from planning.forms import (
    ExtractForm,
    ManufacturingDecisionForm,
    MarkdownDecisionForm,
    SeasonCardForm,
    SeasonConfirmForm,
    UploadForm,
    WeeklyActualsForm,
)

LOW_STOCK, HIGH_STOCK = (round(bound * 100) for bound in limits.SAFETY_STOCK_RANGE)
NO_OTHER_BUY = {"manufacturing_qty": None, "comparison_id": None, "scenario": ""}
LOW_ELASTICITY, HIGH_ELASTICITY = limits.ELASTICITY_RANGE


def problem(form):
    with pytest.raises(Invalid) as caught:
        form.valid_data()
    return caught.value


def csv_file(body=b"store_id,units_sold\nS001,4\n", name="week.csv"):
    return SimpleUploadedFile(name, body, content_type="text/csv")


# --- Manufacturing approval -------------------------------------------------------------------

@pytest.mark.parametrize("typed, fraction", [("25", 0.25), (str(LOW_STOCK), limits.SAFETY_STOCK_RANGE[0]),
                                             (str(HIGH_STOCK), limits.SAFETY_STOCK_RANGE[1]), (" 20 ", 0.2),
                                             ("12.5", 0.125)])
def test_safety_stock_is_typed_in_percent_and_cleaned_to_a_fraction(typed, fraction):
    values = ManufacturingDecisionForm({"action": "modify", "safety_stock_pct": typed}).valid_data()
    assert values == {"action": "modify", "safety_stock_pct": pytest.approx(fraction), **NO_OTHER_BUY}


@pytest.mark.parametrize("typed", ["0.2", str(LOW_STOCK - 1), str(HIGH_STOCK + 1), "50", "-20", "1e3"])
def test_safety_stock_outside_the_limits_is_refused(typed):
    """The field reads percent only, as the page always has: "0.2" is 0.2%, below the range."""
    error = problem(ManufacturingDecisionForm({"action": "modify", "safety_stock_pct": typed}))
    assert error.status == 422
    assert error.detail.startswith(f"safety_stock_pct: must be between {LOW_STOCK}% and {HIGH_STOCK}%")
    assert error.errors == [{"field": "safety_stock_pct", "message": error.detail.removeprefix("safety_stock_pct: ")}]


@pytest.mark.parametrize("typed", ["abc", "20%", "nan", "inf", "1,5"])
def test_a_safety_stock_that_is_not_a_number_is_refused(typed):
    error = problem(ManufacturingDecisionForm({"action": "accept", "safety_stock_pct": typed}))
    assert error.detail == "safety_stock_pct: enter a number"
    assert error.errors == [{"field": "safety_stock_pct", "message": "enter a number"}]


@pytest.mark.parametrize("data", [{"action": "accept"}, {"action": "accept", "safety_stock_pct": ""},
                                  {"action": "modify", "safety_stock_pct": "  "}])
def test_an_empty_safety_stock_is_none_for_the_service_to_decide(data):
    """Accept keeps the proposed stock; the service says that modify needs one (as for the API)."""
    assert ManufacturingDecisionForm(data).valid_data()["safety_stock_pct"] is None


@pytest.mark.parametrize("form_class", [ManufacturingDecisionForm, MarkdownDecisionForm])
@pytest.mark.parametrize("action", [None, "", "approve", "ACCEPT"])
def test_the_action_is_modify_or_accept(form_class, action):
    data = {} if action is None else {"action": action}
    assert problem(form_class(data)).detail == "action: modify or accept"


def test_unknown_fields_are_ignored():
    data = {"action": "accept", "safety_stock_pct": "20", "workflow_id": "x", "note": "hi", "admin": "1"}
    assert ManufacturingDecisionForm(data).valid_data() == {"action": "accept", "safety_stock_pct": 0.2,
                                                            **NO_OTHER_BUY}
    assert MarkdownDecisionForm({"action": "accept", "elasticity": "2", "extra": "?"}).valid_data() == {
        "action": "accept", "elasticity": 2.0, "comparison_id": None, "scenario": ""}


@pytest.mark.parametrize("data, error", [
    ({"action": "accept", "manufacturing_qty": "9000.5"}, "manufacturing_qty"),
    ({"action": "accept", "manufacturing_qty": "-1"}, "manufacturing_qty"),
    ({"action": "accept", "comparison_id": "0", "scenario": "a"}, "comparison_id"),
    ({"action": "accept", "comparison_id": "3"}, "__all__"),
    ({"action": "accept", "scenario": "a"}, "__all__"),
    ({"action": "accept", "comparison_id": "3", "scenario": "x" * 65}, "scenario"),
])
def test_a_buy_by_quantity_or_scenario_is_checked(data, error):
    assert problem(ManufacturingDecisionForm(data)).errors[0]["field"] == error


def test_a_buy_by_quantity_or_scenario_is_cleaned():
    assert ManufacturingDecisionForm({"action": "modify", "manufacturing_qty": " 9000 "}).valid_data()[
        "manufacturing_qty"] == 9000
    chosen = MarkdownDecisionForm({"action": "accept", "comparison_id": "3", "scenario": " deep "}).valid_data()
    assert (chosen["comparison_id"], chosen["scenario"]) == (3, "deep")


# --- Markdown approval ------------------------------------------------------------------------

@pytest.mark.parametrize("typed, value", [("1.0", 1.0), (str(LOW_ELASTICITY), LOW_ELASTICITY),
                                          (str(HIGH_ELASTICITY), HIGH_ELASTICITY), ("2.5", 2.5), ("", None)])
def test_elasticity_within_the_limits(typed, value):
    assert MarkdownDecisionForm({"action": "modify", "elasticity": typed}).valid_data()["elasticity"] == value


@pytest.mark.parametrize("typed", [str(LOW_ELASTICITY - 0.1), str(HIGH_ELASTICITY + 0.1), "0", "-2", "30"])
def test_elasticity_outside_the_limits_is_refused_under_the_apis_name(typed):
    error = problem(MarkdownDecisionForm({"action": "modify", "elasticity": typed}))
    assert error.detail.startswith(f"elasticity_coefficient: must be between {LOW_ELASTICITY} and {HIGH_ELASTICITY}")
    assert error.errors[0]["field"] == "elasticity_coefficient"


def test_elasticity_that_is_not_a_number_is_refused():
    error = problem(MarkdownDecisionForm({"action": "accept", "elasticity": "high"}))
    assert error.detail == "elasticity_coefficient: enter a number"


# --- Uploads ----------------------------------------------------------------------------------

def test_weekly_actuals_clean_to_the_services_arguments():
    upload = csv_file()
    values = WeeklyActualsForm({"week": "3", "overwrite": "true"}, {"file": upload}).valid_data()
    assert values == {"file": upload, "week": 3, "overwrite": True}


@pytest.mark.parametrize("typed, replace", [(None, False), ("", False), ("true", True), ("on", True),
                                            ("false", False)])
def test_overwrite_is_a_checkbox(typed, replace):
    data = {"week": "1"} if typed is None else {"week": "1", "overwrite": typed}
    assert WeeklyActualsForm(data, {"file": csv_file()}).valid_data()["overwrite"] is replace


@pytest.mark.parametrize("typed", [None, "", "abc", "1.5", "two"])
def test_a_week_that_is_not_a_whole_number_is_refused(typed):
    data = {} if typed is None else {"week": typed}
    error = problem(WeeklyActualsForm(data, {"file": csv_file()}))
    assert error.detail == "Enter the season week of the file (a whole number)."
    assert error.errors == [{"column": "week", "got": typed, "message": "a whole number"}]


@pytest.mark.parametrize("week", ["0", "13", str(limits.MAX_HORIZON_WEEKS + 1)])
def test_the_weeks_range_is_left_to_the_service(week):
    """1..the season's horizon needs the season: import_weekly_actuals checks it, for the API too."""
    assert WeeklyActualsForm({"week": week}, {"file": csv_file()}).valid_data()["week"] == int(week)


def test_a_missing_file_is_named_before_the_week():
    error = problem(WeeklyActualsForm({"week": "x"}, {}))
    assert error.detail == "Choose the CSV file of the week's actuals."
    assert error.errors == [{"column": "file", "message": "no file chosen"}]
    assert problem(UploadForm({}, {})).detail == "Choose a CSV file to upload."


def test_a_file_over_the_size_limit_is_413(settings):
    settings.UPLOAD_MAX_BYTES = 10
    with pytest.raises(PayloadTooLarge) as caught:
        WeeklyActualsForm({"week": "1"}, {"file": csv_file(b"x" * 11)}).valid_data()
    assert caught.value.status == 413
    assert caught.value.detail == "The file is 11 bytes; the limit is 10."
    assert UploadForm({}, {"file": csv_file(b"x" * 10)}).is_valid()


def test_an_empty_file_is_the_importers_to_explain():
    assert UploadForm({}, {"file": csv_file(b"")}).is_valid()


# --- Extraction -------------------------------------------------------------------------------

def test_extract_defaults_the_reference_date_to_today():
    for data in ({"user_input": "12 weeks"}, {"user_input": "12 weeks", "reference_date": ""}):
        assert ExtractForm(data).valid_data()["reference_date"] == timezone.localdate()
    values = ExtractForm({"user_input": " 12 weeks ", "reference_date": "2025-01-15", "x": "1"}).valid_data()
    assert values == {"user_input": " 12 weeks ", "reference_date": date(2025, 1, 15)}


@pytest.mark.parametrize("typed", ["15/01/2025", "2025-02-30", "tomorrow"])
def test_extract_refuses_a_reference_date_that_is_not_a_date(typed):
    form = ExtractForm({"user_input": "12 weeks", "reference_date": typed})
    assert not form.is_valid()
    name, error = form.first_error()
    assert (name, error.messages) == ("reference_date", ["Use a date like 2025-01-15."])


def test_the_texts_rules_are_the_extractors():
    """Empty or over-long text passes the form: the extractor refuses it, as it does for the API."""
    assert ExtractForm({}).valid_data()["user_input"] == ""
    assert ExtractForm({"user_input": "x" * 5000}).is_valid()


# --- Confirmation card ------------------------------------------------------------------------

def card(**overrides):
    values = {"forecast_horizon_weeks": "12", "season_start_date": "2025-03-01", "replenishment_strategy": "none",
              "dc_holdback_percentage": "0", "markdown_checkpoint_week": "6", "markdown_threshold": "60",
              "confidence": "high", "reasoning": "stated", "extractor": "rules", "user_input": "12 weeks"}
    values.update(overrides)
    data = QueryDict(mutable=True)
    for name, value in values.items():
        if isinstance(value, list):
            data.setlist(name, value)
        elif value is not None:
            data[name] = value
    return data


def test_a_valid_card_cleans_to_season_parameters():
    form = SeasonCardForm(card(missing=["markdown_threshold"]))
    assert form.is_valid(), form.errors
    assert form.parameters() == {
        "forecast_horizon_weeks": 12, "season_start_date": "2025-03-01", "replenishment_strategy": "none",
        "dc_holdback_percentage": 0.0, "markdown_checkpoint_week": 6, "markdown_threshold": 0.6,
        "season_end_date": "2025-05-23", "confidence": "high", "reasoning": "stated", "extractor": "rules",
        "user_input": "12 weeks", "missing": ["markdown_threshold"],
    }


@pytest.mark.parametrize("typed, fraction", [("45", 0.45), ("0.45", 0.0045), ("100", 1.0), ("0", 0.0)])
def test_card_percentages_are_typed_in_percent(typed, fraction):
    form = SeasonCardForm(card(dc_holdback_percentage=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["dc_holdback_percentage"] == pytest.approx(fraction)


@pytest.mark.parametrize("field, typed", [
    ("forecast_horizon_weeks", str(limits.MAX_HORIZON_WEEKS + 1)),
    ("forecast_horizon_weeks", str(limits.MIN_HORIZON_WEEKS - 1)),
    ("dc_holdback_percentage", "150"),
    ("dc_holdback_percentage", "-5"),
    ("markdown_threshold", "101"),
    ("markdown_checkpoint_week", "13"),
    ("markdown_checkpoint_week", "0"),
    ("replenishment_strategy", "monthly"),
    ("season_start_date", "2025-02-30"),
    ("season_start_date", "soon"),
])
def test_card_values_are_judged_by_parse_parameters(field, typed):
    """The message is parse_parameters' own, next to the field it names."""
    form = SeasonCardForm(card(**{field: typed}))
    assert not form.is_valid()
    data = form.data
    with pytest.raises(ParameterError) as expected:
        parse_parameters({
            "forecast_horizon_weeks": int(data["forecast_horizon_weeks"]),
            "season_start_date": data["season_start_date"],
            "replenishment_strategy": data["replenishment_strategy"],
            "dc_holdback_percentage": float(data["dc_holdback_percentage"]) / 100,
            "markdown_checkpoint_week": int(data["markdown_checkpoint_week"]),
            "markdown_threshold": float(data["markdown_threshold"]) / 100,
        })
    assert expected.value.field == field
    assert form.field_errors() == {field: expected.value.message}
    assert form.card()[field] == typed  # shown again as typed
    assert "season_end_date" not in form.card()


def test_the_horizon_limit_is_the_business_limit():
    form = SeasonCardForm(card(forecast_horizon_weeks=str(limits.MAX_HORIZON_WEEKS), markdown_checkpoint_week=""))
    assert form.is_valid(), form.errors
    assert "at most 52" in SeasonCardForm(card(forecast_horizon_weeks="60")).field_errors()["forecast_horizon_weeks"]


@pytest.mark.parametrize("field", ["forecast_horizon_weeks", "season_start_date", "replenishment_strategy",
                                   "dc_holdback_percentage"])
@pytest.mark.parametrize("typed", [None, "", "   "])
def test_the_four_core_fields_are_required(field, typed):
    assert SeasonCardForm(card(**{field: typed})).field_errors() == {field: "Required."}


@pytest.mark.parametrize("field", ["forecast_horizon_weeks", "dc_holdback_percentage", "markdown_checkpoint_week",
                                   "markdown_threshold"])
@pytest.mark.parametrize("typed", ["twelve", "1/2", "nan"])
def test_number_fields_that_are_not_numbers(field, typed):
    form = SeasonCardForm(card(**{field: typed}))
    assert form.field_errors() == {field: "Enter a number."}
    assert form.card()[field] == typed


def test_a_fractional_week_is_not_a_whole_number():
    assert SeasonCardForm(card(forecast_horizon_weeks="12.5")).field_errors() == {
        "forecast_horizon_weeks": "Enter a number."}


def test_blank_optional_fields_are_none_and_the_threshold_defaults_in_the_service():
    form = SeasonCardForm(card(markdown_checkpoint_week="", markdown_threshold=""))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["markdown_checkpoint_week"] is None and form.cleaned_data["markdown_threshold"] is None


def test_unknown_fields_and_a_typed_end_date_are_ignored():
    """The end date is always derived (the card has no input for it); other names are dropped."""
    form = SeasonCardForm(card(season_end_date="2030-01-01", weighting="backtest", csrfmiddlewaretoken="t",
                               missing=["markdown_threshold", "season_end_date", "bogus"]))
    assert form.is_valid(), form.errors
    parameters = form.parameters()
    assert parameters["season_end_date"] == "2025-05-23"
    assert "weighting" not in parameters and "csrfmiddlewaretoken" not in parameters
    assert parameters["missing"] == ["markdown_threshold"]


def test_carried_metadata_is_kept_as_posted():
    form = SeasonCardForm(card(reasoning="  two lines\nof reasons ", user_input=" my words "))
    assert form.is_valid()
    assert form.card()["reasoning"] == "  two lines\nof reasons " and form.card()["user_input"] == " my words "
    assert SeasonCardForm(card(confidence=None, reasoning=None)).parameters()["confidence"] == ""


def test_confirm_needs_a_category_and_still_checks_the_card():
    form = SeasonConfirmForm(card(forecast_horizon_weeks="60"))
    assert form.field_errors() == {"category_id": "Choose the category to plan.",
                                   "forecast_horizon_weeks": "must be at most 52 (got 60)"}
    assert "season_end_date" in SeasonConfirmForm(card()).card()  # the card was judged without one


def test_confirm_reads_the_extraction_id():
    extraction = uuid.uuid4()
    form = SeasonConfirmForm(card(category_id="womens_dresses", extraction_id=str(extraction)))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["extraction_id"] == extraction
    assert SeasonConfirmForm(card(category_id="womens_dresses")).valid_data()["extraction_id"] is None


def test_a_hidden_fields_problem_is_shown_at_the_top_of_the_card():
    form = SeasonConfirmForm(card(category_id="womens_dresses", extraction_id="not-a-uuid"))
    assert form.field_errors() == {"card": "extraction_id: expected the id the extraction returned"}
