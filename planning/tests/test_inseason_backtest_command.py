"""manage.py inseason_backtest: the in-season backtest table (mlpipeline.inseason_backtest)."""
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mlpipeline import inseason_backtest

PLAN = SimpleNamespace(weekly=[1000.0] * 12, lower=[900.0] * 12, upper=[1100.0] * 12)
HISTORY = [1000.0 + 30 * (-1) ** k for k in range(60)]


def test_it_prints_the_table_and_the_criteria(monkeypatch):
    asked = {}

    def run(sets, peer):
        asked.update(sets=list(sets), peer=peer)
        return [inseason_backtest.replay("shift", "synthetic", PLAN, [1000.0] * 4 + [700.0] * 8, HISTORY)]

    monkeypatch.setattr(inseason_backtest, "run", run)
    out = StringIO()
    call_command("inseason_backtest", "--sets", "synthetic", stdout=out)
    text = out.getvalue()
    assert asked["sets"] == ["synthetic"]
    assert "[synthetic]" in text and "\nshift " in text and "product" in text and "ratio" in text
    assert "- every peer and synthetic scenario within 10% / 0.02 of the better simple rule: 1/1" in text


def test_peer_scenarios_need_the_peer_data(tmp_path):
    with pytest.raises(CommandError, match="No peer scenarios"):
        call_command("inseason_backtest", "--peer-data", str(tmp_path), stdout=StringIO())
