"""The season's economics (SPEC §13): unit price, unit cost and salvage value, validated on
SeasonParameters and read by the rule-based extractor without disturbing the seven planning fields."""
from __future__ import annotations

import math
from datetime import date

import pytest

from agents.extraction import extract_parameters
from agents.parameters import ECONOMICS_FIELDS, ParameterError, check_economics, parse_parameters
from agents.tests.test_extraction import PHRASINGS, REFERENCE, Phrasing
from mlpipeline.limits import MAX_UNIT_MONEY

BASE = {"season_start_date": "2025-03-03"}


def economics_of(text: str, reference: date = REFERENCE) -> tuple[float | None, float | None, float | None]:
    parameters = extract_parameters(text, reference).parameters
    return parameters.unit_price, parameters.unit_cost, parameters.salvage_value


# --- validation ----------------------------------------------------------------------------------


def test_the_economics_are_optional_and_left_out_of_the_dump_when_not_given() -> None:
    parameters = parse_parameters(BASE)
    assert (parameters.unit_price, parameters.unit_cost, parameters.salvage_value) == (None, None, None)
    assert not set(ECONOMICS_FIELDS) & set(parameters.model_dump())  # a season without them stores the seven
    assert parse_parameters({**BASE, "unit_price": None, "unit_cost": None}).model_dump() == parameters.model_dump()


def test_given_economics_are_kept_and_round_trip() -> None:
    parameters = parse_parameters({**BASE, "unit_price": 49, "unit_cost": 21.5, "salvage_value": 0})
    dumped = parameters.model_dump(mode="json")
    assert (dumped["unit_price"], dumped["unit_cost"], dumped["salvage_value"]) == (49.0, 21.5, 0.0)
    assert parse_parameters(dumped) == parameters
    assert parameters.economics() == {"unit_price": 49.0, "unit_cost": 21.5, "salvage_value": 0.0}


@pytest.mark.parametrize(("given", "field"), [
    ({"unit_price": 49, "unit_cost": 49}, "unit_cost"),  # cost == price
    ({"unit_price": 49, "unit_cost": 60}, "unit_cost"),
    ({"unit_cost": 20, "salvage_value": 20}, "salvage_value"),  # salvage == cost
    ({"unit_price": 10, "salvage_value": 10}, "salvage_value"),  # salvage == price
    ({"unit_price": 49, "unit_cost": 21, "salvage_value": 21}, "salvage_value"),
    ({"unit_price": 0}, "unit_price"),
    ({"unit_price": -1}, "unit_price"),
    ({"unit_cost": 0}, "unit_cost"),
    ({"salvage_value": -0.01}, "salvage_value"),
    ({"unit_price": "49"}, "unit_price"),  # a string is not a number
    ({"unit_cost": "21.50"}, "unit_cost"),
    ({"unit_price": True}, "unit_price"),  # nor is a boolean
    ({"salvage_value": False}, "salvage_value"),
    ({"unit_price": math.nan}, "unit_price"),
    ({"unit_cost": math.inf}, "unit_cost"),
    ({"unit_price": MAX_UNIT_MONEY * 10}, "unit_price"),
    ({"unit_price": [49]}, "unit_price"),
    # With the price given, a defaulted cost (0.45 x) or salvage (0.20 x) must still fit.
    ({"unit_price": 49, "salvage_value": 30}, "salvage_value"),
    ({"unit_price": 49, "unit_cost": 5}, "unit_cost"),
])
def test_impossible_economics_name_the_field(given: dict, field: str) -> None:
    with pytest.raises(ParameterError) as error:
        parse_parameters({**BASE, **given})
    assert error.value.field == field


def test_the_messages_say_what_is_wrong() -> None:
    with pytest.raises(ParameterError, match=r"unit_cost: must be below the unit price 49\.00 \(got 49\.00\)"):
        parse_parameters({**BASE, "unit_price": 49, "unit_cost": 49})
    with pytest.raises(ParameterError, match=r"unit_price: must be a number \(got '49'\)"):
        parse_parameters({**BASE, "unit_price": "49"})
    with pytest.raises(ParameterError, match=r"default 0\.45 x price = 22\.05"):
        parse_parameters({**BASE, "unit_price": 49, "salvage_value": 30})


@pytest.mark.parametrize("given", [
    {"unit_price": 49}, {"unit_cost": 21}, {"salvage_value": 0}, {"unit_price": 49, "unit_cost": 21},
    {"unit_cost": 21, "salvage_value": 5}, {"unit_price": 49, "salvage_value": 9.8}, {"unit_price": 0.01},
    {"unit_price": MAX_UNIT_MONEY, "unit_cost": MAX_UNIT_MONEY - 1, "salvage_value": 0},
])
def test_possible_economics_are_accepted(given: dict) -> None:
    assert parse_parameters({**BASE, **given}).economics() == {k: float(v) for k, v in given.items()}


def test_a_default_price_is_checked_where_it_is_known() -> None:
    check_economics(None, 30.0, None)  # no price known yet: the season start checks with the history's
    with pytest.raises(ParameterError) as error:
        check_economics(25.0, 30.0, None, price_source="the history's")
    assert error.value.field == "unit_cost" and "the history's; or state the unit price" in error.value.message


# --- extraction ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("$49 retail, $21 cost", (49.0, 21.0, None)),
    ("retail price 49.99", (49.99, None, None)),
    ("It sells at $35, costs us $15", (35.0, 15.0, None)),
    ("unit cost $12.50", (None, 12.5, None)),
    ("salvage $5 a unit", (None, None, 5.0)),
    ("clearance value of 8 dollars", (None, None, 8.0)),
    ("€40 retail", (40.0, None, None)),
    ("49 USD retail", (49.0, None, None)),
    ("retail price 49 USD, cost 20 USD", (49.0, 20.0, None)),
    ("MSRP $79.00, landed cost $31.50, salvage value $10", (79.0, 31.5, 10.0)),
    ("retail $49 cost $21", (49.0, 21.0, None)),
    ("price point of $1,200 and a unit cost of 480", (1200.0, 480.0, None)),
    ("€49,99 retail, €20 cost", (49.99, 20.0, None)),
    ("£30 a unit retail, wholesale £12", (30.0, 12.0, None)),
    ("sold at $35, leftovers sell for $6", (35.0, None, 6.0)),
    ("priced at forty-nine dollars, costing us twenty-one dollars", (49.0, 21.0, None)),
    ("Price: $25. Cost: $10. Salvage: $2.", (25.0, 10.0, 2.0)),
    ("selling price is about $60 per unit and the cost per unit is $27", (60.0, 27.0, None)),
    ("the clearance price is 9 euros, retail 45 euros", (45.0, None, 9.0)),
    ("$5 salvage, $21 cost, $49 retail", (49.0, 21.0, 5.0)),
])
def test_money_phrasings(text: str, expected: tuple) -> None:
    assert economics_of(text) == expected


@pytest.mark.parametrize("text", [
    "Order 10,000 units for a 12-week season starting March 3",
    "Based on 52 weeks of history, 45% holdback, variance threshold 20%",
    "Budget of $10,000 for the season, 12 weeks",  # an amount with no role is not a price
    "markdown price of $25 at week 6",  # a marked-down price is not the retail price
    "price cut of 20% at week 6 if sell-through is below 60%",
    "Start 3/10/2025, 16 weeks, markdown at week 8",
    "cost 45% of retail",
])
def test_other_numbers_are_not_money(text: str) -> None:
    assert economics_of(text) == (None, None, None)


def test_an_amount_with_no_role_is_noted() -> None:
    result = extract_parameters("Budget $10,000, 12 weeks", REFERENCE)
    assert 'Note: ignored "$10,000"' in result.reasoning


def test_the_stated_economics_are_flagged_and_explained() -> None:
    result = extract_parameters("12 weeks from March 3, $49 retail, salvage $5", REFERENCE)
    assert result.economics_stated == ["unit_price", "salvage_value"]
    assert result.to_dict()["economics_stated"] == ["unit_price", "salvage_value"]
    assert 'Unit price: 49.00 (stated: "$49 retail" (in dollars; the number is kept)).' in result.reasoning
    assert "Unit cost: default (0.45 x the unit price)." in result.reasoning
    assert "unit_cost" not in result.missing  # missing and confidence are about the seven fields
    assert result.confidence == "medium"


@pytest.mark.parametrize(("text", "field"), [
    ("$21 retail, $49 cost", "unit_cost"),
    ("$0 retail", "unit_price"),
    ("retail $40, salvage $40", "salvage_value"),
    ("$2,000,000 retail", "unit_price"),
    ("$49 retail, €20 cost", "unit_cost"),  # two currencies: nothing converts between them
])
def test_impossible_stated_economics_raise_naming_the_field(text: str, field: str) -> None:
    with pytest.raises(ParameterError) as error:
        extract_parameters(text, REFERENCE)
    assert error.value.field == field


# Realistic briefs with money: the seven fields and the three economics.
MONEY_PHRASINGS = [
    (Phrasing("12-week season starting March 1st. No replenishment, 0% holdback. Markdown at week 6 if below 60% "
              "sell-through. $49 retail, $21 cost.", 12, "2025-03-01", "2025-05-23", "none", 0.0, 6, 0.6),
     (49.0, 21.0, None)),
    (Phrasing("Order 10,000 units for 12 weeks from March 3 at $49 retail; replenish weekly; hold back 45%",
              12, "2025-03-03", "2025-05-25", "weekly", 0.45, None, None), (49.0, None, None)),
    (Phrasing("Ten week season, start March 3, biweekly, 35% to the distribution center. It sells at $35, costs "
              "us $15, and leftovers go for $4.", 10, "2025-03-03", "2025-05-11", "bi-weekly", 0.35, None, None),
     (35.0, 15.0, 4.0)),
    (Phrasing("Retail price 49.99, unit cost $12.50. 16 weeks starting 3/10/2025, replenish every other week, "
              "keep 30% in reserve, markdown checkpoint at week 8.", 16, "2025-03-10", "2025-06-29", "bi-weekly",
              0.3, 8, 0.6), (49.99, 12.5, None)),
    (Phrasing("€40 retail, €18 cost, clearance value of 8 euros; 8 weeks from 2025-06-02, weekly, 40% DC",
              8, "2025-06-02", "2025-07-27", "weekly", 0.4, None, None), (40.0, 18.0, 8.0)),
    (Phrasing("Salvage $5 a unit. Twelve weeks starting next Monday, no replenishment, hold back nothing, "
              "markdown at week 8 below 55% sell-through; 49 USD retail.", 12, "2025-01-20", "2025-04-13", "none",
              0.0, 8, 0.55), (49.0, None, 5.0)),
    (Phrasing("A 2-month season starting early March with weekly replenishment and 45% at the DC; MSRP $89, "
              "landed cost $38.", 9, "2025-03-01", "2025-05-02", "weekly", 0.45, None, None), (89.0, 38.0, None)),
    (Phrasing("Start March 3 and go for 12 weeks at $1,200 a unit retail, cost $520, ship 55% initially and "
              "replenish weekly.", 12, "2025-03-03", "2025-05-25", "weekly", 0.45, None, None),
     (1200.0, 520.0, None)),
]


def test_field_accuracy_on_briefs_with_money() -> None:
    right = total = 0
    for phrasing, economics in MONEY_PHRASINGS:
        result = extract_parameters(phrasing.text, phrasing.reference).parameters
        got = result.model_dump(mode="json")
        for name, want in phrasing.expected().items():
            right += got[name] == pytest.approx(want, abs=1e-4)
        right += sum(g == w for g, w in zip((result.unit_price, result.unit_cost, result.salvage_value), economics))
        total += len(phrasing.expected()) + 3
    assert right / total >= 0.95, f"{right}/{total}"


@pytest.mark.parametrize(("phrasing", "economics"), MONEY_PHRASINGS, ids=lambda p: getattr(p, "text", "")[:50])
def test_money_phrasing(phrasing: Phrasing, economics: tuple) -> None:
    result = extract_parameters(phrasing.text, phrasing.reference).parameters
    assert {k: v for k, v in result.model_dump(mode="json").items() if k not in ECONOMICS_FIELDS} == pytest.approx(
        phrasing.expected(), abs=1e-4)
    assert (result.unit_price, result.unit_cost, result.salvage_value) == economics


def test_the_existing_table_reads_no_money() -> None:
    assert all(extract_parameters(p.text, p.reference).economics_stated == [] for p in PHRASINGS)


@pytest.mark.parametrize("money", [" $49 retail, $21 cost.", " Retail price 49.99, unit cost $12.50, salvage $5 a unit.",
                                   " It sells at €35 and costs us €15; clearance value of 8 euros."])
def test_money_added_to_any_brief_changes_none_of_its_seven_fields(money: str) -> None:
    for phrasing in PHRASINGS:
        alone = extract_parameters(phrasing.text, phrasing.reference)
        for text in (phrasing.text.rstrip(".") + "." + money, money.strip() + " " + phrasing.text):
            with_money = extract_parameters(text, phrasing.reference)
            assert with_money.parameters.model_dump(exclude=set(ECONOMICS_FIELDS)) == alone.parameters.model_dump()
            assert len(with_money.economics_stated) >= 2, text
