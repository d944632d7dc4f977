"""Walks every route of every service as six callers and says who got through.

Callers: city A (owner of the ids in the paths), city B (another city), an auditor, an
operator, no credentials, and a garbage token. API and operations routes get a bearer
token; console pages get the session cookie (and a matching CSRF pair, so a form is judged
by its authorisation, not refused for a missing token).

Each answer is one of:
- `deny`: 401 or 403, or for a console page a redirect to its sign-in page;
- `hidden`: 404 — another city's ids are reported as absent, never as forbidden (ids that
  exist for nobody, like an unknown clarification request, are hidden from everyone);
- `allow`: anything else, 400/409/422 for the empty bodies sent included: the caller got
  through to the use case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.sse import EventSourceResponse

from shared.web.pages import CSRF_COOKIE, CSRF_FIELD, PageRoute
from shared.web.routes import api_routes

CALLERS = ("city", "other city", "auditor", "operator", "anonymous", "bad token")
MATRIX_DOC = Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md"
CSRF = "c" * 43


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str
    console: bool
    # A stream that never ends (server-sent events): probed over real HTTP, headers only.
    stream: bool = False


def routes(apps: dict) -> list[Route]:
    found = []
    for service, app in apps.items():
        for method, path, route in api_routes(app):
            if method == "HEAD" or path.startswith(("/docs", "/redoc")):
                continue
            found.append(Route(service, method, path, isinstance(route, PageRoute),
                               getattr(route, "response_class", None) is EventSourceResponse))
    return sorted(set(found), key=lambda r: (r.service, r.path, r.method))


def fill(path: str, ids: dict[str, str]) -> str:
    """The route's path with the owner's ids (unknown parameters fail loudly)."""
    def value(match: re.Match) -> str:
        name = match.group(1).split(":")[0]
        if name not in ids:
            raise KeyError(f"no test value for the path parameter {{{name}}} ({path}): add it to the ids")
        return ids[name]

    return re.sub(r"\{([^}]+)\}", value, path)


def outcome(route: Route, response: httpx.Response) -> str:
    if response.status_code in (401, 403):
        return "deny"
    if response.status_code == 404:
        return "hidden"
    location = response.headers.get("location", "")
    # Signing out also lands on the sign-in page, with a notice (`done=`): that is no refusal.
    if route.console and response.status_code in (302, 303, 307) and "/sign-in" in location \
            and "done=" not in location:
        return "deny"
    return "allow"


async def probe(client: httpx.AsyncClient, route: Route, ids: dict[str, str], credential: str | None) -> str:
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    data = None
    url = fill(route.path, ids)
    if route.console:
        cookies[CSRF_COOKIE] = CSRF
        if credential:
            cookies["wwc_token"] = credential
        if route.method in ("POST", "PUT", "PATCH", "DELETE"):
            data = {CSRF_FIELD: CSRF}
            url += f"?{CSRF_FIELD}={CSRF}"  # file forms carry it in the query string
    elif credential:
        headers["authorization"] = f"Bearer {credential}"
    kwargs: dict = {"headers": headers}
    if data is not None:
        kwargs["data"] = data
    elif route.method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value)
    if route.stream:  # judged by its status line; leaving the stream closes the connection
        async with client.stream(route.method, url, **kwargs) as response:
            return outcome(route, response)
    return outcome(route, await client.request(route.method, url, **kwargs))


def read_matrix(doc: Path = MATRIX_DOC) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """The table under "## Access matrix": service | method | path | one column per caller."""
    text = doc.read_text(encoding="utf-8")
    section = text.split("## Access matrix", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 + len(CALLERS) or cells[0] in ("service", "") or set(cells[0]) <= {"-"}:
            continue
        rows[(cells[0], cells[1], cells[2])] = tuple(cells[3:])
    return rows


def render_rows(observed: dict[Route, tuple[str, ...]]) -> str:
    """Matrix rows in the document's format (to write new rows from what a route does)."""
    return "\n".join(f"| {r.service} | {r.method} | `{r.path}` | " + " | ".join(cells) + " |"
                     for r, cells in observed.items())
