"""What the confirmation card shows for a season's economics (SPEC §13) before the season exists:
each of unit price, unit cost and salvage value as the planner set it, or its default for the
chosen category and start date (the price from the category's history by
planning.selectors.economics.history_unit_price, cost and salvage as mlpipeline's shares of it)."""
from dataclasses import dataclass
from datetime import date

from mlpipeline.economics import COST_SHARE, SALVAGE_SHARE, default_economics
from planning.selectors.economics import history_unit_price

_SHARES = {"unit_cost": COST_SHARE, "salvage_value": SALVAGE_SHARE}


@dataclass(frozen=True)
class MoneyField:
    name: str
    value: object  # as set (a number, or the text typed when it is not one); None or "" when not set
    default: float | None  # the default, when it can be known
    default_note: str  # how the default is made, or why it is not known

    @property
    def stated(self) -> bool:
        return self.value not in (None, "")

    @property
    def shown(self) -> str:
        """The value for the input: a number as typed, without trailing zeros ("49.9"), else as typed."""
        number = _number(self.value)
        if number is None:
            return "" if self.value is None else str(self.value)
        return f"{number:.10g}"

    @property
    def default_text(self) -> str:
        """ "22.05 (0.45 x the unit price)", or how the default is made when it is not known."""
        return self.default_note if self.default is None else f"{self.default:,.2f} ({self.default_note})"


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _start(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def card_economics(category_id, season_start, given) -> list[MoneyField]:
    """The three money fields of the card: ``given`` maps each name to what the planner set (blank
    or None: not set). The default price needs a category and a start date; without one, or
    without revenue in the history before the start, it is not known (the planner sets it)."""
    start = _start(season_start)
    history_price = history_unit_price(category_id, start) if category_id and start else None
    if history_price is not None:
        price_note = "the category's revenue / units over the last 52 weeks of history"
    elif not category_id:
        price_note = "from the category's history: choose the category, or set it"
    else:
        price_note = "not known (no revenue in the category's history): set it"
    price = _number(given.get("unit_price")) or history_price
    defaults = default_economics(price) if price else None
    fields = [MoneyField("unit_price", given.get("unit_price"), history_price, price_note)]
    for name in ("unit_cost", "salvage_value"):
        share = f"{_SHARES[name]:g} x the unit price"
        default = None if defaults is None else (defaults.cost if name == "unit_cost" else defaults.salvage)
        fields.append(MoneyField(name, given.get(name), default, share))
    return fields
