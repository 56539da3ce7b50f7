"""The scenario comparison's page form (SPEC §13): the what-if rows a planner types at the
manufacturing or the markdown approval, read into the scenarios ``planning.services.scenarios.compare``
takes, and every problem mapped back to the input it belongs to.

The rows are named ``s-<row>-<field>`` (``rows`` says how many); a row left empty is skipped. The
page takes percentages as typed ("25" for 25%, as the manufacturing panel does) and checks their
bounds here so the message speaks in percent; everything else (the buy's range, unique names, the
number of scenarios, paths and seed) is the service's to judge, as it is for the API, and its
422 field names (``scenarios.2.manufacturing_qty``) are mapped back to the row the planner typed.
"""
import math
from dataclasses import dataclass, field

from django import forms

from mlpipeline.allocation import REPLENISHMENT_STRATEGIES
from mlpipeline.limits import BUY_RANGE, MAX_MARKDOWN, SAFETY_STOCK_RANGE
from mlpipeline.simulator import MAX_SCENARIOS
from planning.errors import Invalid
from planning.forms import NUMBER_ERRORS, PercentField, WholeNumberField, percent, within
from planning.selectors.scenarios import MANUFACTURING
from planning.services.scenarios import DEFAULT_PATHS, NAME_MAX, PATHS_RANGE

WHOLE_ERRORS = {"invalid": "enter a whole number"}
GENERAL = "__all__"


class ManufacturingRowForm(forms.Form):
    """One what-if at the manufacturing approval: the buy (units, or a safety stock) and the plan."""

    name = forms.CharField(required=False, max_length=NAME_MAX)
    manufacturing_qty = WholeNumberField(required=False, error_messages=WHOLE_ERRORS)
    safety_stock_pct = PercentField(required=False, error_messages=NUMBER_ERRORS)
    dc_holdback_percentage = PercentField(required=False, error_messages=NUMBER_ERRORS)
    replenishment_strategy = forms.ChoiceField(
        required=False, choices=[("", "Season's")] + [(s, s) for s in REPLENISHMENT_STRATEGIES],
        error_messages={"invalid_choice": "one of " + ", ".join(REPLENISHMENT_STRATEGIES)})
    markdown_pct = PercentField(required=False, error_messages=NUMBER_ERRORS)

    def clean_safety_stock_pct(self):
        return within(self.cleaned_data["safety_stock_pct"], SAFETY_STOCK_RANGE, percent)

    def clean_dc_holdback_percentage(self):
        return within(self.cleaned_data["dc_holdback_percentage"], (0.0, 1.0), percent)

    def clean_markdown_pct(self):
        return within(self.cleaned_data["markdown_pct"], (0.0, MAX_MARKDOWN), percent)


class MarkdownRowForm(forms.Form):
    """One what-if at the markdown approval: the depth for the rest of the season."""

    name = forms.CharField(required=False, max_length=NAME_MAX)
    markdown_pct = PercentField(required=False, error_messages=NUMBER_ERRORS)

    def clean_markdown_pct(self):
        return within(self.cleaned_data["markdown_pct"], (0.0, MAX_MARKDOWN), percent)


class CompareSettingsForm(forms.Form):
    """How many simulated seasons, which seed; "add" asks for one more empty row (no comparison)."""

    action = forms.ChoiceField(required=False, choices=[("compare", "Compare"), ("add", "Add a row")])
    rows = forms.IntegerField(required=False)
    paths = WholeNumberField(required=False, error_messages=WHOLE_ERRORS)
    seed = WholeNumberField(required=False, error_messages=WHOLE_ERRORS)


# The table of inputs: (field, column heading, input type, attributes) per kind.
COLUMNS = {
    MANUFACTURING: [
        ("name", "Name", "text", {"maxlength": NAME_MAX}),
        ("manufacturing_qty", "Buy (units)", "number", {"min": 0, "step": 1}),
        ("safety_stock_pct", "or safety stock (%)", "number",
         {"min": round(SAFETY_STOCK_RANGE[0] * 100), "max": round(SAFETY_STOCK_RANGE[1] * 100), "step": "any"}),
        ("dc_holdback_percentage", "DC holdback (%)", "number", {"min": 0, "max": 100, "step": "any"}),
        ("replenishment_strategy", "Replenishment", "select", {}),
        ("markdown_pct", "Markdown (%)", "number", {"min": 0, "max": round(MAX_MARKDOWN * 100), "step": "any"}),
    ],
    "markdown": [
        ("name", "Name", "text", {"maxlength": NAME_MAX}),
        ("markdown_pct", "Markdown from next week (%)", "number",
         {"min": 0, "max": round(MAX_MARKDOWN * 100), "step": "any"}),
    ],
}


def _percent(fraction):
    return None if fraction is None else f"{fraction * 100:g}"


def buy_range(data: dict) -> tuple[int, int] | None:
    """The explicit buys allowed (0.5x..2x forecast demand) from the approval's data."""
    demand = data.get("forecast_total") or data.get("demand_units")
    return (math.ceil(BUY_RANGE[0] * demand - 1e-9), math.floor(BUY_RANGE[1] * demand + 1e-9)) if demand else None


def manufacturing_rows(data: dict) -> list[dict]:
    """The pre-filled what-ifs from the approval's data: the proposed order, the newsvendor buy (when
    the season has a price) and the proposed order -10% / +10%, within the allowed buys."""
    proposed, safety = data.get("manufacturing_qty"), data.get("safety_stock_pct")
    rows = [{"name": "Proposed", "safety_stock_pct": _percent(safety)}]
    low, high = buy_range(data) or (0, float("inf"))
    newsvendor = data.get("newsvendor_buy_quantity")
    if newsvendor and low <= newsvendor <= high:
        rows.append({"name": "Newsvendor", "manufacturing_qty": int(newsvendor)})
    if proposed:
        for label, factor in (("Proposed −10%", 0.9), ("Proposed +10%", 1.1)):
            qty = round(proposed * factor)
            if low <= qty <= high:
                rows.append({"name": label, "manufacturing_qty": qty})
    return rows


def markdown_rows(recommended: float) -> list[dict]:
    """No markdown, the recommended depth and 5 points either side (within 0..MAX_MARKDOWN)."""
    rows = [{"name": "No markdown", "markdown_pct": "0"}]
    if recommended and recommended > 0:
        rows.append({"name": f"Recommended {recommended:.0%}", "markdown_pct": _percent(recommended)})
    for depth in (recommended - 0.05, recommended + 0.05):
        depth = round(depth, 4)
        if 0 < depth <= MAX_MARKDOWN and all(r["markdown_pct"] != _percent(depth) for r in rows):
            rows.append({"name": f"{depth:.0%}", "markdown_pct": _percent(depth)})
    return rows


@dataclass
class ScenarioRows:
    """The rows and settings shown (as typed, or pre-filled) and the problems found, keyed by the
    input's name (``s-2-manufacturing_qty``, ``paths``; ``__all__`` for the comparison as a whole)."""

    kind: str
    rows: list[forms.Form]
    settings: CompareSettingsForm
    errors: dict = field(default_factory=dict)
    sent: list[int] = field(default_factory=list)  # the row behind each scenario sent

    @classmethod
    def initial(cls, kind, rows: list[dict], paths=DEFAULT_PATHS, seed=0):
        """Pre-filled rows (and one empty row to type a new scenario in)."""
        rows = rows[: MAX_SCENARIOS - 1] + [{}]
        form = _row_form(kind)
        return cls(kind, [form(initial=r, prefix=f"s-{i}") for i, r in enumerate(rows)],
                   CompareSettingsForm(initial={"paths": paths, "seed": seed, "action": "compare"}))

    @classmethod
    def bound(cls, kind, data):
        """The rows as posted (``rows`` of them, 1..MAX_SCENARIOS)."""
        settings = CompareSettingsForm(data)
        try:
            count = int(data.get("rows", 1))
        except (TypeError, ValueError):
            count = 1
        count = min(max(count, 1), MAX_SCENARIOS)
        form = _row_form(kind)
        return cls(kind, [form(data, prefix=f"s-{i}") for i in range(count)], settings)

    @property
    def action(self):
        return self.settings.data.get("action") or "compare"

    def add_row(self):
        """One more empty row, up to MAX_SCENARIOS (what was typed stays)."""
        if len(self.rows) < MAX_SCENARIOS:
            self.rows.append(_row_form(self.kind)(prefix=f"s-{len(self.rows)}"))

    def request(self) -> dict:
        """``{scenarios, paths, seed}`` for ``compare``, or Invalid (422) with every problem of the form."""
        for i, row in enumerate(self.rows):
            if not row.is_valid():
                for name, problems in row.errors.as_data().items():
                    self.errors[f"{row.prefix}-{name}"] = " ".join(problems[0].messages)
        if not self.settings.is_valid():
            for name, problems in self.settings.errors.as_data().items():
                self.errors[name] = " ".join(problems[0].messages)
        if self.errors:
            raise Invalid("Check the highlighted values.",
                          errors=[{"field": k, "message": v} for k, v in self.errors.items()])
        scenarios, self.sent = [], []
        for i, row in enumerate(self.rows):
            values = {k: v for k, v in row.cleaned_data.items() if v not in (None, "")}
            if values:
                scenarios.append(values)
                self.sent.append(i)
        if not scenarios:
            self.errors[GENERAL] = "Fill in at least one scenario."
            raise Invalid("Fill in at least one scenario.", errors=[{"field": "scenarios", "message": "empty"}])
        paths, seed = self.settings.cleaned_data["paths"], self.settings.cleaned_data["seed"]
        return {"scenarios": scenarios, "paths": DEFAULT_PATHS if paths is None else paths,
                "seed": 0 if seed is None else seed}

    def take(self, error):
        """Put a service error's fields (``scenarios.2.manufacturing_qty``, ``paths``) next to the inputs
        (the form's own problems are in place already)."""
        if self.errors:
            return
        for problem in getattr(error, "errors", None) or [{"field": None, "message": error.detail}]:
            self.errors.setdefault(self._input(problem.get("field")), problem.get("message") or error.detail)

    def _input(self, name):
        parts = (name or "").split(".")
        if parts[0] in ("paths", "seed") and len(parts) == 1:
            return parts[0]
        if parts[0] == "scenarios" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(self.sent):
            row = self.sent[int(parts[1])]
            if parts[2] in self.rows[row].fields:
                return f"s-{row}-{parts[2]}"
        return GENERAL

    def table(self) -> dict:
        """What the template draws: the columns and, per row, each input's name, value and error."""
        columns = COLUMNS[self.kind]
        rows = []
        for i, row in enumerate(self.rows):
            cells = []
            for name, heading, kind, attrs in columns:
                key = f"{row.prefix}-{name}"
                value = row[name].value()
                cells.append({"name": key, "field": name, "heading": heading, "type": kind, "attrs": attrs,
                              "value": "" if value is None else value, "error": self.errors.get(key),
                              "choices": row.fields[name].choices if kind == "select" else None})
            rows.append({"index": i, "number": i + 1, "cells": cells,
                         "error": any(c["error"] for c in cells)})
        setting = {name: self.settings[name].value() for name in ("paths", "seed")}
        return {"columns": [(name, heading) for name, heading, _, _ in columns], "rows": rows,
                "count": len(rows), "can_add": len(rows) < MAX_SCENARIOS, "paths": setting["paths"],
                "seed": setting["seed"], "paths_range": PATHS_RANGE, "general": self.errors.get(GENERAL),
                "has_errors": bool(self.errors),
                "paths_error": self.errors.get("paths"), "seed_error": self.errors.get("seed")}


def _row_form(kind):
    return ManufacturingRowForm if kind == MANUFACTURING else MarkdownRowForm
