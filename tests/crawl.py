"""Every page a person can reach, in every language: a crawler for the browser tests.

From a person's start pages it follows every same-origin link (GET only: forms are never
submitted), one page per route (ids, codes and criterion ids in a path make the same
route), and runs the page check (axe-core, readable words, the basics) on each in English,
Spanish and Portuguese. Downloads, the live event stream and APIs are not pages."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from shared.i18n import languages

NOT_PAGES = re.compile(r"(\.(pdf|csv|json|ics|svg|png|css|js)$)|(/live$)|(/api/)|(/static/)|(/sign-out)|"
                       r"(/metrics)|(/healthz)|(/readyz)|(/docs)|(/openapi)|(/redoc)")
# Parts of a path that name one thing among many: the same route whatever they are.
VARYING = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,64}|"
                     r"\b[A-Z]{1,3}\d{1,2}\b|\b\d{4}\b|[A-Z0-9]{4}-[A-Z0-9]{4}")
# Query parameters that only change what a page says once (a flash) or its language.
PASSING = {"done", "lang", "error"}


def route_of(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted(k for k, _ in parse_qsl(parts.query) if k not in PASSING)
    return VARYING.sub("{}", parts.path) + ("?" + "&".join(keys) if keys else "")


def in_language(url: str, lang: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "lang"] + [("lang", lang)]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def reachable(page, starts: list[str], *, limit: int = 60) -> list[str]:
    """One URL per route reachable from `starts` by links on the same origin."""
    origin = urlsplit(page.url if page.url.startswith("http") else starts[0]).netloc
    seen: dict[str, str] = {}
    queue = list(starts)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        route = route_of(url)
        if route in seen or NOT_PAGES.search(urlsplit(url).path):
            continue
        response = await page.goto(url)
        if response is None or not response.ok or "text/html" not in response.headers.get("content-type", ""):
            continue
        seen[route] = url
        for href in await page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urljoin(page.url, href).split("#")[0]
            if urlsplit(target).netloc == origin and route_of(target) not in seen:
                queue.append(target)
    return list(seen.values())


async def check_everywhere(page, urls: list[str], check_page) -> int:
    """The page check on each URL in every language; how many pages were checked."""
    checked = 0
    for url in urls:
        for lang in languages():
            await page.goto(in_language(url, lang))
            assert await page.evaluate("document.documentElement.lang") == lang, page.url
            await check_page(page)
            checked += 1
    return checked
