"""States and provinces as ISO 3166-2 subdivision codes ("US-NY", "CA-ON"), from pycountry.

A city's state is a code, never a spelling: conflicts of interest, filters and duplicates
compare codes, and pages name them in the reader's language. The subdivisions of a country
are its lowest level in ISO 3166-2 (the Dominican Republic's provinces, not its regions;
Saint Kitts and Nevis's parishes), so that a place has exactly one code. A country without
subdivisions in ISO 3166-2 (Puerto Rico as a country, Bermuda, Aruba...) has no state.

`normalise` turns what people typed before there was a list ("ON", "Ontario", "Québec",
"Nueva York", "us-ny") into the code; it answers None for what it does not recognise, and
callers decide (the API refuses it, a data migration leaves the row as it was and reports it).
"""

from __future__ import annotations

import gettext
import unicodedata
from dataclasses import dataclass
from functools import cache

import pycountry

DOMAIN = "iso3166-2"
# The platform's languages in pycountry's locale names; any other falls back to English.
_LOCALES = {"es": ("es",), "pt": ("pt_BR", "pt")}


# Spellings in use before the list that ISO's names do not cover.
_ALIASES = {
    "US": {"u.s. virgin islands": "US-VI", "us virgin islands": "US-VI", "virgin islands": "US-VI",
           "washington dc": "US-DC", "washington d.c.": "US-DC"},
    "MX": {"distrito federal": "MX-CMX", "df": "MX-CMX", "cdmx": "MX-CMX"},
}


@dataclass(frozen=True)
class Subdivision:
    code: str  # ISO 3166-2, e.g. "CA-ON"
    country: str  # ISO 3166-1 alpha-2, e.g. "CA"
    name: str  # English (ISO's own name)
    type: str  # e.g. "Province"


@cache
def _all(country: str) -> tuple[Subdivision, ...]:
    rows = pycountry.subdivisions.get(country_code=country) or []
    parents = {r.parent_code for r in rows if getattr(r, "parent_code", None)}
    leaves = [Subdivision(code=r.code, country=r.country_code, name=r.name, type=r.type)
              for r in rows if r.code not in parents]
    return tuple(sorted(leaves, key=lambda s: _fold(s.name)))


def subdivisions(country: str) -> tuple[Subdivision, ...]:
    """The subdivisions of a country (its lowest ISO 3166-2 level), by English name; () for
    a country without any or an unknown code."""
    return _all((country or "").strip().upper())


def has_subdivisions(country: str) -> bool:
    return bool(subdivisions(country))


def get(code: str) -> Subdivision | None:
    """The subdivision with this code (any case), or None."""
    code = (code or "").strip().upper()
    country, _, rest = code.partition("-")
    if not rest:
        return None
    for sub in subdivisions(country):
        if sub.code == code:
            return sub
    return None


def is_valid(code: str, country: str | None = None) -> bool:
    """Is this exactly a subdivision code (of `country`, when given)?"""
    sub = get(code)
    return sub is not None and sub.code == code and (country is None or sub.country == country.strip().upper())


@cache
def _translator(lang: str) -> gettext.NullTranslations:
    locales = _LOCALES.get(lang)
    if not locales:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, pycountry.LOCALES_DIR, languages=list(locales), fallback=True)


def name(code: str, lang: str = "en") -> str:
    """The subdivision's name in `lang` where pycountry has it, else in English; a value
    that is not a code (a legacy spelling left by a migration) comes back as it is."""
    sub = get(code)
    if sub is None:
        return code or ""
    return _translator(lang).gettext(sub.name)


def choices(country: str, lang: str = "en") -> list[tuple[str, str]]:
    """(code, name) of a country's subdivisions, named and ordered in `lang` (for a list)."""
    named = [(s.code, name(s.code, lang)) for s in subdivisions(country)]
    return sorted(named, key=lambda item: _fold(item[1]))


def _fold(text: str) -> str:
    """Case- and accent-blind form for matching ("Québec" = "quebec")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().replace(".", " ").split())


@cache
def _spellings(country: str) -> dict[str, str]:
    """Every accepted spelling of a country's subdivisions -> code: the code, the part after
    the country ("ON"), and the names in every platform language ("Nueva York")."""
    out: dict[str, str] = {}
    for sub in subdivisions(country):
        out[_fold(sub.code)] = sub.code
        out.setdefault(_fold(sub.code.partition("-")[2]), sub.code)
    for sub in subdivisions(country):
        for lang in ("en", *_LOCALES):
            out.setdefault(_fold(_translator(lang).gettext(sub.name)), sub.code)
    for spelling, code in _ALIASES.get(country, {}).items():
        out.setdefault(_fold(spelling), code)
    return out


def normalise(country: str, text: str) -> str | None:
    """The code of a state or province as it may have been typed ("ON", "Ontario", "CA-ON",
    "ca-on", "Quebec"), for the given country; "" for an empty value; None when it names no
    subdivision of that country."""
    country = (country or "").strip().upper()
    text = (text or "").strip()
    if not text:
        return ""
    return _spellings(country).get(_fold(text))


def suffix(code: str) -> str:
    """The part of a code after the country ("US-IL" -> "IL"): the old two-letter form some
    tables (Census regions, time zones) are keyed by."""
    return (code or "").partition("-")[2]
