"""A city's default time zone from its country and state or province (IANA names).

Where a state or country spans several zones, the zone of most of its people is taken;
a city can change its own (intake's city profile). Unknown places fall back to UTC.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

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
