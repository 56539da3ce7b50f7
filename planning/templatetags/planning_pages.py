"""Template helpers for the planner pages: the SVG charts (marked safe here: ``planning.charts``
escapes every text it writes) and number formats a planner reads."""
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

from planning import charts, roles
from planning.models import VarianceCheck

register = template.Library()


@register.simple_tag
def forecast_chart(weekly, actual=None, original=None, title="Weekly forecast with 80% interval",
                   chart_id="forecast-chart"):
    """``original``: the original forecast's weekly rows, drawn dashed under a re-forecast."""
    original_units = [w["units"] for w in original] if original else None
    return mark_safe(charts.forecast_chart(weekly, actual=actual, original=original_units, title=title,
                                           chart_id=chart_id))


@register.simple_tag
def variance_chart(weeks, title="Forecast vs actual by week", chart_id="variance-chart"):
    return mark_safe(charts.variance_chart(weeks, title=title, chart_id=chart_id))


@register.simple_tag
def role_of(user):
    return roles.role_of(user) or ""


@register.filter
def pct(value, digits=0):
    """0.255 -> "26%" (or "25.5%" with ``|pct:1``); empty for None."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def signed_pct(value, digits=1):
    """0.255 -> "+25.5%", -0.1 -> "−10.0%"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:+.{int(digits)}f}%".replace("-", "−")


@register.filter
def units(value):
    """Whole units with thousands separators: 8000.4 -> "8,000"."""
    if value is None or value == "":
        return "—"
    return f"{float(value):,.0f}"


@register.filter
def money(value):
    """An amount with thousands separators and cents below 100: 412345.6 -> "412,346", 21.5 -> "21.50".
    No currency sign: the season's prices carry none."""
    if value is None or value == "":
        return "—"
    value = float(value)
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


@register.filter
def signed_units(value):
    """-7247.4 -> "−7,247", 12 -> "+12"."""
    if value is None or value == "":
        return "—"
    return f"{float(value):+,.0f}".replace("-", "−")


@register.filter
def timestamp(value):
    """A datetime or an ISO-8601 string (as the services' JSON-safe dicts carry) as
    "YYYY-MM-DD HH:MM" in the site's time zone."""
    if not value:
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")


@register.filter
def seconds(value):
    """A duration in seconds for people: 0.42 -> "0.4 s", 75 -> "1 min 15 s"."""
    if value is None or value == "":
        return "—"
    value = float(value)
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s"


@register.filter
def field_label(name):
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


@register.filter
def state_word(state):
    """An agent card's state in words (the card's colour and icon repeat it)."""
    return AGENT_STATES.get(state, state)


@register.filter
def band_label(band):
    """green / amber / red -> On track / Elevated / Re-forecast."""
    return VarianceCheck.Band(band).label if band in VarianceCheck.Band.values else "Not checked"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


FIELD_LABELS = {
    "forecast_horizon_weeks": "Forecast horizon (weeks)",
    "season_start_date": "Season start",
    "season_end_date": "Season end",
    "replenishment_strategy": "Replenishment",
    "dc_holdback_percentage": "DC holdback",
    "markdown_checkpoint_week": "Markdown checkpoint week",
    "markdown_threshold": "Markdown target sell-through",
    "prophet": "Prophet",
    "arima": "ARIMA",
    "seasonal_naive": "Seasonal naive (baseline)",
}

AGENT_STATES = {
    "idle": "Idle",
    "running": "Running",
    "done": "Done",
    "failed": "Failed",
    "waiting": "Waiting for approval",
}
