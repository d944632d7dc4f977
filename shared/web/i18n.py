"""The language of a console request: `?lang=`, then the `wwc_lang` cookie, then
Accept-Language, then English. The strings every console shares are in `SHARED_LOCALES`
(layout, errors by code, stages, answers, countries); a console's own are beside its
templates and may override a shared key. Translation itself is `shared.i18n`."""

from __future__ import annotations

from pathlib import Path

from shared.i18n import DEFAULT_LANGUAGE, languages

LANG_COOKIE = "wwc_lang"
SHARED_LOCALES = Path(__file__).parent / "locales"


def parse_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (``es-MX,es;q=0.9`` -> ``es``)."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((header or "")[:1000].split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary not in languages() or quality <= 0:
            continue
        # Highest quality wins; on a tie, the one listed first.
        key = (quality, -index, primary)
        if best is None or key > best:
            best = key
    return best[2] if best else None


def choose_language(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (query, cookie):
        if candidate and candidate.lower() in languages():
            return candidate.lower()
    return parse_accept_language(accept_language) or DEFAULT_LANGUAGE
