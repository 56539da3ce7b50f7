"""Markdown at exact half steps (SPEC §4): sell-through, gap and the raw markdown are exact
rationals of the integer counts, rounded half up once. Quantities other than 10,000 are the point:
with 10,000 every sell-through is a short decimal and binary floats happen to round right."""
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlpipeline.allocation import markdown_recommendation


@pytest.mark.parametrize(("sold", "mfg", "target", "elasticity", "raw", "markdown"), [
    (5_200, 9_600, 0.60, 3.0, 0.175, 0.20),  # SPEC vector: floats give 0.15
    (2_600, 4_800, 0.60, 3.0, 0.175, 0.20),
    (4_300, 8_000, 0.60, 2.0, 0.125, 0.15),
    (6_840, 12_000, 0.60, 2.5, 0.075, 0.10),
    (2_700, 6_000, 0.60, 1.5, 0.225, 0.25),
    (5_475, 9_000, 0.70, 3.0, 0.275, 0.30),
    (1_750, 3_000, 0.65, 1.2, 0.08, 0.10),
    (3_850, 7_000, 0.60, 1.0, 0.05, 0.05),  # an exact step stays where it is
    (105, 300, 0.50, 1.1, 0.165, 0.15),  # 3.3 steps -> 3
])
def test_half_steps_round_up_for_any_quantity(sold, mfg, target, elasticity, raw, markdown):
    result = markdown_recommendation(sold, mfg, target=target, elasticity=elasticity)
    assert result.raw_markdown == pytest.approx(raw, abs=1e-12)
    assert result.markdown_pct == markdown


def test_spec_vector_formula_shows_the_exact_half_step():
    result = markdown_recommendation(5_200, 9_600, target=0.60, elasticity=3.0)
    assert "= 17.5%" in result.formula and "markdown 20%" in result.formula
    assert "elasticity 3.0" in result.formula
    assert result.expected_lift == pytest.approx(0.30)


def exact_markdown(sold: int, mfg: int, target: Fraction, elasticity: Fraction) -> Fraction:
    """The SPEC rule in integer arithmetic: an independent oracle for the property test."""
    gap = target - Fraction(sold, mfg)
    if gap <= 0:
        return Fraction(0)
    steps = min(gap * elasticity, Fraction(2, 5)) / Fraction(1, 20)
    return (steps + Fraction(1, 2)).__floor__() * Fraction(1, 20)


@given(
    mfg=st.integers(min_value=1, max_value=250_000),
    sold_share=st.fractions(min_value=0, max_value=1),
    target_pct=st.integers(min_value=0, max_value=100),
    elasticity_tenths=st.integers(min_value=10, max_value=30),
)
def test_markdown_equals_exact_arithmetic_rounding(mfg, sold_share, target_pct, elasticity_tenths):
    sold = int(sold_share * mfg)
    target, elasticity = Fraction(target_pct, 100), Fraction(elasticity_tenths, 10)
    result = markdown_recommendation(sold, mfg, target=target_pct / 100, elasticity=elasticity_tenths / 10)
    assert result.markdown_pct == float(exact_markdown(sold, mfg, target, elasticity))


@given(k=st.integers(min_value=1, max_value=400), steps=st.integers(min_value=0, max_value=7),
       elasticity_tenths=st.integers(min_value=10, max_value=30))
def test_every_half_step_rounds_up(k, steps, elasticity_tenths):
    """mfg = 20 x t x k (t = elasticity in tenths) makes gap x e exactly (steps + 1/2) x 5% with an
    integer count sold: sold = 12tk - 5k(2 steps + 1)."""
    t = elasticity_tenths
    mfg, sold = 20 * t * k, 12 * t * k - 5 * k * (2 * steps + 1)
    result = markdown_recommendation(sold, mfg, target=0.60, elasticity=t / 10)
    assert result.raw_markdown == pytest.approx((steps + 0.5) * 0.05, abs=1e-12)
    assert result.markdown_pct == pytest.approx((steps + 1) * 0.05, abs=1e-12)
