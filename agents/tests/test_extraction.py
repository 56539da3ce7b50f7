"""Rule-based parameter extraction: SPEC §3 vectors, confidence, range errors and a phrasing table."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from agents.extraction import ExtractionResult, confidence_for, extract_parameters
from agents.parameters import ParameterError, SeasonParameters, default_start_date, parse_parameters

REFERENCE = date(2025, 1, 15)  # a Wednesday; the default start is Monday 2025-01-20
CORE = ["forecast_horizon_weeks", "season_start_date", "replenishment_strategy", "dc_holdback_percentage"]
SPEC_TEXT = (
    "12-week season starting March 1st. No replenishment, 0% holdback. "
    "Markdown at week 6 if below 60% sell-through."
)


@dataclass(frozen=True)
class Phrasing:
    """A planner's sentence and the seven fields it should give."""

    text: str
    horizon: int
    start: str
    end: str
    replenishment: str
    holdback: float
    checkpoint: int | None
    threshold: float | None
    reference: date = REFERENCE

    def expected(self) -> dict[str, object]:
        return {
            "forecast_horizon_weeks": self.horizon,
            "season_start_date": self.start,
            "season_end_date": self.end,
            "replenishment_strategy": self.replenishment,
            "dc_holdback_percentage": self.holdback,
            "markdown_checkpoint_week": self.checkpoint,
            "markdown_threshold": self.threshold,
        }


PHRASINGS = [
    Phrasing('12-week season starting March 1st. No replenishment, 0% holdback. Markdown at week 6 if below 60% sell-through.', 12, '2025-03-01', '2025-05-23', 'none', 0.0, 6, 0.6),
    Phrasing('Twelve weeks from next Monday, weekly replenishment, hold back 40% at the DC.', 12, '2025-01-20', '2025-04-13', 'weekly', 0.4, None, None),
    Phrasing('Plan a 16 week season beginning 3/10/2025 with bi-weekly replenishment and a 30% DC holdback. Markdown checkpoint at week 8.', 16, '2025-03-10', '2025-06-29', 'bi-weekly', 0.3, 8, 0.6),
    Phrasing('Season runs March 1 to May 24, replenish every two weeks, keep a quarter in the warehouse, markdown at the halfway point.', 12, '2025-03-01', '2025-05-23', 'bi-weekly', 0.25, 6, 0.6),
    Phrasing('3 month season starting the first of April, fortnightly replenishment, forty percent held back, no markdowns.', 13, '2025-04-01', '2025-06-30', 'bi-weekly', 0.4, None, None),
    Phrasing('Two-month spring drop starting Nov 24, no restocking, ship everything up front.', 9, '2025-11-24', '2026-01-25', 'none', 0.0, None, None),
    Phrasing('Start today, 26 weeks, weekly replenishment, 45% holdback, markdown at week 13 if sell-through is under 55%.', 26, '2025-01-15', '2025-07-15', 'weekly', 0.45, 13, 0.55),
    Phrasing('Starting tomorrow for eight weeks; twice a month replenishment; DC reserve 0.2.', 8, '2025-01-16', '2025-03-12', 'bi-weekly', 0.2, None, None),
    Phrasing('A quarter-long season from 1 July 2025 with every other week replenishment and half the buy held back.', 13, '2025-07-01', '2025-09-29', 'bi-weekly', 0.5, None, None),
    Phrasing('We want a 52-week plan starting 2025-02-03, no replenishment, no holdback, no markdowns.', 52, '2025-02-03', '2026-02-01', 'none', 0.0, None, None),
    Phrasing('Ten week season, start March 3, biweekly, 35% to the distribution center, markdown after 5 weeks at 65% sell-through.', 10, '2025-03-03', '2025-05-11', 'bi-weekly', 0.35, 5, 0.65),
    Phrasing('Horizon: 20 weeks. Start date: 2025-04-07. Replenishment: weekly. DC holdback: 50%. Markdown checkpoint: week 10, threshold 0.5.', 20, '2025-04-07', '2025-08-24', 'weekly', 0.5, 10, 0.5),
    Phrasing("Let's do six months starting next Monday with weekly restocks, keep 30% back at the warehouse, mid-season markdown.", 26, '2025-01-20', '2025-07-20', 'weekly', 0.3, 13, 0.6),
    Phrasing('Spring season 2025: March 3 through May 25, fortnightly top-ups, 25% in reserve.', 12, '2025-03-03', '2025-05-25', 'bi-weekly', 0.25, None, None),
    Phrasing('Fourteen weeks beginning April 7th, replenish every week, holdback of 0.35, markdown at week 7 if below 50% sell through.', 14, '2025-04-07', '2025-07-13', 'weekly', 0.35, 7, 0.5),
    Phrasing('Run the season for a quarter starting Monday, no replenishment, and hold back nothing.', 13, '2025-01-20', '2025-04-20', 'none', 0.0, None, None),
    Phrasing('8 weeks from 2025-06-02, weekly, 40% DC, markdown in the last 3 weeks.', 8, '2025-06-02', '2025-07-27', 'weekly', 0.4, 5, 0.6),
    Phrasing('Forty-five percent holdback, bi-weekly replenishment, 12 weeks starting Feb 3, markdown at week six with a 60% sell-through target.', 12, '2025-02-03', '2025-04-27', 'bi-weekly', 0.45, 6, 0.6),
    Phrasing('Ship everything up front for a 10 week season starting 3/3/2025.', 10, '2025-03-03', '2025-05-11', 'none', 0.0, None, None),
    Phrasing('Season of 9 weeks, starts on the 1st of March, restock weekly, hold back a third.', 9, '2025-03-01', '2025-05-02', 'weekly', 0.3333, None, None),
    Phrasing('Starting in two weeks, run 12 weeks, no replenishment, 0% holdback.', 12, '2025-01-29', '2025-04-22', 'none', 0.0, None, None),
    Phrasing('Holiday season Nov 24 to Dec 29, weekly replenishment, 20% warehouse reserve, no markdown.', 5, '2025-11-24', '2025-12-28', 'weekly', 0.2, None, None),
    Phrasing('Back-to-school: 8 weeks starting July 28, every other week replenishment, 35% hold back, markdown check at week 5 if sell-through below 0.55', 8, '2025-07-28', '2025-09-21', 'bi-weekly', 0.35, 5, 0.55),
    Phrasing('Summer: 1 July 2025 to 30 September 2025, no restocking, everything to stores up front.', 13, '2025-07-01', '2025-09-29', 'none', 0.0, None, None),
    Phrasing('A 2-month season starting early March with weekly replenishment and 45% at the DC, markdown at midseason below 60% sell-through.', 9, '2025-03-01', '2025-05-02', 'weekly', 0.45, 4, 0.6),
    Phrasing('Start the first Monday in March, 12 weeks, weekly, 40% holdback.', 12, '2025-03-03', '2025-05-25', 'weekly', 0.4, None, None),
    Phrasing("Let's plan 12 weeks starting next Monday with replenishment every week and a 45% DC holdback.", 12, '2025-01-20', '2025-04-13', 'weekly', 0.45, None, None),
    Phrasing('twenty-six week horizon from 2025-03-03, replenish fortnightly, hold back 25 percent, markdown at week 13.', 26, '2025-03-03', '2025-08-31', 'bi-weekly', 0.25, 13, 0.6),
    Phrasing("We're launching on March 10 for 15 weeks; send 70% to stores and keep the rest at the DC; replenish weekly.", 15, '2025-03-10', '2025-06-22', 'weekly', 0.3, None, None),
    Phrasing('10 weeks, starting the week of April 14, no DC holdback, weekly replenishment, markdown 4 weeks before the end.', 10, '2025-04-14', '2025-06-22', 'weekly', 0.0, 6, 0.6),
    Phrasing('Season: 13 weeks from Feb 24; bi-weekly replenishment; DC holdback 0.4; markdowns: none', 13, '2025-02-24', '2025-05-25', 'bi-weekly', 0.4, None, None),
    Phrasing('Fall season starting 9/1/2025, three months long, weekly replenishment, keep 50% in the warehouse, markdown at week 7 if sell-through is less than 65%', 13, '2025-09-01', '2025-11-30', 'weekly', 0.5, 7, 0.65),
    Phrasing('Starting next Monday. Eleven weeks. No replenishment. Hold back zero. Markdown at week 8.', 11, '2025-01-20', '2025-04-06', 'none', 0.0, 8, 0.6),
    Phrasing('6-week capsule, starts 2025-05-05, bi-weekly, a third held back, no markdowns', 6, '2025-05-05', '2025-06-15', 'bi-weekly', 0.3333, None, None),
    Phrasing('Give me a season from March 3 to June 1 with weekly replenishment.', 13, '2025-03-03', '2025-06-01', 'weekly', 0.45, None, None),
    Phrasing("We'd like to keep 60% at the DC and replenish every 2nd week over a twelve week season starting Mar 3.", 12, '2025-03-03', '2025-05-25', 'bi-weekly', 0.6, None, None),
    Phrasing('Start on Monday Feb 3rd for 10 weeks, weekly, 40% reserve, markdown at the halfway point if under 60%', 10, '2025-02-03', '2025-04-13', 'weekly', 0.4, 5, 0.6),
    Phrasing('Planning 12 weeks starting today with no replenishment and forty percent holdback; mark down at week 8 if sell thru < 55%.', 12, '2025-01-15', '2025-04-08', 'none', 0.4, 8, 0.55),
    Phrasing('Run it from 2025-03-01 through 2025-05-23, weekly restock, 45% holdback, markdown at week 6', 12, '2025-03-01', '2025-05-23', 'weekly', 0.45, 6, 0.6),
    Phrasing("Kick off on April 1, a 4 month season, don't replenish, 0 holdback", 17, '2025-04-01', '2025-07-28', 'none', 0.0, None, None),
    Phrasing('Season starts 3/3/25 and lasts 10 weeks. Replenishment every other week. 35% DC reserve. Markdown at week 5 if below 60% sell-through.', 10, '2025-03-03', '2025-05-11', 'bi-weekly', 0.35, 5, 0.6),
    Phrasing('Replenish twice a month, hold back 20%, 18 weeks from the 1st of March with a markdown at week 9 if sell-through is below 55%', 18, '2025-03-01', '2025-07-04', 'bi-weekly', 0.2, 9, 0.55),
    Phrasing('Starting next month, 8 weeks, weekly replenishment, warehouse holds 40%.', 8, '2025-02-01', '2025-03-28', 'weekly', 0.4, None, None),
    Phrasing('Season of twenty weeks starting Monday March 3, replenishment biweekly, 45% holdback, markdown checkpoint at week ten, target 0.6', 20, '2025-03-03', '2025-07-20', 'bi-weekly', 0.45, 10, 0.6),
    Phrasing('A one-year plan from 2025-02-03, weekly, 45% holdback.', 52, '2025-02-03', '2026-02-01', 'weekly', 0.45, None, None),
    Phrasing('Thirteen weeks beginning the 7th of April, every fortnight replenishment, DC holdback of thirty-five percent, no markdown', 13, '2025-04-07', '2025-07-06', 'bi-weekly', 0.35, None, None),
    Phrasing('Half a year starting 2025-01-20, no restocking, hold back 0%, markdown at midseason with 50% sell-through target', 26, '2025-01-20', '2025-07-20', 'none', 0.0, 13, 0.5),
    Phrasing('Weekly replenishment, 12 weeks, start 2025-03-03, forty-five percent at the DC, markdown week 6 threshold 60 percent', 12, '2025-03-03', '2025-05-25', 'weekly', 0.45, 6, 0.6),
    Phrasing('Starting March 31 for 9 weeks, replenishment every two weeks, keep 10% in reserve, markdown after week 5 if sell-through below 70%', 9, '2025-03-31', '2025-06-01', 'bi-weekly', 0.1, 5, 0.7),
    Phrasing("New season kicking off next Monday, run it for 10 weeks, we'll replenish weekly from the DC which holds 25%", 10, '2025-01-20', '2025-03-30', 'weekly', 0.25, None, None),
    Phrasing('12 weeks starting 2025-03-01; ship it all up front; markdown at week 8 below 55% sell-through', 12, '2025-03-01', '2025-05-23', 'none', 0.0, 8, 0.55),
    Phrasing('Mid-March start, 10 weeks, weekly, 30% held back', 10, '2025-03-15', '2025-05-23', 'weekly', 0.3, None, None),
    Phrasing('Plan for 12 weeks starting Monday the 3rd of March; hold back a quarter at the DC; replenishment bi-weekly.', 12, '2025-03-03', '2025-05-25', 'bi-weekly', 0.25, None, None),
    Phrasing('From Feb 2 until Apr 27 with no replenishment and a 0.25 holdback', 12, '2025-02-02', '2025-04-26', 'none', 0.25, None, None),
    Phrasing('Start Monday, seven weeks, fortnightly restock, holdback 15%, markdown in week 4', 7, '2025-01-20', '2025-03-09', 'bi-weekly', 0.15, 4, 0.6),
    Phrasing('Markdown at week 6 if below 60% sell-through, 12 weeks from March 1, weekly replenishment, hold back forty-five percent', 12, '2025-03-01', '2025-05-23', 'weekly', 0.45, 6, 0.6),
    Phrasing('Two quarters, start 2025-04-07, replenish bi-weekly, 40% DC, markdown 6 weeks before season end', 26, '2025-04-07', '2025-10-05', 'bi-weekly', 0.4, 20, 0.6),
    Phrasing('12 weeks starting March 1st, allocate 60% up front, replenish weekly', 12, '2025-03-01', '2025-05-23', 'weekly', 0.4, None, None),
    Phrasing('Season from 2025-03-03, 12 weeks, no replenishment, holdback 0, markdown on April 14 if sell-through under 60%', 12, '2025-03-03', '2025-05-25', 'none', 0.0, 7, 0.6),
    Phrasing('12 weeks starting Jan 20, weekly, 45% holdback, discount at week 8 if sell-through below 0.5', 12, '2025-01-20', '2025-04-13', 'weekly', 0.45, 8, 0.5),
    Phrasing('Weekly replenishment, 30% holdback.', 12, '2025-01-20', '2025-04-13', 'weekly', 0.3, None, None),
    Phrasing('16 weeks', 16, '2025-01-20', '2025-05-11', 'weekly', 0.45, None, None),
    Phrasing('Start March 1.', 12, '2025-03-01', '2025-05-23', 'weekly', 0.45, None, None),
    Phrasing('Standard season please', 12, '2025-01-20', '2025-04-13', 'weekly', 0.45, None, None),
    Phrasing('Can we do a dozen weeks starting 2025-03-03 with no replenishment at all and keep nothing at the DC? Markdown week 6, sell-through target 60%.', 12, '2025-03-03', '2025-05-25', 'none', 0.0, 6, 0.6),
    Phrasing('Starts the day after tomorrow, 4-week flash season, no restock, 100% to stores', 4, '2025-01-17', '2025-02-13', 'none', 0.0, None, None),
    # Distractors: history lengths, unit counts, a variance threshold, "may" the verb, abbreviations.
    Phrasing('We may need a 12-week season; start March 3; weekly replen; 45% holdback', 12, '2025-03-03', '2025-05-25', 'weekly', 0.45, None, None),
    Phrasing('Based on 52 weeks of history, plan 12 weeks from March 3 with weekly replenishment and 40% DC holdback', 12, '2025-03-03', '2025-05-25', 'weekly', 0.4, None, None),
    Phrasing('12 weeks from March 3, weekly replenishment, 40% holdback, variance threshold 20%, markdown at week 6', 12, '2025-03-03', '2025-05-25', 'weekly', 0.4, 6, 0.6),
    Phrasing('Order 8,000 units for a 12-week season starting March 3; replenish weekly; hold back 45%', 12, '2025-03-03', '2025-05-25', 'weekly', 0.45, None, None),
    Phrasing('Markdown after week 8 if sell-through < 60%. Season: 16 weeks, from 2025-03-03. Weekly restock. Holdback 40%.', 16, '2025-03-03', '2025-06-22', 'weekly', 0.4, 8, 0.6),
    Phrasing('Sixteen weeks, starting on the second Monday of March, replenish bi-weekly, keep 40% in reserve', 16, '2025-03-10', '2025-06-29', 'bi-weekly', 0.4, None, None),
    Phrasing('March 3 start, 12 weeks, weekly, 45% holdback, markdowns: week 6, 60%', 12, '2025-03-03', '2025-05-25', 'weekly', 0.45, 6, 0.6),
    Phrasing('Season starts the Monday after next and runs for 8 weeks, no replenishment, hold back nothing', 8, '2025-01-27', '2025-03-23', 'none', 0.0, None, None),
    Phrasing('From April 1st through June 30th, weekly replenishment, 30% at the DC', 13, '2025-04-01', '2025-06-30', 'weekly', 0.3, None, None),
    Phrasing('Twelve weeks starting 2025-03-03. Every week we replenish from the 45% we hold back. Markdown at week 6.', 12, '2025-03-03', '2025-05-25', 'weekly', 0.45, 6, 0.6),
    Phrasing('Spring: 13 wks from 3/3/25; restock 2x a month; DC 35%; MD wk 7 if ST below 55%', 13, '2025-03-03', '2025-06-01', 'bi-weekly', 0.35, 7, 0.55),
    Phrasing('A six-week season starting on Monday, with every other week replenishment and 20% held back. Review markdowns in week 4.', 6, '2025-01-20', '2025-03-02', 'bi-weekly', 0.2, 4, 0.6),
    Phrasing('Ten weeks from today, replenish weekly, keep 40% at the DC, markdown 2 weeks before the season ends', 10, '2025-01-15', '2025-03-25', 'weekly', 0.4, 8, 0.6),
    Phrasing('Run from the 3rd of March to the 1st of June with a markdown check at week 8; replenish fortnightly; 35% holdback', 13, '2025-03-03', '2025-06-01', 'bi-weekly', 0.35, 8, 0.6),
    Phrasing('Start March 3 and go for 12 weeks. We want to ship 55% initially and replenish weekly.', 12, '2025-03-03', '2025-05-25', 'weekly', 0.45, None, None),
    # A date without a year is its next occurrence: in late November "Jan 5" is next January.
    Phrasing("Starting Jan 5 for 12 weeks, weekly, 40% at the DC", 12, "2026-01-05", "2026-03-29", "weekly", 0.4, None, None, date(2025, 11, 20)),
    # On a Monday, "next Monday" is a week later; "this Monday" is today.
    Phrasing("Start next Monday, 4 weeks, no replenishment, 10% holdback", 4, "2025-07-07", "2025-08-03", "none", 0.1, None, None, date(2025, 6, 30)),
    Phrasing("This Monday for 4 weeks, replenish bi-weekly, hold back 10%", 4, "2025-06-30", "2025-07-27", "bi-weekly", 0.1, None, None, date(2025, 6, 30)),
]


def _field_matches(phrasing: Phrasing) -> dict[str, bool]:
    got = extract_parameters(phrasing.text, phrasing.reference).parameters.model_dump(mode="json")
    return {name: got[name] == pytest.approx(want, abs=1e-4) for name, want in phrasing.expected().items()}


def test_the_table_is_large_and_varied() -> None:
    assert len(PHRASINGS) >= 50
    assert len({p.text for p in PHRASINGS}) == len(PHRASINGS)


def test_field_accuracy_on_realistic_phrasings() -> None:
    results = [_field_matches(p) for p in PHRASINGS]
    right = sum(sum(r.values()) for r in results)
    total = sum(len(r) for r in results)
    accuracy = right / total
    print(f"\nrule-based extraction: {right}/{total} fields right on {len(PHRASINGS)} phrasings = {accuracy:.1%}")
    assert accuracy >= 0.95


@pytest.mark.parametrize("phrasing", PHRASINGS, ids=lambda p: p.text[:60])
def test_phrasing(phrasing: Phrasing) -> None:
    got = extract_parameters(phrasing.text, phrasing.reference).parameters.model_dump(mode="json")
    assert got == pytest.approx(phrasing.expected(), abs=1e-4)


# --- SPEC vectors --------------------------------------------------------------------------------


def test_spec_vector() -> None:
    result = extract_parameters(SPEC_TEXT, REFERENCE)
    assert result.parameters.model_dump(mode="json") == {
        "forecast_horizon_weeks": 12,
        "season_start_date": "2025-03-01",
        "season_end_date": "2025-05-23",
        "replenishment_strategy": "none",
        "dc_holdback_percentage": 0.0,
        "markdown_checkpoint_week": 6,
        "markdown_threshold": 0.60,
    }
    assert result.confidence == "high"
    assert result.extractor == "rules"
    assert result.missing == []
    assert "dc_holdback_percentage" in result.stated  # "0% holdback" is a stated 0.0, not a default
    assert result.usage is None


def test_reasoning_explains_every_field() -> None:
    result = extract_parameters("Weekly replenishment, 30% holdback, markdown at week 6.", REFERENCE)
    reasoning = result.reasoning
    for label in ("Forecast horizon", "Season start", "Season end", "Replenishment", "DC holdback",
                  "Markdown checkpoint", "Markdown threshold"):
        assert label in reasoning
    assert 'Replenishment: weekly (stated: "weekly")' in reasoning
    assert "Forecast horizon: 12 weeks (default, not stated)" in reasoning
    assert "Markdown threshold: 60% (default target when a markdown checkpoint is set)" in reasoning


def test_to_dict_has_the_api_shape() -> None:
    body = extract_parameters(SPEC_TEXT, REFERENCE).to_dict()
    assert set(body) == {"parameters", "confidence", "reasoning", "extractor", "missing", "economics_stated"}
    assert len(body["parameters"]) == 7  # the economics only when stated
    assert body["economics_stated"] == []
    assert body["parameters"]["season_end_date"] == "2025-05-23"


def test_season_end_date_vector_and_default_start() -> None:
    parameters = parse_parameters({"season_start_date": date(2025, 3, 1), "forecast_horizon_weeks": 12})
    assert parameters.season_end_date == date(2025, 5, 23)
    assert default_start_date(date(2025, 1, 15)) == date(2025, 1, 20)  # Wednesday -> next Monday
    assert default_start_date(date(2025, 1, 20)) == date(2025, 1, 27)  # a Monday -> the following one
    assert default_start_date(date(2025, 1, 19)) == date(2025, 1, 20)  # Sunday -> tomorrow


def test_threshold_defaults_only_with_a_checkpoint() -> None:
    with_checkpoint = parse_parameters({"season_start_date": "2025-03-01", "markdown_checkpoint_week": 6})
    assert with_checkpoint.markdown_threshold == 0.60
    assert parse_parameters({"season_start_date": "2025-03-01"}).markdown_threshold is None


def test_season_parameters_round_trip_and_end_date_check() -> None:
    parameters = parse_parameters({"season_start_date": "2025-03-01", "markdown_checkpoint_week": 6})
    assert SeasonParameters.model_validate(parameters.model_dump()) == parameters
    with pytest.raises(ParameterError) as error:
        parse_parameters({**parameters.model_dump(), "season_end_date": "2025-05-24"})
    assert error.value.field == "season_end_date"


# --- confidence ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "confidence", "missing_core"),
    [
        (SPEC_TEXT, "high", []),
        ("12 weeks from March 3, weekly replenishment.", "medium", ["dc_holdback_percentage"]),
        ("Weekly replenishment, 30% holdback.", "medium", ["forecast_horizon_weeks", "season_start_date"]),
        ("16 weeks, markdown at week 8", "low", CORE[1:]),
        ("Standard season please", "low", CORE),
    ],
)
def test_confidence_levels(text: str, confidence: str, missing_core: list[str]) -> None:
    result = extract_parameters(text, REFERENCE)
    assert result.confidence == confidence
    assert [name for name in result.missing if name in CORE] == missing_core


def test_nothing_recognisable_gives_all_defaults() -> None:
    result = extract_parameters("Standard season please", REFERENCE)
    assert result.parameters == parse_parameters({"season_start_date": date(2025, 1, 20)})
    assert result.missing == [
        "forecast_horizon_weeks", "season_start_date", "replenishment_strategy",
        "dc_holdback_percentage", "markdown_checkpoint_week", "markdown_threshold",
    ]
    assert result.stated == frozenset()


def test_no_markdowns_states_both_markdown_fields() -> None:
    result = extract_parameters("12 weeks from March 3, no markdowns", REFERENCE)
    assert result.parameters.markdown_checkpoint_week is None
    assert "markdown_checkpoint_week" not in result.missing
    assert "markdown_threshold" not in result.missing


def test_confidence_rule() -> None:
    core = set(CORE)
    assert confidence_for(core) == "high"
    assert confidence_for(core - {"season_start_date"}) == "medium"
    assert confidence_for({"forecast_horizon_weeks", "season_start_date"}) == "medium"
    assert confidence_for({"forecast_horizon_weeks"}) == "low"


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("a 100-week season starting March 3", "forecast_horizon_weeks"),
        ("0-week season", "forecast_horizon_weeks"),
        ("three years starting next Monday", "forecast_horizon_weeks"),
        ("12 weeks, 150% holdback", "dc_holdback_percentage"),
        ("12-week season, markdown at week 20", "markdown_checkpoint_week"),
        ("markdown at week 0", "markdown_checkpoint_week"),
        ("12 weeks, markdown 14 weeks before the end", "markdown_checkpoint_week"),
        ("markdown at week 8 if sell-through is below 120%", "markdown_threshold"),
        ("Starting February 30 for 12 weeks", "season_start_date"),
        ("From 2025-05-01 to 2025-04-01", "season_end_date"),
    ],
)
def test_explicit_out_of_range_values_raise(text: str, field: str) -> None:
    with pytest.raises(ParameterError) as error:
        extract_parameters(text, REFERENCE)
    assert error.value.field == field


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "x" * 1001])
def test_empty_or_over_long_input_raises(text: str) -> None:
    with pytest.raises(ParameterError) as error:
        extract_parameters(text, REFERENCE)
    assert error.value.field == "user_input"


def test_input_of_exactly_1000_characters_is_accepted() -> None:
    text = SPEC_TEXT + " " * (1000 - len(SPEC_TEXT))
    assert isinstance(extract_parameters(text, REFERENCE), ExtractionResult)
