"""A city's default time zone from its country and state or province (IANA names).

Where a state or country spans several zones, the zone of most of its people is taken;
a city can change its own (intake's city profile). Unknown places fall back to UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

from babel import dates as babel_dates

from shared.catalog import places

_US = {
    **dict.fromkeys(("CT", "DE", "DC", "FL", "GA", "IN", "KY", "ME", "MD", "MA", "MI", "NH", "NJ", "NY", "NC",
                     "OH", "PA", "RI", "SC", "VT", "VA", "WV"), "America/New_York"),
    **dict.fromkeys(("AL", "AR", "IL", "IA", "KS", "LA", "MN", "MS", "MO", "NE", "ND", "OK", "SD", "TN", "TX",
                     "WI"), "America/Chicago"),
    **dict.fromkeys(("CO", "ID", "MT", "NM", "UT", "WY"), "America/Denver"),
    "AZ": "America/Phoenix",
    **dict.fromkeys(("CA", "NV", "OR", "WA"), "America/Los_Angeles"),
    "AK": "America/Anchorage", "HI": "Pacific/Honolulu", "PR": "America/Puerto_Rico", "VI": "America/St_Thomas",
}
_CANADA = {
    "BC": "America/Vancouver", "AB": "America/Edmonton", "SK": "America/Regina", "MB": "America/Winnipeg",
    "ON": "America/Toronto", "QC": "America/Toronto", "NB": "America/Moncton", "NS": "America/Halifax",
    "PE": "America/Halifax", "NL": "America/St_Johns", "YT": "America/Whitehorse", "NT": "America/Yellowknife",
    "NU": "America/Iqaluit",
}
# Countries of the programme by the zone of most of their people.
_COUNTRY = {
    "MX": "America/Mexico_City", "BZ": "America/Belize", "CR": "America/Costa_Rica", "SV": "America/El_Salvador",
    "GT": "America/Guatemala", "HN": "America/Tegucigalpa", "NI": "America/Managua", "PA": "America/Panama",
    "AG": "America/Antigua", "BS": "America/Nassau", "BB": "America/Barbados", "CU": "America/Havana",
    "DM": "America/Dominica", "DO": "America/Santo_Domingo", "GD": "America/Grenada",
    "HT": "America/Port-au-Prince", "JM": "America/Jamaica", "KN": "America/St_Kitts", "LC": "America/St_Lucia",
    "VC": "America/St_Vincent", "TT": "America/Port_of_Spain", "AI": "America/Anguilla", "AW": "America/Aruba",
    "BQ": "America/Kralendijk", "BL": "America/St_Barthelemy", "BM": "Atlantic/Bermuda",
    "CW": "America/Curacao", "GP": "America/Guadeloupe", "KY": "America/Cayman", "MF": "America/Marigot",
    "MQ": "America/Martinique", "MS": "America/Montserrat", "PR": "America/Puerto_Rico",
    "SX": "America/Lower_Princes", "TC": "America/Grand_Turk", "VG": "America/Tortola",
    "VI": "America/St_Thomas", "AR": "America/Argentina/Buenos_Aires", "BO": "America/La_Paz",
    "BR": "America/Sao_Paulo", "CL": "America/Santiago", "CO": "America/Bogota", "EC": "America/Guayaquil",
    "FK": "Atlantic/Stanley", "GF": "America/Cayenne", "GY": "America/Guyana", "PE": "America/Lima",
    "PY": "America/Asuncion", "SR": "America/Paramaribo", "UY": "America/Montevideo", "VE": "America/Caracas",
    "CA": "America/Toronto", "US": "America/New_York",
}


def timezone_for(country: str, state: str = "") -> str:
    country = (country or "").strip().upper()
    code = places.suffix(places.normalise(country, state) or "")  # "US-IL" (or "Illinois") -> "IL"
    if country == "US":
        return _US.get(code, _COUNTRY["US"])
    if country == "CA":
        return _CANADA.get(code, _COUNTRY["CA"])
    return _COUNTRY.get(country, "UTC")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_timezone(name: str) -> bool:
    return name in _zones()


# --- the picker of current zones -----------------------------------------------------------------
# Staff and cities choose among the tz database's current zones of the programme's countries
# (zone1970.tab, from the tzdata package): canonical names only, so no deprecated alias
# (US/Eastern) and no Etc/ zone; each shown by its place, generic name and offset now.

PROGRAMME_COUNTRIES = frozenset(_COUNTRY)


@cache
def current_zones() -> tuple[str, ...]:
    """Canonical zones used today in at least one of the programme's countries."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone1970.tab").read_text(encoding="utf-8")
    zones = set()
    for line in table.splitlines():
        if line and not line.startswith("#"):
            countries, _, zone, *_ = line.split("\t")
            if PROGRAMME_COUNTRIES & set(countries.split(",")):
                zones.add(zone)
    return tuple(sorted(zones))


def _offset(zone: str, at: datetime) -> str:
    minutes = int(at.astimezone(ZoneInfo(zone)).utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "\u2212"  # a real minus sign
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_place(zone: str, lang: str = "en") -> str:
    """The zone as people name it beside a time: its place ("New York", "São Paulo"), or UTC."""
    if zone in ("UTC", "Etc/UTC"):
        return "UTC"
    return babel_dates.get_timezone_location(zone, locale=lang, return_city=True)


def zone_label(zone: str, lang: str = "en", at: datetime | None = None) -> str:
    """"Chicago (Central Time, UTC−06:00)", in the page's language; the offset is the
    zone's at `at` (now by default)."""
    if zone in ("UTC", "Etc/UTC"):
        return "UTC"
    place = babel_dates.get_timezone_location(zone, locale=lang, return_city=True)
    generic = babel_dates.get_timezone_name(zone, width="long", zone_variant="generic", locale=lang)
    if generic == babel_dates.get_timezone_location(zone, locale=lang):  # CLDR has no generic name
        generic = babel_dates.get_timezone_name(zone, width="long", zone_variant="standard", locale=lang)
    return f"{place} ({generic}, {_offset(zone, at or datetime.now(UTC))})"


def zone_choices(lang: str = "en", current: str | None = None) -> list[tuple[str, str]]:
    """(zone, label) for the picker, west to east then by name; a current value that is not
    (or no longer) in the list is kept at its head, so saving a form never changes it."""
    now = datetime.now(UTC)
    choices = sorted(((z, zone_label(z, lang, now)) for z in current_zones()),
                     key=lambda c: (now.astimezone(ZoneInfo(c[0])).utcoffset(), c[1]))
    if current and valid_timezone(current) and current not in current_zones():
        choices.insert(0, (current, zone_label(current, lang, now)))
    return choices


def resolve_zone(text: str, lang: str = "en", current: str | None = None) -> str | None:
    """What a person typed or picked in the zone input: a zone's label (in any offset: the
    page may be older than a clock change), its place ("Chicago") or its IANA name (a listed
    one, or the value the form had). None: nothing on the list."""
    text = " ".join((text or "").split())
    if text in current_zones() or (text and text == current):
        return text
    place = text.split(" (", 1)[0].casefold()
    for zone in current_zones():
        if babel_dates.get_timezone_location(zone, locale=lang, return_city=True).casefold() == place:
            return zone
    return None
