"""Seeded in-season scenarios with known truth, for the re-forecast backtest (issue #14).

A scenario is a base weekly curve (what the season would sell if nothing happened: the plan
itself, or a realised synthetic season) times a known multiplier path ``m_w`` times weekly noise::

    actual_w = round(base_w * m_w * exp(noise_sd * z_w)),   z_w ~ N(0, 1) seeded

Kinds (``size`` and ``at_week`` vary per scenario, nothing is tuned to one case):

- ``steady``: m_w = size for every week (1.0: the plan is right; 0.8, 1.25: a level error).
- ``shift``: m_w = 1 before ``at_week``, ``size`` from it (0.6 down, 1.5 up).
- ``spike``: m_w = 1 except m = size in ``at_week`` only (a promotion, a heat wave: 1.8, 2.5;
  or a one-week dip 0.5).
- ``trend_break``: m_w = 1 before ``at_week``, then (1 + size)^(w - at_week + 1) (size -0.08:
  a fading product; +0.06: a catching one).
- ``collapse``: m_w = 1 in week 1, ``size`` from week 2 on (0.25: -75%).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

KINDS = ("steady", "shift", "spike", "trend_break", "collapse")
# (kind, size, at_week): the scenario family the bench replays on every base curve
FAMILY: tuple[tuple[str, float, int], ...] = (
    ("steady", 1.0, 1),
    ("steady", 0.8, 1),
    ("steady", 1.25, 1),
    ("shift", 0.6, 5),
    ("shift", 1.5, 4),
    ("spike", 2.0, 5),
    ("spike", 0.5, 7),
    ("trend_break", -0.08, 5),
    ("trend_break", 0.06, 6),
    ("collapse", 0.25, 2),
)
NOISE_LEVELS = (0.0, 0.05, 0.10)


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str
    size: float
    at_week: int
    noise_sd: float
    seed: int
    base_weekly: list[float]
    multiplier: list[float]  # m_w, the known truth
    actual_weekly: list[int]


def multiplier_path(kind: str, weeks: int, size: float, at_week: int) -> np.ndarray:
    """The known multiplier m_w of weeks 1..weeks (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"unknown scenario kind {kind!r}; expected one of {', '.join(KINDS)}")
    if weeks < 1 or not 1 <= at_week <= weeks:
        raise ValueError(f"at_week must be within 1..{weeks}, got {at_week}")
    if size <= -1 or (kind != "trend_break" and size <= 0):
        raise ValueError(f"size {size} would make demand negative or zero")
    week = np.arange(1, weeks + 1)
    if kind == "steady":
        return np.full(weeks, float(size))
    if kind == "shift":
        return np.where(week >= at_week, size, 1.0)
    if kind == "spike":
        return np.where(week == at_week, size, 1.0)
    if kind == "trend_break":
        return np.where(week >= at_week, (1 + size) ** (week - at_week + 1.0), 1.0)
    return np.where(week >= 2, size, 1.0)  # collapse


def make_scenario(
    base_weekly: Sequence[float],
    kind: str,
    *,
    size: float,
    at_week: int = 1,
    noise_sd: float = 0.0,
    seed: int = 0,
    name: str | None = None,
) -> Scenario:
    """One seeded scenario on ``base_weekly`` (units per week, >= 0)."""
    base = np.asarray(list(base_weekly), dtype=float)
    if not len(base) or not np.isfinite(base).all() or (base < 0).any():
        raise ValueError("base_weekly must be a non-empty sequence of units >= 0")
    if noise_sd < 0:
        raise ValueError(f"noise_sd must be >= 0, got {noise_sd}")
    path = multiplier_path(kind, len(base), size, at_week)
    stream = [seed, len(base), round(noise_sd * 1000)]
    z = np.random.default_rng(stream).standard_normal(len(base))
    actual = np.round(base * path * np.exp(noise_sd * z)).astype(int)
    label = name or f"{kind}({size:g}@{at_week}) noise {noise_sd:g} seed {seed}"
    return Scenario(label, kind, float(size), int(at_week), float(noise_sd), int(seed),
                    [float(v) for v in base], [float(v) for v in path], [int(v) for v in actual])


def scenario_family(
    base_weekly: Sequence[float], seed: int, prefix: str = ""
) -> Iterator[Scenario]:
    """Every FAMILY scenario on one base curve; the noise level cycles with the seed and the
    scenario so that every kind is seen at every noise level across seeds."""
    for index, (kind, size, at_week) in enumerate(FAMILY):
        noise_sd = NOISE_LEVELS[(seed + index) % len(NOISE_LEVELS)]
        label = f"{prefix}{kind}({size:g}@{at_week}) n{noise_sd:g} s{seed}"
        yield make_scenario(base_weekly, kind, size=size, at_week=at_week, noise_sd=noise_sd,
                            seed=seed, name=label)
