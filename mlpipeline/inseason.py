"""In-season re-forecast of the remaining weeks: a Bayesian state-space model of the season's
level against the pre-season plan (issue #14).

The plan gives the season's weekly SHAPE; the weeks sold teach its LEVEL. Write the
multiplicative level factor of week w as ``L_w = exp(x_w)`` (L = 1: the plan is right) and the
evidence of a week as ``y_w = log((actual_w + 0.5) / (plan_w + 0.5))``. The model::

    prior        x_1 ~ (1 - p0) N(0, s0^2) + p0 N(0, B^2)
    level moves  x_w = x_{w-1} + b_w + d_w,  d_w ~ (1 - pj) N(0, (k s)^2) + pj N(0, B^2)
    trend        b_w = b_{w-1}, or with probability ps redrawn from (1 - pt) [b = 0] + pt N(0, sb^2)
    observation  y_w = x_w + e_w,  e_w ~ (1 - po) N(0, s^2 + v_w)
                                         + po [(1 - h) t_3(0, so^2 + v_w) + h N(0, B^2)]

Where each variance comes from:

- ``s0``, the prior sd of log L: the plan's own uncertainty, the median over the weeks of the log
  half-width of its 80% interval / 1.2816, or ``plan_sigma`` (e.g. the backtest error of season
  totals) if larger. ``p0 = 0.1`` (PLAN_BROKEN_PROB): the plan is wrong beyond its interval;
  ``B = 1.0`` (BROAD_SIGMA, a factor 0.28..3.6 at 80%) is the size of such a miss.
- ``s``, the weekly noise sd: from the category history's week-to-week residuals
  (``history_noise``: robust scale of ``log y_t - (log y_{t-1} + log y_{t+1}) / 2``, which
  cancels a level, a trend and a smooth seasonality), without history the plan interval's. The
  season can be noisier than its history (the plan's shape is not exact), so ``s`` is itself
  unknown: it takes the values ``s_hist x 2^(j/2)``, j = -2..4, prior weights N(j/2; 0, 1), and
  the joint posterior of (s, b, x) is computed.
- ``v_w = 1 / (plan_w L + 0.5)``: Poisson noise of counting plan_w L units (small series).
- ``po``, ``so``: the share and RMS size of the history's outlier weeks (promotions, holidays;
  ``history_noise``), Student-t with 3 degrees of freedom. ``h = 0.5`` (OUTLIER_BROAD_SHARE) of
  outliers are as broad as a level jump: then a single surprising week is an outlier with odds
  ``h po : pj`` (about 3 : 1) whatever its size, so one week never rewrites the level, while
  two weeks that agree make a jump far likelier than two outliers (a shift or a collapse
  converges in 2-3 weeks). This broad part is a robustness device of the update, not a belief
  about future weeks: the forecast intervals use the history's outliers only.
- ``k s`` (k = DRIFT_RATIO = 0.3): the small level drift of a local-level model (a steady-state
  Kalman gain of about 0.25: the level is the last ~7 weeks', not a season average);
  ``pj = 0.02`` (JUMP_PROB) a week: a level shift.
- ``b``: a trend of the level, absent a priori with probability 0.9 (TREND_PROB 0.1), slope sd
  ``sb = 0.1`` a week (SLOPE_SIGMA); a trend starts or ends with probability ``ps = 0.03`` a
  week. A steady fade (-20% a week) is followed instead of lagged. TREND_DAMPING (phi, 1 = off)
  would make slopes fade by phi a week: on the synthetic and rolling backtests 0.85..1 scored
  the same; below 1 it chases a false trend less (peer high_demand 0.19 -> 0.11 at 0.9) and
  follows a real fade worse (severe_underperform 0.56 -> 0.92, its interval coverage 64% -> 0%).

Mixtures (outlier or shift? trend or not?) make the posterior non-Gaussian, so instead of the
Kalman recursions the same filter is computed exactly on a grid (log level step 0.01, slope step
0.02, the seven noise levels): predict = shift by the slope and convolve with the level-move
density, update = multiply by the observation density, normalise.

Outputs, after N weeks:

- the point: ``remaining_w = shape_w x exp(x* + median change of the level until week w)``,
  where ``x*`` is the level now that minimises the expected RELATIVE error E|l - L| / L (the
  posterior median of L reweighted by 1 / L; with a narrow posterior it is the median less
  ~sd^2, a fraction of a percent). The relative error is what the issue scores, and the
  reweighting matters when one surprising week splits the posterior in two: a fall to a quarter
  of plan is followed from its first week (being 4x too high costs 300%, too low at most 100%),
  a doubling waits for a second week. With no actuals the point is the plan.
  ``remaining_total_median`` is the same from the plain posterior median.
- ``level``: the level now that minimises the expected relative error (the posterior of L
  reweighted by 1 / L, its median), its posterior mean, sd and quantiles (80% interval ``level_lower`` /
  ``level_upper``), the posterior trend (``trend_per_week``, ``trend_prob``) and noise sd.
- 80% intervals of each remaining week and of the remaining total from the posterior
  predictive: 4,000 draws of (s, b, x_N) from the posterior, the level carried forward with its
  drift, jumps and trend switches, each week with its noise (seeded: the function is
  deterministic). They widen with the noise and with the weeks still to come, narrow as weeks
  are observed.

The weekly shape is the plan's (``plan_weekly[N:]``); with ``refit_remaining`` it is blended
with the refit's SHAPE (the refit rescaled to the plan's remaining total), never its level.
``inseason_path`` returns the re-forecast after every N in one pass (for backtests);
``level_trigger`` is a re-forecast trigger on the posterior.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
from scipy.signal import fftconvolve

INTERVAL_WIDTH = 0.8
LEVEL_PROBS = (0.005, 0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975, 0.995)
TRIGGER_WIDTH = 0.99
TRIGGER_MATERIALITY = 0.10
Z80 = NormalDist().inv_cdf(0.5 + INTERVAL_WIDTH / 2)  # 1.2816
PLAN_BROKEN_PROB = 0.1  # p0
BROAD_SIGMA = 1.0  # B, log scale, of the broken-plan prior and of a level jump
JUMP_PROB = 0.02  # pj, per week
DRIFT_RATIO = 0.3  # k: level drift sd a week / weekly noise sd
OUTLIER_DOF = 3
OUTLIER_BROAD_SHARE = 0.5  # of outlier weeks, the share as broad as a level jump (N(0, B^2))
DEFAULT_OUTLIER_PROB = 0.1
OUTLIER_PROB_LIMITS = (0.03, 0.25)
DEFAULT_OUTLIER_RATIO = 5.0  # outlier scale / weekly noise when the history shows no outliers
DEFAULT_NOISE_SIGMA = 0.1  # weekly noise when neither history nor a plan interval is given
MIN_SIGMA = 0.005  # numerical floor of every scale
NOISE_STEPS = np.arange(-2, 5)  # s = s_hist x 2^(j/2)
NOISE_PRIOR_SD = 1.0  # of j/2, i.e. the history's noise is right within a factor 2 at 1 sd
TREND_PROB = 0.1  # pt: prior probability of a trend (and of a redrawn slope being one)
SLOPE_SIGMA = 0.1  # sd of a trend's slope, log per week
SLOPE_STEP = 0.02
SLOPE_CELLS = 25  # slopes -0.5..0.5 a week
SLOPE_SWITCH_PROB = 0.03  # ps: a week's chance that the slope is redrawn (a trend starts or ends)
TREND_DAMPING = 1.0  # phi < 1: a slope fades by this factor a week (damped trend); see the doc
GRID_STEP = 0.01
GRID_MARGIN = 2.5
SAMPLES = 4000
SEED = 20250217
COUNT_OFFSET = 0.5  # log((actual + 0.5) / (plan + 0.5)): a week with no sales stays finite


@dataclass(frozen=True)
class HistoryNoise:
    """Week-to-week noise of a weekly series, on the log scale."""

    sigma: float  # robust sd of a normal week
    outlier_prob: float  # share of weeks beyond 3 robust sd
    outlier_sigma: float  # RMS size of those weeks
    weeks: int


@dataclass(frozen=True)
class InSeasonForecast:
    """Re-forecast of weeks N+1..H after N weeks of actuals. Totals are units."""

    weeks_observed: int
    horizon_weeks: int
    level: float  # the point level: minimises E|l - L| / L under the posterior (module doc)
    level_lower: float  # 80% interval of L
    level_upper: float
    level_mean: float  # posterior mean of L
    level_sd: float
    level_quantiles: dict[float, float]  # probability -> quantile of L, LEVEL_PROBS
    trend_per_week: float  # posterior mean slope, as a weekly rate (-0.1: -10% a week)
    trend_prob: float  # posterior probability that the level is trending
    run_rate_ratio: float  # sum actual / sum plan to date (the ratio rule), for comparison
    plan_to_date: float
    actual_to_date: float
    plan_remaining_total: float
    remaining_weekly: list[float]
    remaining_lower: list[float]  # 80% interval of each remaining week
    remaining_upper: list[float]
    remaining_total: float  # the point: minimises the expected relative error (see module doc)
    remaining_total_median: float  # the same with each week's median level
    remaining_total_lower: float  # 80% interval of the remaining total
    remaining_total_upper: float
    updated_total: float  # actual to date + remaining total
    baseline_weekly: list[float]  # actuals to date, then the remaining weeks
    noise_sigma: float  # posterior mean of the weekly noise sd s
    prior_sigma: float  # s0
    outlier_prob: float  # po
    method: str = "bayesian_level"
    notes: list[str] = field(default_factory=list)


def history_noise(weekly_units: Sequence[float]) -> HistoryNoise:
    """Weekly noise of a history (weekly units, oldest first, at least 8 weeks).

    Residual r_t = log y_t - (log y_{t-1} + log y_{t+1}) / 2 cancels a level, a trend and a
    seasonality that is smooth over three weeks; for independent noise of sd s, Var r = 1.5 s^2.
    s = 1.4826 MAD(r) / sqrt(1.5); weeks with |r| > 3 sqrt(1.5) s are outliers (promotions,
    holidays): their share (within 3%..25%) and RMS size give the outlier model."""
    values = _finite_non_negative("history week", weekly_units)
    if len(values) < 8:
        raise ValueError(f"history_noise needs at least 8 weeks, got {len(values)}")
    logs = np.log(values + COUNT_OFFSET)
    resid = logs[1:-1] - (logs[:-2] + logs[2:]) / 2
    scale = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    sigma = max(scale / math.sqrt(1.5), MIN_SIGMA)
    outlying = np.abs(resid) > 3 * math.sqrt(1.5) * sigma
    if outlying.any():
        size = math.sqrt(float(np.mean(resid[outlying] ** 2)) / 1.5)
    else:
        size = DEFAULT_OUTLIER_RATIO * sigma
    prob = float(np.clip(outlying.mean(), *OUTLIER_PROB_LIMITS))
    return HistoryNoise(sigma, prob, max(size, 3 * sigma), len(values))


def inseason_reforecast(
    plan_weekly: Sequence[float],
    actual_weekly_to_date: Sequence[float],
    *,
    plan_lower: Sequence[float] | None = None,
    plan_upper: Sequence[float] | None = None,
    plan_sigma: float | None = None,
    noise: HistoryNoise | None = None,
    refit_remaining: Sequence[float] | None = None,
    refit_shape_weight: float = 0.5,
) -> InSeasonForecast:
    """Re-forecast weeks N+1..H of a season from the ORIGINAL pre-season plan (weeks 1..H) and
    the actuals of weeks 1..N (0 <= N <= H); see the module docstring for the model.

    ``plan_lower`` / ``plan_upper``: the plan's 80% weekly bounds (both or neither), the source
    of the prior sd of the level; ``plan_sigma``: a prior sd of log L from elsewhere (e.g. the
    backtest error of season totals), the larger is used. ``noise``: ``history_noise`` of the
    category's weekly history (default: the plan interval's weekly sd, else 0.1).
    ``refit_remaining``: a model refit for weeks N+1..H whose shape (not level) is blended in
    with ``refit_shape_weight``. Invalid input raises ValueError."""
    return inseason_path(
        plan_weekly, actual_weekly_to_date, plan_lower=plan_lower, plan_upper=plan_upper,
        plan_sigma=plan_sigma, noise=noise, refit_remaining=refit_remaining,
        refit_shape_weight=refit_shape_weight, weeks=[len(list(actual_weekly_to_date))],
    )[-1]


def inseason_path(
    plan_weekly: Sequence[float],
    actual_weekly_to_date: Sequence[float],
    *,
    plan_lower: Sequence[float] | None = None,
    plan_upper: Sequence[float] | None = None,
    plan_sigma: float | None = None,
    noise: HistoryNoise | None = None,
    refit_remaining: Sequence[float] | None = None,
    refit_shape_weight: float = 0.5,
    weeks: Sequence[int] | None = None,
) -> list[InSeasonForecast]:
    """The re-forecast after each N in ``weeks`` (default 0..len(actuals)) in one pass of the
    filter: element i equals ``inseason_reforecast(plan, actuals[:weeks[i]], ...)``. For
    backtests; ``refit_remaining`` (weeks after the last N) needs a single N."""
    plan = _finite_non_negative("plan week", plan_weekly)
    actual = _finite_non_negative("actual week", actual_weekly_to_date)
    horizon, observed = len(plan), len(actual)
    if horizon == 0:
        raise ValueError("the plan has no weeks")
    if observed > horizon:
        raise ValueError(f"{observed} weeks of actuals for a {horizon}-week plan")
    if plan.sum() <= 0:
        raise ValueError("the plan sells nothing; there is no level to scale")
    wanted = sorted(set(range(observed + 1) if weeks is None else (int(n) for n in weeks)))
    if not wanted or wanted[0] < 0 or wanted[-1] > observed:
        raise ValueError(f"weeks must lie within 0..{observed}, got {weeks}")
    if refit_remaining is not None and wanted != [observed]:
        raise ValueError("refit_remaining applies to the last week only")
    if not 0.0 <= refit_shape_weight <= 1.0:
        raise ValueError(f"refit_shape_weight must be within 0..1, got {refit_shape_weight}")
    notes: list[str] = []
    interval_sigma = _plan_interval_sigma(plan, plan_lower, plan_upper)
    if plan_sigma is not None and not (math.isfinite(plan_sigma) and plan_sigma >= 0):
        raise ValueError(f"plan_sigma must be a non-negative number, got {plan_sigma!r}")
    candidates = [v for v in (interval_sigma, plan_sigma) if v is not None]
    if noise is None:
        base = max(interval_sigma or DEFAULT_NOISE_SIGMA, MIN_SIGMA)
        noise = HistoryNoise(base, DEFAULT_OUTLIER_PROB, DEFAULT_OUTLIER_RATIO * base, 0)
        notes.append("no history noise given: weekly noise from the "
                     + ("plan interval" if interval_sigma else f"default {DEFAULT_NOISE_SIGMA}"))
    elif not (noise.sigma > 0 and noise.outlier_sigma > 0 and 0 <= noise.outlier_prob < 1):
        raise ValueError(f"invalid noise {noise}")
    if not candidates:
        notes.append("no plan interval or plan_sigma: prior sd of the level = the weekly noise")
    prior_sigma = max(max(candidates) if candidates else noise.sigma, MIN_SIGMA)

    logs = np.log((actual + COUNT_OFFSET) / (plan[:observed] + COUNT_OFFSET))
    model = _Model.build(logs[plan[:observed] > 0], noise, horizon)
    posteriors = model.filter(logs, plan[:observed], prior_sigma, wanted)
    results = []
    for n in wanted:
        shape = _remaining_shape(plan[n:], refit_remaining, refit_shape_weight)
        results.append(_summarise(model, posteriors[n], shape, plan, actual[:n], prior_sigma, notes))
    return results


def _summarise(
    model: _Model,
    post: np.ndarray,
    shape: np.ndarray,
    plan: np.ndarray,
    actual: np.ndarray,
    prior_sigma: float,
    notes: list[str],
) -> InSeasonForecast:
    observed = len(actual)
    grid = model.grid
    marginal = post.sum(axis=(0, 1))
    level_values = np.exp(grid)
    mean = float(marginal @ level_values)
    level_sd = math.sqrt(max(float(marginal @ level_values**2) - mean**2, 0.0))
    quantiles = dict(zip(LEVEL_PROBS, (math.exp(v) for v in _grid_quantiles(grid, marginal, LEVEL_PROBS))))
    # no evidence yet: the point is the plan itself (the prior's centre), not a re-estimate
    point = _relative_error_point(grid, marginal) if observed else 0.0
    level = math.exp(point)
    tail = round((1 - INTERVAL_WIDTH) / 2, 3)
    weekly, median, low_w, high_w, low_t, high_t = model.predict(post, shape, observed > 0, point)
    total = float(weekly.sum())
    actual_to_date = float(actual.sum())
    plan_to_date = float(plan[:observed].sum())
    slope = float(post.sum(axis=(0, 2)) @ model.slopes)
    return InSeasonForecast(
        weeks_observed=observed,
        horizon_weeks=len(plan),
        level=level,
        level_lower=min(quantiles[tail], level),
        level_upper=max(quantiles[round(1 - tail, 3)], level),
        level_mean=mean,
        level_sd=level_sd,
        level_quantiles=quantiles,
        trend_per_week=math.expm1(slope),
        trend_prob=float(post.sum(axis=(0, 2))[model.slopes != 0].sum()),
        run_rate_ratio=actual_to_date / plan_to_date if plan_to_date > 0 else 1.0,
        plan_to_date=plan_to_date,
        actual_to_date=actual_to_date,
        plan_remaining_total=float(plan[observed:].sum()),
        remaining_weekly=[float(v) for v in weekly],
        remaining_lower=[float(v) for v in np.minimum(low_w, weekly)],
        remaining_upper=[float(v) for v in np.maximum(high_w, weekly)],
        remaining_total=total,
        remaining_total_median=float(median.sum()),
        remaining_total_lower=min(low_t, total),
        remaining_total_upper=max(high_t, total),
        updated_total=actual_to_date + total,
        baseline_weekly=[float(v) for v in actual] + [float(v) for v in weekly],
        noise_sigma=float(post.sum(axis=(1, 2)) @ model.sigmas),
        prior_sigma=prior_sigma,
        outlier_prob=model.noise.outlier_prob,
        notes=list(notes),
    )


def level_trigger(
    forecast: InSeasonForecast,
    baseline_remaining: Sequence[float],
    width: float = TRIGGER_WIDTH,
    materiality: float = TRIGGER_MATERIALITY,
) -> bool:
    """Posterior re-forecast rule: True when the level the current baseline implies for the
    remaining weeks (its remaining total / the plan's remaining total) lies outside the
    posterior ``width`` interval of the level (0.8, 0.9, 0.95 or 0.99) AND differs from the
    posterior median by more than ``materiality``. False with nothing left to forecast.

    Why 95% and not 80%: a baseline at the true level lies outside the 80% interval one week in
    five by chance, i.e. two needless re-forecasts a season; after a one-week spike the posterior
    is split between "outlier" and "shift" and its 95% interval holds both, so the spike alone
    does not trigger, while a second week that confirms a shift does."""
    tail = round((1 - width) / 2, 3)
    high = round(1 - tail, 3)
    if tail not in forecast.level_quantiles or high not in forecast.level_quantiles:
        raise ValueError(f"width must be one of 0.8, 0.9, 0.95, 0.99, got {width}")
    planned = forecast.plan_remaining_total
    if planned <= 0:
        return False
    implied = float(sum(_finite_non_negative("baseline week", baseline_remaining))) / planned
    outside = not forecast.level_quantiles[tail] <= implied <= forecast.level_quantiles[high]
    return outside and abs(implied / forecast.level - 1) > materiality


# --- the filter --------------------------------------------------------------------------------


def _normal_pdf(x: np.ndarray, sd: np.ndarray | float) -> np.ndarray:
    return np.exp(-0.5 * (x / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def _t_pdf(x: np.ndarray, scale: np.ndarray | float, dof: int = OUTLIER_DOF) -> np.ndarray:
    norm = math.gamma((dof + 1) / 2) / (math.gamma(dof / 2) * math.sqrt(dof * math.pi))
    return norm / scale * (1 + (x / scale) ** 2 / dof) ** (-(dof + 1) / 2)


def _kernel(sd: float) -> np.ndarray:
    half = max(math.ceil(5 * sd / GRID_STEP), 1)
    offsets = np.arange(-half, half + 1) * GRID_STEP
    weights = np.exp(-0.5 * (offsets / sd) ** 2) if sd > GRID_STEP / 4 else (offsets == 0) * 1.0
    return weights / weights.sum()


def _damping_matrix(slopes: np.ndarray) -> np.ndarray:
    """Row j: where slope j goes in a week (TREND_DAMPING x slope, split linearly between the
    two neighbouring grid slopes)."""
    step = slopes[1] - slopes[0]
    matrix = np.zeros((len(slopes), len(slopes)))
    for j, slope in enumerate(slopes):
        position = (TREND_DAMPING * slope - slopes[0]) / step
        low = min(int(np.floor(position)), len(slopes) - 1)
        frac = position - low
        matrix[j, low] += 1 - frac
        if frac > 1e-12:
            matrix[j, low + 1] += frac
    return matrix


def _move_kernels(sigmas: np.ndarray) -> np.ndarray:
    """The level-move density per noise level on the grid: drift or, with JUMP_PROB, a jump
    (one kernel, so that one FFT convolution does both)."""
    jump = _kernel(BROAD_SIGMA)
    half = len(jump) // 2
    kernels = np.tile(JUMP_PROB * jump, (len(sigmas), 1))
    for row, sigma in zip(kernels, sigmas):
        drift = _kernel(DRIFT_RATIO * sigma)
        width = min(len(drift) // 2, half)
        row[half - width:half + width + 1] += (1 - JUMP_PROB) * drift[len(drift) // 2 - width:
                                                                      len(drift) // 2 + width + 1]
    return kernels / kernels.sum(axis=1, keepdims=True)


def _relative_error_point(log_levels: np.ndarray, weights: np.ndarray) -> float:
    """log of the level that minimises the expected relative error E|l - L| / L: the median of
    the posterior of L reweighted by 1 / L (grid points ``log_levels`` with ``weights``)."""
    order = np.argsort(log_levels, kind="stable")
    x = log_levels[order]
    tilted = np.asarray(weights, float)[order] * np.exp(-(x - x.max()))
    cum = np.cumsum(tilted)
    return float(x[np.searchsorted(cum, 0.5 * cum[-1])])


def _grid_quantiles(grid: np.ndarray, weights: np.ndarray, probs: Sequence[float]) -> list[float]:
    cum = np.cumsum(weights)
    cum = cum / cum[-1]
    return [float(np.interp(p, cum, grid)) for p in probs]


@dataclass
class _Model:
    """The grid and the densities of one call: axes (noise level k, slope j, log level x)."""

    grid: np.ndarray
    sigmas: np.ndarray
    noise_prior: np.ndarray
    slopes: np.ndarray
    slope_prior: np.ndarray
    shifts: np.ndarray
    damping: np.ndarray  # row j: where slope j goes after a week of damping
    moves: np.ndarray  # per noise level: (1 - pj) drift kernel + pj jump kernel
    outlier_scale: np.ndarray
    noise: HistoryNoise

    @classmethod
    def build(cls, logs: np.ndarray, noise: HistoryNoise, horizon: int) -> _Model:
        halves = NOISE_STEPS / 2
        sigmas = np.maximum(noise.sigma * 2.0**halves, MIN_SIGMA)
        noise_prior = np.exp(-0.5 * (halves / NOISE_PRIOR_SD) ** 2)
        steps = np.arange(-SLOPE_CELLS, SLOPE_CELLS + 1)
        slopes = steps * SLOPE_STEP
        spread = _normal_pdf(slopes, SLOPE_SIGMA) * (slopes != 0)
        slope_prior = TREND_PROB * spread / spread.sum() + (1 - TREND_PROB) * (slopes == 0)
        reach = SLOPE_CELLS * SLOPE_STEP * horizon / 2
        low = min(-GRID_MARGIN * BROAD_SIGMA, float(logs.min()) - GRID_MARGIN if len(logs) else 0.0)
        high = max(GRID_MARGIN * BROAD_SIGMA, float(logs.max()) + GRID_MARGIN if len(logs) else 0.0)
        grid = np.arange(low - reach, high + reach + GRID_STEP / 2, GRID_STEP)
        return cls(
            grid=grid, sigmas=sigmas, noise_prior=noise_prior / noise_prior.sum(),
            slopes=slopes, slope_prior=slope_prior,
            shifts=np.round(slopes / GRID_STEP).astype(int), damping=_damping_matrix(slopes),
            moves=_move_kernels(sigmas),
            outlier_scale=noise.outlier_sigma * sigmas / noise.sigma, noise=noise,
        )

    def filter(
        self, logs: np.ndarray, plan_seen: np.ndarray, prior_sigma: float, wanted: Sequence[int]
    ) -> dict[int, np.ndarray]:
        """Joint posterior after N weeks for each N in ``wanted`` (normalised to 1). The level
        moves once a week; a week the plan sold nothing in carries no evidence."""
        grid = self.grid
        prior = ((1 - PLAN_BROKEN_PROB) * _normal_pdf(grid, prior_sigma)
                 + PLAN_BROKEN_PROB * _normal_pdf(grid, BROAD_SIGMA))
        post = (self.noise_prior[:, None, None] * self.slope_prior[None, :, None]
                * (prior / prior.sum())[None, None, :])
        snapshots = {0: post} if 0 in wanted else {}
        po = self.noise.outlier_prob
        for week in range(1, max(wanted) + 1):
            if week > 1:
                post = self.move(post)
            obs, planned = logs[week - 1], plan_seen[week - 1]
            if planned > 0:
                poisson = 1.0 / (planned * np.exp(grid) + COUNT_OFFSET)
                resid = obs - grid
                core = _normal_pdf(resid[None, :], np.sqrt(self.sigmas[:, None] ** 2 + poisson))
                wild = ((1 - OUTLIER_BROAD_SHARE)
                        * _t_pdf(resid[None, :], np.sqrt(self.outlier_scale[:, None] ** 2 + poisson))
                        + OUTLIER_BROAD_SHARE * _normal_pdf(resid, BROAD_SIGMA)[None, :])
                post = post * ((1 - po) * core + po * wild)[:, None, :]
                total = post.sum()
                if not total > 0:  # cannot happen with a grid that covers every observation
                    raise ValueError("the level posterior underflowed")
                post = post / total
            if week in wanted:
                snapshots[week] = post
        return snapshots

    def move(self, post: np.ndarray) -> np.ndarray:
        """One week: the slope may be redrawn, the level moves by the slope, then drifts or,
        with JUMP_PROB, jumps."""
        mass = post.sum()
        if TREND_DAMPING != 1.0:
            post = np.einsum("ji,kjg->kig", self.damping, post)
        post = ((1 - SLOPE_SWITCH_PROB) * post
                + SLOPE_SWITCH_PROB * self.slope_prior[None, :, None] * post.sum(axis=1, keepdims=True))
        shifted = np.zeros_like(post)
        for j, cells in enumerate(self.shifts):
            if cells > 0:
                shifted[:, j, cells:] = post[:, j, :-cells]
            elif cells < 0:
                shifted[:, j, :cells] = post[:, j, -cells:]
            else:
                shifted[:, j] = post[:, j]
        moved = np.maximum(fftconvolve(shifted, self.moves[:, None, :], mode="same", axes=2), 0.0)
        return moved * (mass / moved.sum())

    def predict(
        self, post: np.ndarray, shape: np.ndarray, moves_first: bool, point: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
        """Point (shape x exp(``point``, the log level now, + the median change of the level
        until that week)), the same from the median level, and 80% bounds of each remaining week
        and of the remaining total, by seeded simulation of the model forward from the
        posterior. The posterior is the level of the last observed week (of week 1 before any
        evidence), so the first remaining week moves from it unless nothing is observed yet."""
        steps = len(shape)
        if steps == 0:
            empty = np.zeros(0)
            return empty, empty, empty, empty, 0.0, 0.0
        rng = np.random.default_rng(SEED)
        flat = post.ravel()
        cells = rng.choice(flat.size, size=SAMPLES, p=flat / flat.sum())
        k, rest = np.divmod(cells, post.shape[1] * post.shape[2])
        j, position = np.divmod(rest, post.shape[2])
        sd = self.sigmas[k]
        slope = self.slopes[j]
        x = self.grid[position] + rng.uniform(-GRID_STEP / 2, GRID_STEP / 2, SAMPLES)
        start = x.copy()
        outlier_sd = self.outlier_scale[k]
        levels = np.empty((SAMPLES, steps))
        draws = np.empty((SAMPLES, steps))
        for step in range(steps):
            if step > 0 or moves_first:
                redraw = rng.random(SAMPLES) < SLOPE_SWITCH_PROB
                slope = np.where(redraw, rng.choice(self.slopes, SAMPLES, p=self.slope_prior),
                                 TREND_DAMPING * slope)
                jumps = rng.random(SAMPLES) < JUMP_PROB
                x = x + slope + np.where(jumps, BROAD_SIGMA, DRIFT_RATIO * sd) * rng.standard_normal(SAMPLES)
            wild = rng.random(SAMPLES) < self.noise.outlier_prob
            eps = np.where(wild, outlier_sd * rng.standard_t(OUTLIER_DOF, SAMPLES),
                           sd * rng.standard_normal(SAMPLES))
            levels[:, step] = x
            mean = shape[step] * np.exp(np.minimum(x + eps, 50.0))
            draws[:, step] = rng.poisson(mean) if shape[step] < 1e6 else mean
        median = shape * np.exp(np.median(levels, axis=0))
        weekly = shape * np.exp(point + np.median(levels - start[:, None], axis=0))
        totals = draws.sum(axis=1)
        tail = (1 - INTERVAL_WIDTH) / 2
        low_w, high_w = np.quantile(draws, [tail, 1 - tail], axis=0)
        low_t, high_t = np.quantile(totals, [tail, 1 - tail])
        return weekly, median, low_w, high_w, float(low_t), float(high_t)


# --- input checks ------------------------------------------------------------------------------


def _finite_non_negative(what: str, values: Sequence[float]) -> np.ndarray:
    try:
        array = np.asarray(list(values), dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}s must be numbers: {exc}") from exc
    if array.ndim != 1:
        raise ValueError(f"{what}s must be a flat sequence of numbers")
    bad = np.flatnonzero(~np.isfinite(array) | (array < 0))
    if len(bad):
        raise ValueError(f"{what} {bad[0] + 1} is {array[bad[0]]}: units must be finite and >= 0")
    return array


def _plan_interval_sigma(
    plan: np.ndarray, lower: Sequence[float] | None, upper: Sequence[float] | None
) -> float | None:
    """Median over the weeks of the plan interval's log half-width / z80 (None without bounds)."""
    if lower is None and upper is None:
        return None
    if lower is None or upper is None:
        raise ValueError("give both plan_lower and plan_upper, or neither")
    low = _finite_non_negative("plan lower week", lower)
    high = _finite_non_negative("plan upper week", upper)
    if len(low) != len(plan) or len(high) != len(plan):
        raise ValueError(f"plan bounds have {len(low)} and {len(high)} weeks, expected {len(plan)}")
    if (low > plan + 1e-9).any() or (high < plan - 1e-9).any():
        raise ValueError("plan bounds must satisfy lower <= plan <= upper")
    sold = plan > 0
    spread = (np.log(high[sold] + COUNT_OFFSET) - np.log(low[sold] + COUNT_OFFSET)) / (2 * Z80)
    return float(np.median(spread))


def _remaining_shape(
    remaining_plan: np.ndarray, refit: Sequence[float] | None, weight: float
) -> np.ndarray:
    """The plan's remaining weeks, or a blend with the refit's shape at the plan's total."""
    if refit is None:
        return remaining_plan
    model = _finite_non_negative("refit week", refit)
    if len(model) != len(remaining_plan):
        raise ValueError(f"refit has {len(model)} weeks, expected {len(remaining_plan)}")
    if model.sum() <= 0 or remaining_plan.sum() <= 0:
        return remaining_plan
    rescaled = model * remaining_plan.sum() / model.sum()
    return (1 - weight) * remaining_plan + weight * rescaled
