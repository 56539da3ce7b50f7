"""Server-rendered SVG charts for the planner pages.

Pure functions: plain data in, SVG markup (a ``str``) out, with every text escaped here. The
``planning_pages`` template tags mark the result safe. Each chart has a ``<title>`` and ``<desc>``
(read by screen readers), a visible title, axes with tick labels and a legend; colour is never the
only signal (variance bands also differ by fill pattern and carry a text label).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH = 800
HEIGHT = 320
MARGIN_LEFT = 64
MARGIN_RIGHT = 16
MARGIN_TOP = 40
MARGIN_BOTTOM = 72  # x tick labels, the x axis title and the legend

FORECAST_COLOUR = "#2f4a8a"
BAND_COLOUR = "#9db4e0"
ACTUAL_COLOUR = "#5b6575"

# Variance bands (SPEC §4): colour, fill pattern id and the words a planner reads.
BANDS = {
    "green": ("#1f7a3f", "On track", "< 10%"),
    "amber": ("#b07000", "Elevated", "10–20%"),
    "red": ("#b3261e", "Re-forecast", "> 20%"),
}


@dataclass(frozen=True)
class _Frame:
    """Plot area geometry: weeks on a band scale along x, units on a linear scale along y."""

    weeks: int
    y_max: float

    @property
    def left(self):
        return MARGIN_LEFT

    @property
    def right(self):
        return WIDTH - MARGIN_RIGHT

    @property
    def top(self):
        return MARGIN_TOP

    @property
    def bottom(self):
        return HEIGHT - MARGIN_BOTTOM

    @property
    def band(self):
        return (self.right - self.left) / max(self.weeks, 1)

    def x(self, index):
        """Centre of the index-th week (0-based)."""
        return self.left + (index + 0.5) * self.band

    def y(self, value):
        span = self.y_max or 1.0
        return self.bottom - (max(value, 0.0) / span) * (self.bottom - self.top)


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (steps of 1, 2, 2.5 or 5 times 10^n)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = math.ceil(maximum / step - 1e-9) * step
    return [round(i * step, 10) for i in range(int(round(top / step)) + 1)]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _units(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k"
    if abs(value) >= 1000 and value % 1000:
        return f"{value / 1000:,.1f}k"
    if abs(value) >= 1000:
        return f"{value / 1000:,.0f}k"
    return f"{value:,.0f}"


def _text(x, y, content, *, anchor="middle", size=12, weight=None, fill="#1d2430", extra="",
          halo=False):
    weight_attr = f' font-weight="{weight}"' if weight else ""
    if halo:  # a white outline keeps labels readable where they cross the forecast line
        weight_attr += ' stroke="#fff" stroke-width="3" paint-order="stroke"'
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}"'
        f'{weight_attr} fill="{fill}"{extra}>{escape(str(content))}</text>'
    )


def _open(title: str, description: str, chart_id: str, height: int = HEIGHT) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="chart" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="system-ui, sans-serif">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        _text(MARGIN_LEFT, 22, title, anchor="start", size=15, weight="600"),
    ]


def _axes(frame: _Frame, ticks: list[float], y_title: str) -> list[str]:
    parts = ['<g class="axis y-axis">']
    for tick in ticks:
        y = frame.y(tick)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.right}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="#e3e7ee" stroke-width="1"/>'
        )
        parts.append(_text(frame.left - 8, y + 4, _units(tick), anchor="end", size=11))
    parts.append(
        _text(16, (frame.top + frame.bottom) / 2, y_title, size=12,
              extra=f' transform="rotate(-90 16 {_num((frame.top + frame.bottom) / 2)})"')
    )
    parts.append("</g>")
    # Label every week while they fit, else every 2nd/4th, always the first and last.
    stride = 1 if frame.band >= 28 else (2 if frame.band >= 14 else 4)
    parts.append('<g class="axis x-axis">')
    parts.append(
        f'<line x1="{frame.left}" x2="{frame.right}" y1="{frame.bottom}" y2="{frame.bottom}" '
        f'stroke="#5b6575" stroke-width="1"/>'
    )
    for index in range(frame.weeks):
        if index % stride and index != frame.weeks - 1:
            continue
        x = frame.x(index)
        parts.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{frame.bottom}" y2="{frame.bottom + 4}" '
            f'stroke="#5b6575"/>'
        )
        parts.append(_text(x, frame.bottom + 17, f"W{index + 1}", size=11))
    parts.append(_text((frame.left + frame.right) / 2, frame.bottom + 34, "Season week", size=12))
    parts.append("</g>")
    return parts


def _legend(items: list[tuple[str, str]], y: float = HEIGHT - 18, x: float = MARGIN_LEFT) -> list[str]:
    """``items``: (swatch markup at origin, label). Laid out left to right under the x axis."""
    parts = ['<g class="legend">']
    for swatch, label in items:
        parts.append(f'<g transform="translate({_num(x)} {y - 10})">{swatch}</g>')
        parts.append(_text(x + 26, y, label, anchor="start", size=12))
        x += 34 + 7.2 * len(label)
    parts.append("</g>")
    return parts


def _line_swatch(colour, dashed=False):
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return f'<line x1="0" x2="20" y1="6" y2="6" stroke="{colour}" stroke-width="3"{dash}/>'


def _box_swatch(fill, stroke="none", opacity=1.0):
    return (
        f'<rect width="20" height="12" fill="{fill}" fill-opacity="{_num(opacity)}" '
        f'stroke="{stroke}"/>'
    )


def _path(points: list[tuple[float, float]]) -> str:
    return " ".join(
        f"{'M' if i == 0 else 'L'}{_num(x)},{_num(y)}" for i, (x, y) in enumerate(points)
    )


def forecast_chart(
    weekly: list[dict],
    *,
    title: str = "Weekly forecast with 80% interval",
    actual: list[float | None] | None = None,
    original: list[float] | None = None,
    chart_id: str = "forecast-chart",
) -> str:
    """Weekly forecast line with its 80% interval band, optionally actual units as bars and the
    original forecast as a dashed line (when the baseline has been re-forecast).

    ``weekly`` is ``Forecast.weekly``: ``[{"week", "units", "lower", "upper"}, ...]``;
    ``actual`` holds the actual units per week (None for weeks not yet uploaded).
    """
    if not weekly:
        return _empty_chart(title, "No forecast yet.", chart_id)
    units = [float(w["units"]) for w in weekly]
    lower = [float(w.get("lower", w["units"])) for w in weekly]
    upper = [float(w.get("upper", w["units"])) for w in weekly]
    actual = list(actual or [])
    observed = [a for a in actual if a is not None]
    original = [float(v) for v in original or []]
    ticks = nice_ticks(max(upper + units + observed + original))
    frame = _Frame(weeks=len(weekly), y_max=ticks[-1])
    description = (
        f"{len(weekly)} weeks, {sum(units):,.0f} units forecast in total; weekly forecast from "
        f"{min(units):,.0f} to {max(units):,.0f} units, 80% interval from {min(lower):,.0f} to "
        f"{max(upper):,.0f}."
    )
    if observed:
        description += f" Actual units for {len(observed)} weeks: {sum(observed):,.0f} in total."
    if original:
        description += f" The original forecast was {sum(original):,.0f} units."
    parts = _open(title, description, chart_id)
    parts += _axes(frame, ticks, "Units per week")

    if observed:
        bar = frame.band * 0.55
        parts.append('<g class="actual-bars">')
        for index, value in enumerate(actual[: frame.weeks]):
            if value is None:
                continue
            x, y = frame.x(index) - bar / 2, frame.y(value)
            parts.append(
                f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bar)}" '
                f'height="{_num(frame.bottom - y)}" fill="{ACTUAL_COLOUR}" fill-opacity="0.55">'
                f"<title>Week {index + 1}: actual {value:,.0f} units</title></rect>"
            )
        parts.append("</g>")

    band_points = [(frame.x(i), frame.y(v)) for i, v in enumerate(upper)]
    band_points += [(frame.x(i), frame.y(v)) for i, v in reversed(list(enumerate(lower)))]
    parts.append(
        f'<path class="interval" d="{_path(band_points)} Z" fill="{BAND_COLOUR}" '
        f'fill-opacity="0.45" stroke="none"/>'
    )
    if original:
        before = [(frame.x(i), frame.y(v)) for i, v in enumerate(original[: frame.weeks])]
        parts.append(
            f'<path class="original-line" d="{_path(before)}" fill="none" stroke="{ACTUAL_COLOUR}" '
            f'stroke-width="2" stroke-dasharray="6 4"/>'
        )
    line = [(frame.x(i), frame.y(v)) for i, v in enumerate(units)]
    parts.append(
        f'<path class="forecast-line" d="{_path(line)}" fill="none" stroke="{FORECAST_COLOUR}" '
        f'stroke-width="2.5"/>'
    )
    for index, (x, y) in enumerate(line):
        parts.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" fill="{FORECAST_COLOUR}">'
            f"<title>Week {index + 1}: forecast {units[index]:,.0f} units "
            f"(80% interval {lower[index]:,.0f}–{upper[index]:,.0f})</title></circle>"
        )
    legend = [
        (_line_swatch(FORECAST_COLOUR), "Forecast"),
        (_box_swatch(BAND_COLOUR, opacity=0.45), "80% interval"),
    ]
    if original:
        legend.append((_line_swatch(ACTUAL_COLOUR, dashed=True), "Original forecast"))
    if observed:
        legend.append((_box_swatch(ACTUAL_COLOUR, opacity=0.55), "Actual units"))
    parts += _legend(legend)
    parts.append("</svg>")
    return "".join(parts)


def _patterns(chart_id: str) -> str:
    """Fill patterns (ids prefixed with the chart's) so bands differ by texture, not only colour:
    solid for on track, diagonal stripes for elevated, cross-hatching for re-forecast."""
    green, amber, red = (BANDS[b][0] for b in ("green", "amber", "red"))
    return (
        "<defs>"
        f'<pattern id="{chart_id}-green" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="{green}"/></pattern>'
        f'<pattern id="{chart_id}-amber" width="8" height="8" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="8" height="8" fill="{amber}"/>'
        f'<rect width="3" height="8" fill="#fff" fill-opacity="0.55"/></pattern>'
        f'<pattern id="{chart_id}-red" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="{red}"/>'
        f'<path d="M0,0 L8,8 M8,0 L0,8" stroke="#fff" stroke-opacity="0.7" stroke-width="1.5"/>'
        "</pattern>"
        f'<pattern id="{chart_id}-none" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="{ACTUAL_COLOUR}" fill-opacity="0.5"/></pattern>'
        "</defs>"
    )


def variance_chart(
    weeks: list[dict],
    *,
    title: str = "Forecast vs actual by week",
    chart_id: str = "variance-chart",
) -> str:
    """Forecast line and actual bars per season week, bars styled by the week's variance band.

    ``weeks``: ``[{"week", "forecast", "actual" (None until uploaded), "band" (green/amber/red or
    None), "signed_variance" (cumulative, signed; None until checked)}, ...]``. Each checked bar
    carries the signed cumulative variance and the band's name as text above it.
    """
    if not weeks:
        return _empty_chart(title, "No weeks to show.", chart_id)
    forecast = [float(w["forecast"]) for w in weeks]
    actual = [w.get("actual") for w in weeks]
    observed = [float(a) for a in actual if a is not None]
    ticks = nice_ticks(max(forecast + observed) * 1.12)  # headroom for the labels over the bars
    frame = _Frame(weeks=len(weeks), y_max=ticks[-1])
    checked = [w for w in weeks if w.get("band")]
    description = (
        f"{len(weeks)} season weeks; forecast {sum(forecast):,.0f} units in total; actuals "
        f"uploaded for {len(observed)} weeks ({sum(observed):,.0f} units)."
    )
    if checked:
        last = checked[-1]
        description += (
            f" Cumulative variance after week {last['week']}: "
            f"{last['signed_variance']:+.1%} ({BANDS[last['band']][1].lower()})."
        )
    parts = _open(title, description, chart_id)
    parts.append(_patterns(chart_id))
    parts += _axes(frame, ticks, "Units per week")

    bar = frame.band * 0.6
    show_words = frame.band >= 56
    parts.append('<g class="actual-bars">')
    for index, week in enumerate(weeks):
        value = week.get("actual")
        if value is None:
            continue
        band = week.get("band")
        colour, word, _ = BANDS.get(band, (ACTUAL_COLOUR, "Not checked", ""))
        pattern = f"{chart_id}-{band or 'none'}"
        x, y = frame.x(index) - bar / 2, frame.y(float(value))
        signed = week.get("signed_variance")
        tip = f"Week {week['week']}: actual {float(value):,.0f}, forecast {forecast[index]:,.0f}"
        if signed is not None:
            tip += f"; cumulative variance {signed:+.1%}, {word.lower()}"
        parts.append(
            f'<rect class="bar band-{escape(band or "none")}" x="{_num(x)}" y="{_num(y)}" '
            f'width="{_num(bar)}" height="{_num(frame.bottom - y)}" fill="url(#{pattern})" '
            f'stroke="{colour}" stroke-width="1.5"><title>{escape(tip)}</title></rect>'
        )
        if signed is not None:
            label_y = y - (18 if show_words else 5)
            parts.append(_text(frame.x(index), label_y, f"{signed:+.0%}", size=11, weight="600",
                               fill=colour, halo=True))
            if show_words:
                parts.append(_text(frame.x(index), y - 5, word.lower(), size=10, fill=colour,
                                   halo=True))
    parts.append("</g>")

    line = [(frame.x(i), frame.y(v)) for i, v in enumerate(forecast)]
    parts.append(
        f'<path class="forecast-line" d="{_path(line)}" fill="none" stroke="{FORECAST_COLOUR}" '
        f'stroke-width="2.5" stroke-dasharray="6 4"/>'
    )
    for index, (x, y) in enumerate(line):
        parts.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="{FORECAST_COLOUR}">'
            f"<title>Week {index + 1}: forecast {forecast[index]:,.0f} units</title></circle>"
        )
    legend = [(_line_swatch(FORECAST_COLOUR, dashed=True), "Forecast")]
    for key in ("green", "amber", "red"):
        colour, word, rule = BANDS[key]
        legend.append((_box_swatch(f"url(#{chart_id}-{key})", colour), f"{word} ({rule})"))
    parts += _legend(legend)
    parts.append("</svg>")
    return "".join(parts)


def _empty_chart(title: str, message: str, chart_id: str) -> str:
    parts = _open(title, message, chart_id)
    parts.append(_text(WIDTH / 2, HEIGHT / 2, message, size=14, fill="#5b6575"))
    parts.append("</svg>")
    return "".join(parts)


# --- Scenario comparison (SPEC §13): the margin distribution of each scenario ----------------------

SCENARIO_LEFT = 190  # the scenario names
SCENARIO_ROW = 46
SCENARIO_TOP = 48
SCENARIO_BOTTOM = 84  # money ticks, the axis title and the legend
BOX_COLOUR = "#c9d5ee"
RECOMMENDED_COLOUR = "#1f7a3f"
QUANTILE_AT = {"p10": 2, "p25": 5, "p50": 10, "p75": 15, "p90": 18}  # indexes of the 0, 5, ..., 100% list


def money_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round ticks covering ``low``..``high`` (steps of 1, 2, 2.5 or 5 times 10^n), negatives allowed."""
    if not high > low:
        low, high = low - 1.0, high + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _money(value: float) -> str:
    """Money for an axis: 412345 -> "412k", 1250000 -> "1.25M", -3000 -> "−3k"."""
    size = abs(value)
    if size >= 1_000_000:
        text = f"{size / 1_000_000:,.2f}".rstrip("0").rstrip(".") + "M"
    elif size >= 1000:
        text = f"{size / 1000:,.1f}".rstrip("0").rstrip(".") + "k"
    else:
        text = f"{size:,.0f}"
    return ("−" if value < 0 else "") + text


def _short(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def margin_distribution_chart(comparison: dict, *, title: str = "Gross margin per scenario",
                              chart_id: str = "margin-chart") -> str:
    """One box and whiskers per scenario on one money axis: the 80% range (P10-P90) as whiskers,
    the middle half (P25-P75) as the box, the median as a bar and the mean (the expected margin) as
    a diamond. The recommended scenario's box is hatched and its name carries "recommended".

    ``comparison`` is ``planning.selectors.scenarios.comparison_dict``: ``scenarios`` (each with
    ``name, rank, expected_gross_margin, margin_quantiles``), ``recommended`` and ``paths``."""
    rows = [s for s in comparison.get("scenarios") or [] if len(s.get("margin_quantiles") or []) == 21]
    if not rows:
        return _empty_chart(title, "No scenarios compared yet.", chart_id)
    recommended = comparison.get("recommended")
    height = SCENARIO_TOP + SCENARIO_ROW * len(rows) + SCENARIO_BOTTOM
    left, right, top, bottom = SCENARIO_LEFT, WIDTH - 24, SCENARIO_TOP, SCENARIO_TOP + SCENARIO_ROW * len(rows)
    spots = [s["margin_quantiles"][QUANTILE_AT[q]] for s in rows for q in ("p10", "p90")]
    spots += [s["expected_gross_margin"] for s in rows]
    ticks = money_ticks(min(spots), max(spots))
    low, high = ticks[0], ticks[-1]

    def x(value):
        return left + (float(value) - low) / (high - low) * (right - left)

    best = next((s for s in rows if s["name"] == recommended), None)
    description = (f"{len(rows)} scenarios over {comparison.get('paths', 0):,} simulated seasons: each one's "
                   "gross margin, 80% range (P10 to P90), middle half and median, the mean marked.")
    if best:
        description += f" Recommended: {best['name']} (highest expected margin, {best['expected_gross_margin']:,.0f})."
    for s in rows:
        q = s["margin_quantiles"]
        description += (f" {s['name']}: expected {s['expected_gross_margin']:,.0f}, median {q[10]:,.0f}, "
                        f"80% range {q[2]:,.0f} to {q[18]:,.0f}.")
    parts = _open(title, description, chart_id, height=height)
    parts.append(
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#d4ecdc"/>'
        f'<rect width="2" height="6" fill="{RECOMMENDED_COLOUR}" fill-opacity="0.6"/></pattern></defs>'
    )
    parts.append('<g class="axis x-axis">')
    for tick in ticks:  # zero (break-even) dashed and darker
        grid = 'stroke="#8a93a3" stroke-dasharray="4 3"' if tick == 0 else 'stroke="#e3e7ee"'
        parts.append(f'<line x1="{_num(x(tick))}" x2="{_num(x(tick))}" y1="{top}" y2="{bottom}" {grid}/>')
        parts.append(_text(x(tick), bottom + 16, _money(tick), size=11))
    parts.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#5b6575"/>')
    parts.append(_text((left + right) / 2, bottom + 34, "Gross margin over the season (money)", size=12))
    parts.append("</g>")
    for index, s in enumerate(rows):
        parts += _scenario_row(s, s["name"] == recommended, top + (index + 0.5) * SCENARIO_ROW, x, chart_id)
    whisker = ('<line x1="0" x2="20" y1="6" y2="6" stroke="#1d2430" stroke-width="1.5"/>'
               '<line x1="0" x2="0" y1="1" y2="11" stroke="#1d2430"/><line x1="20" x2="20" y1="1" y2="11" '
               'stroke="#1d2430"/>')
    median = '<line x1="10" x2="10" y1="0" y2="12" stroke="#1d2430" stroke-width="3"/>'
    parts += _legend([
        (whisker, "80% range (P10–P90)"),
        (_box_swatch(BOX_COLOUR, "#2f4a8a"), "Middle half"),
        (median, "Median"),
        (_diamond(10, 6, "#2f4a8a"), "Mean (expected)"),
        (_box_swatch(f"url(#{chart_id}-hatch)", RECOMMENDED_COLOUR), "Recommended"),
    ], y=height - 14, x=24)
    parts.append("</svg>")
    return "".join(parts)


def _diamond(cx, cy, fill, size=6):
    return (f'<path d="M{_num(cx)},{_num(cy - size)} L{_num(cx + size)},{_num(cy)} L{_num(cx)},{_num(cy + size)} '
            f'L{_num(cx - size)},{_num(cy)} Z" fill="{fill}" stroke="#fff" stroke-width="1.5"/>')


def _scenario_row(s, is_recommended, cy, x, chart_id) -> list[str]:
    q = s["margin_quantiles"]
    p10, p25, p50, p75, p90 = (q[QUANTILE_AT[k]] for k in ("p10", "p25", "p50", "p75", "p90"))
    mean = s["expected_gross_margin"]
    ink = RECOMMENDED_COLOUR if is_recommended else "#2f4a8a"
    tip = (f"{s['name']}{' (recommended)' if is_recommended else ''}: expected margin {mean:,.0f}; "
           f"median {p50:,.0f}; middle half {p25:,.0f} to {p75:,.0f}; 80% range {p10:,.0f} to {p90:,.0f}")
    fill = f"url(#{chart_id}-hatch)" if is_recommended else BOX_COLOUR
    rank = f"rank {s.get('rank', '—')}" + (" · recommended ★" if is_recommended else "")
    box_x, box_w = x(p25), max(x(p75) - x(p25), 1.5)
    return [
        f'<g class="scenario{" recommended" if is_recommended else ""}" data-scenario="{escape(s["name"])}">',
        f"<title>{escape(tip)}</title>",
        _text(SCENARIO_LEFT - 12, cy - 2, _short(s["name"]), anchor="end", size=13,
              weight="600" if is_recommended else None),
        _text(SCENARIO_LEFT - 12, cy + 13, rank, anchor="end", size=11,
              fill=RECOMMENDED_COLOUR if is_recommended else "#5b6575"),
        f'<line x1="{_num(x(p10))}" x2="{_num(x(p90))}" y1="{_num(cy)}" y2="{_num(cy)}" stroke="#1d2430" '
        f'stroke-width="1.5"/>',
        *(f'<line x1="{_num(x(v))}" x2="{_num(x(v))}" y1="{_num(cy - 7)}" y2="{_num(cy + 7)}" stroke="#1d2430"/>'
          for v in (p10, p90)),
        f'<rect class="scenario-box" x="{_num(box_x)}" y="{_num(cy - 11)}" width="{_num(box_w)}" height="22" '
        f'fill="{fill}" stroke="{ink}" stroke-width="{2 if is_recommended else 1.2}"/>',
        f'<line class="median" x1="{_num(x(p50))}" x2="{_num(x(p50))}" y1="{_num(cy - 11)}" y2="{_num(cy + 11)}" '
        f'stroke="#1d2430" stroke-width="3"/>',
        _diamond(x(mean), cy, ink),
        "</g>",
    ]
