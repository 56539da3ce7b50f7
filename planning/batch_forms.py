"""The seasons page's "Plan all categories" form: the confirmation card's six season fields (checked
by SeasonCardForm, as the card and the API check them); economics are left to each category's
defaults, since one price rarely fits every category."""
from agents.parameters import PLANNER_FIELDS
from planning.forms import SeasonCardForm


class PlanAllForm(SeasonCardForm):
    INPUTS = PLANNER_FIELDS

    def parameters(self):
        values = super().parameters()
        return {name: value for name, value in values.items() if name in (*PLANNER_FIELDS, "season_end_date")}
