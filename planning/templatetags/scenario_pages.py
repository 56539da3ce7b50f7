"""Template helpers of the scenario comparison partial: its data when an approval panel includes it
(the view passes its own), and the margin distribution chart (marked safe here: ``planning.charts``
escapes every text it writes)."""
from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from planning import charts
from planning.views import scenario_data

register = template.Library()


@register.simple_tag(takes_context=True)
def scenario_panel(context):
    """The partial's ``sc`` for the season in the context (planning.views.scenario_data)."""
    return scenario_data.panel_context(context["season"], can_plan=bool(context.get("can_plan")))["sc"]


@register.simple_tag
def margin_distribution_chart(comparison, chart_id="margin-chart"):
    return mark_safe(charts.margin_distribution_chart(comparison, chart_id=chart_id))


@register.filter
def attrs_of(cell):
    """An input's extra attributes (``{"min": 0, "step": 1}``) as ``min="0" step="1"``."""
    return format_html_join(" ", '{}="{}"', cell["attrs"].items())
