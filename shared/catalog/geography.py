"""Population bands and regions used to group cities for benchmarks ("cities your size",
the regional playing field). Pure functions; ids are the labels shown in the report."""

from __future__ import annotations

from enum import StrEnum

from shared.catalog import places


class PopulationBand(StrEnum):
    B30K_100K = "30K-100K"
    B100K_250K = "100K-250K"
    B250K_500K = "250K-500K"
    B500K_PLUS = "500K+"


class Region(StrEnum):
    NORTHEAST = "Northeast"
    MIDWEST = "Midwest"
    SOUTH = "South"
    WEST = "West"
    CANADA = "Canada"
    MEXICO_CENTRAL_AMERICA = "Mexico & Central America"
    CARIBBEAN = "Caribbean"
    SOUTH_AMERICA = "South America"


POPULATION_BANDS: tuple[str, ...] = tuple(b.value for b in PopulationBand)
REGIONS: tuple[str, ...] = tuple(r.value for r in Region)

# Lower bounds, inclusive: a city of exactly 100,000 is in 100K-250K.
_BAND_FLOORS = (
    (500_000, PopulationBand.B500K_PLUS),
    (250_000, PopulationBand.B250K_500K),
    (100_000, PopulationBand.B100K_250K),
    (30_000, PopulationBand.B30K_100K),
)


def population_band(population: int) -> PopulationBand | None:
    """The band of a population; None below 30,000 (not eligible)."""
    if isinstance(population, bool) or not isinstance(population, int) or population < 0:
        raise ValueError(f"population must be a non-negative integer, got {population!r}")
    for floor, band in _BAND_FLOORS:
        if population >= floor:
            return band
    return None


# US Census Bureau regions (DC is in the South Atlantic division).
US_STATE_REGION: dict[str, Region] = {
    **dict.fromkeys(("CT", "ME", "MA", "NH", "RI", "VT", "NJ", "NY", "PA"), Region.NORTHEAST),
    **dict.fromkeys(("IL", "IN", "MI", "OH", "WI", "IA", "KS", "MN", "MO", "NE", "ND", "SD"),
                    Region.MIDWEST),
    **dict.fromkeys(("DE", "DC", "FL", "GA", "MD", "NC", "SC", "VA", "WV", "AL", "KY", "MS",
                     "TN", "AR", "LA", "OK", "TX"), Region.SOUTH),
    **dict.fromkeys(("AZ", "CO", "ID", "MT", "NV", "NM", "UT", "WY", "AK", "CA", "HI", "OR",
                     "WA"), Region.WEST),
}
# Caribbean US territories; the Pacific ones are outside the Americas.
_US_CARIBBEAN_TERRITORIES = frozenset({"PR", "VI"})
_US_PACIFIC_TERRITORIES = frozenset({"GU", "AS", "MP", "UM"})

MEXICO_CENTRAL_AMERICA = frozenset({"MX", "BZ", "CR", "SV", "GT", "HN", "NI", "PA"})
# Independent states and territories of the Caribbean; Bermuda (a CARICOM associate
# member) is grouped here as the nearest fit among the eight regions.
CARIBBEAN = frozenset({
    "AG", "BS", "BB", "CU", "DM", "DO", "GD", "HT", "JM", "KN", "LC", "VC", "TT",
    "AI", "AW", "BQ", "BL", "BM", "CW", "GP", "KY", "MF", "MQ", "MS", "PR", "SX", "TC",
    "VG", "VI",
})
SOUTH_AMERICA = frozenset({
    "AR", "BO", "BR", "CL", "CO", "EC", "FK", "GF", "GY", "PE", "PY", "SR", "UY", "VE",
})


def region_for(country_code: str, state_or_province: str | None = None) -> Region | None:
    """The benchmark region of a city; None for a country outside the Americas.

    For the United States the state (its ISO 3166-2 code, or a legacy code or name) decides
    the Census region; a US city without a recognisable state raises ValueError rather than
    being misfiled.
    """
    country = (country_code or "").strip().upper()
    if country == "US":
        code = places.suffix(places.normalise("US", state_or_province or "") or "")
        if code in _US_CARIBBEAN_TERRITORIES:
            return Region.CARIBBEAN
        if code in US_STATE_REGION:
            return US_STATE_REGION[code]
        if code in _US_PACIFIC_TERRITORIES:
            return None
        raise ValueError(f"unknown US state {state_or_province!r}")
    if country == "CA":
        return Region.CANADA
    if country in MEXICO_CENTRAL_AMERICA:
        return Region.MEXICO_CENTRAL_AMERICA
    if country in CARIBBEAN:
        return Region.CARIBBEAN
    if country in SOUTH_AMERICA:
        return Region.SOUTH_AMERICA
    return None
