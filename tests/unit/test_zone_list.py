"""The picker's zones: the tz database's current zones of the programme's countries, each by
a friendly name; no deprecated alias, no Etc/ zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shared.catalog.timezones import current_zones, resolve_zone, timezone_for, zone_choices, zone_label


def offset(zone: str, at: datetime) -> str:
    minutes = int(at.astimezone(ZoneInfo(zone)).utcoffset().total_seconds() // 60)
    return f"UTC\u2212{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def test_only_current_canonical_zones_of_the_programmes_countries():
    zones = set(current_zones())
    assert {"America/Chicago", "America/Toronto", "America/Mexico_City", "America/Sao_Paulo",
            "America/Argentina/Buenos_Aires", "Pacific/Honolulu"} <= zones
    assert not {"US/Eastern", "US/Central", "Canada/Eastern", "America/Buenos_Aires", "America/Montreal",
                "Brazil/East", "EST5EDT", "UTC"} & zones
    assert not [z for z in zones if z.startswith(("Etc/", "Europe/", "Asia/", "Africa/"))]
    assert 80 < len(zones) < 200  # not the ~600 raw names


def test_each_zone_has_a_friendly_name_in_the_page_language():
    winter = datetime(2026, 12, 6, 12, tzinfo=UTC)
    assert zone_label("America/Chicago", "en", winter) == "Chicago (Central Time, UTC\u221206:00)"
    assert zone_label("America/Mexico_City", "es", winter) == "Ciudad de México (hora central, UTC\u221206:00)"
    assert zone_label("America/Toronto", "pt", winter) == "Toronto (Horário do Leste, UTC\u221205:00)"
    summer = datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert zone_label("America/Chicago", "en", summer).endswith("UTC\u221205:00)")
    now = datetime.now(UTC)
    labels = dict(zone_choices("en"))
    assert labels["America/Chicago"] == f"Chicago (Central Time, {offset('America/Chicago', now)})"
    assert not any("_" in label or "/" in label for label in labels.values())


def test_what_people_type_is_read_as_a_zone_and_aliases_are_refused():
    assert resolve_zone("Chicago (Central Time, UTC\u221205:00)") == "America/Chicago"  # the label before DST ended
    assert resolve_zone("chicago") == "America/Chicago"
    assert resolve_zone("Nueva York", "es") == "America/New_York"
    assert resolve_zone("America/Toronto") == "America/Toronto"
    assert resolve_zone("US/Eastern") is None and resolve_zone("Etc/GMT+5") is None and resolve_zone("") is None
    # A city's stored zone outside the list stays acceptable while it is the form's value.
    assert resolve_zone("America/St_Kitts", current="America/St_Kitts") == "America/St_Kitts"
    assert timezone_for("KN") == "America/St_Kitts" and zone_choices("en", current="America/St_Kitts")[0][0] == \
        "America/St_Kitts"
