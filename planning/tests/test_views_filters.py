"""Number and time formats of the planner pages."""
from datetime import datetime, timezone

from planning.templatetags import planning_pages as f


def test_percentages_and_signed_values_use_a_real_minus_sign():
    assert f.pct(0.255) == "26%" and f.pct(0.255, 1) == "25.5%" and f.pct(None) == "—"
    assert f.signed_pct(-0.1) == "−10.0%" and f.signed_pct(0.255) == "+25.5%"
    assert f.signed_units(-7247.4) == "−7,247" and f.signed_units(12) == "+12"
    assert f.units(8000.4) == "8,000"


def test_durations_read_naturally():
    assert f.seconds(0.42) == "0.4 s"
    assert f.seconds(75) == "1 min 15 s"


def test_timestamps_from_datetimes_and_iso_strings():
    moment = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)
    assert f.timestamp(moment) == "2025-03-01 09:30"
    assert f.timestamp("2025-03-01T09:30:12.5Z") == "2025-03-01 09:30"
    assert f.timestamp(None) == "—"


def test_band_labels_are_words():
    assert [f.band_label(b) for b in ("green", "amber", "red", None)] == [
        "On track", "Elevated", "Re-forecast", "Not checked"]
