"""Walks every route of every service as six callers and says who got through.

Callers: city A (owner of the ids in the paths), city B (another city), an auditor, an
operator, no credentials, and a garbage token. API and operations routes get a bearer
token; console pages get the session cookie (and a matching CSRF pair, so a form is judged
by its authorisation, not refused for a missing token).

Every write is sent with a valid body (`BODIES`, `FORMS`, `FILES`: what its API model or
form takes), so a refusal of the body itself says nothing about authorisation and is not
counted as getting through.

Each answer is one of:
- `deny`: 401 or 403, or for a console page a redirect to its sign-in page;
- `hidden`: 404 — another city's ids are reported as absent, never as forbidden (ids that
  exist for nobody, like an unknown clarification request, are hidden from everyone);
- `invalid`: the request was refused as malformed (400, or 422 `invalid_input` /
  `malformed_request`, or a console form re-shown with field errors): the body sent is
  wrong, so the matrix cannot say who gets through — the test fails on it;
- `allow`: anything else (2xx, 3xx, a 409 or a domain 422 of the use case): the caller got
  through to the use case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi.sse import EventSourceResponse

from shared.errors import DomainError
from shared.infra.auth import verify_token
from shared.infra.settings import AuthSettings
from shared.web.pages import CSRF_COOKIE, CSRF_FIELD, PageRoute, csrf_token
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


def form_token(credential: str | None) -> str:
    """The CSRF token the console's pages give this caller (bound to their session)."""
    settings = AuthSettings()
    try:
        session = credential if credential and verify_token(credential, settings) else None
    except DomainError:
        session = None
    return csrf_token(settings.secret, session=session, nonce=CSRF)


# Why a route answered `invalid`, by (route, credential): the failure message shows it.
REFUSED: dict[tuple[Route, str | None], str] = {}


def outcome(route: Route, response: httpx.Response) -> str:
    if response.status_code in (401, 403):
        return "deny"
    if response.status_code == 404:
        return "hidden"
    if response.status_code == 400 or (response.status_code == 422 and (
            route.console or not response.headers.get("content-type", "").startswith("application/problem+json")
            or response.json().get("code") in ("invalid_input", "malformed_request"))):
        return "invalid"
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
    url = fill(route.path, ids) + QUERIES.get((route.service, route.method, route.path), "")
    if route.console:
        cookies[CSRF_COOKIE] = CSRF
        if credential:
            cookies["wwc_token"] = credential
        if route.method in ("POST", "PUT", "PATCH", "DELETE"):
            token = form_token(credential)
            data = {CSRF_FIELD: token}
            url += f"?{CSRF_FIELD}={token}"  # file forms carry it in the query string
    elif credential:
        headers["authorization"] = f"Bearer {credential}"
    kwargs: dict = {"headers": headers}
    key = (route.service, route.method, route.path)
    if key in FILES:
        kwargs["files"] = {"file": FILES[key]}
        if data is not None:
            kwargs["data"] = data
    elif data is not None:
        form = FORMS.get(key, {})
        kwargs["data"] = {**data, **(form(ids) if callable(form) else form)}
    elif route.method in ("POST", "PUT", "PATCH") and key in BODIES:
        kwargs["json"] = BODIES[key](ids)
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value)
    if route.stream:  # judged by its status line; leaving the stream closes the connection
        async with client.stream(route.method, url, **kwargs) as response:
            return outcome(route, response)
    response = await client.request(route.method, url, **kwargs)
    answer = outcome(route, response)
    if answer == "invalid":
        REFUSED[(route, credential)] = (f"{response.status_code} console form" if route.console
                                        else f"{response.status_code} {response.text[:300]}")
    return answer


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


# --- valid bodies -----------------------------------------------------------------------------

def _soon(days: int = 3) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0, tzinfo=None).isoformat()


# JSON bodies of the API's writes, by route: what its model takes (ids: the owner's).
BODIES = {
    ("audit", "POST", "/api/v1/cases/assign"): lambda ids: {"submission_ids": [ids["submission_id"]],
                                                            "auditor_id": "auditor-1"},
    ("audit", "POST", "/api/v1/cases/auto-assign"): lambda ids: {"submission_ids": [ids["submission_id"]]},
    ("audit", "POST", "/api/v1/cases/{submission_id}/release"): lambda ids: {"reason": "handing it back"},
    ("audit", "PUT", "/api/v1/cases/{submission_id}/decisions/{criterion_id}"):
        lambda ids: {"response": "NO", "version": 0},
    ("audit", "POST", "/api/v1/cases/{submission_id}/clarifications"):
        lambda ids: {"criteria": [ids["criterion_id"]], "message": "Please send the inventory."},
    ("audit", "POST", "/api/v1/cases/{submission_id}/calls"):
        lambda ids: {"held_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(), "notes": "We talked."},
    ("audit", "POST", "/api/v1/cases/{submission_id}/decisions/{criterion_id}/confirm"):
        lambda ids: {"version": 1, "note": "The new answer changes nothing: the policy is still a draft."},
    ("audit", "POST", "/api/v1/cases/{submission_id}/signoff/approve"): lambda ids: {"decisions_hash": "0" * 64},
    ("audit", "POST", "/api/v1/cases/{submission_id}/signoff/return"): lambda ids: {"comments": "Look again."},
    ("audit", "POST", "/api/v1/cases/{submission_id}/second-review/assign"): lambda ids: {"seed": 1},
    ("audit", "PUT", "/api/v1/cases/{submission_id}/second-review/{criterion_id}"): lambda ids: {"response": "NO"},
    ("audit", "POST", "/api/v1/cases/{submission_id}/second-review/{criterion_id}/resolve"):
        lambda ids: {"outcome": "keep_first", "note": "The first reading stands."},
    ("audit", "POST", "/api/v1/cases/{submission_id}/second-review/replace"): lambda ids: {"reason": "Ben left."},
    ("audit", "POST", "/api/v1/cases/{submission_id}/second-review/release"): lambda ids: {"reason": "Ben left."},
    # A country none of the matrix's cities is in: the auditor stays free to act on them.
    ("audit", "POST", "/api/v1/me/conflicts"): lambda ids: {"scope": "country", "country": "CL",
                                                            "reason": "a consultancy there"},
    ("intake", "POST", "/api/v1/cities"): lambda ids: {
        "name": "Shelbyville", "state": "IL", "country": "US", "population": 66_000, "contact_name": "Sam Ortiz",
        "contact_email": "sam@shelbyville.gov", "password": "correct-horse-battery", "language": "en"},
    ("intake", "POST", "/api/v1/cities/confirm"): lambda ids: {"token": "no-such-token-" + "x" * 20},
    ("intake", "POST", "/api/v1/auth/token"): lambda ids: {"email": "data@springfield.gov",
                                                           "password": "correct-horse-battery"},
    ("intake", "PATCH", "/api/v1/cities/{city_id}"): lambda ids: {"timezone": "America/Chicago", "language": "en"},
    ("intake", "PATCH", "/api/v1/me"): lambda ids: {"timezone": "America/Chicago"},
    ("intake", "PATCH", "/api/v1/cities/{city_id}/facts"): lambda ids: {"population": 120_000,
                                                                        "reason": "the 2025 census"},
    ("intake", "POST", "/api/v1/cities/{city_id}/users"): lambda ids: {
        "email": "kim@springfield.gov", "name": "Kim Park", "password": "another-long-secret"},
    ("intake", "POST", "/api/v1/snapshots/{cycle}"): lambda ids: {"answers": ids["snapshot"]},
    ("intake", "POST", "/api/v1/assessments/{cycle}"): lambda ids: {},
    ("intake", "PUT", "/api/v1/assessments/{cycle}/responses/{criterion_id}"):
        lambda ids: {"response": "NO", "narrative": "Not yet.", "version": 0},
    ("intake", "PUT", "/api/v1/assessments/{cycle}/responses"):
        lambda ids: {"responses": {ids["criterion_id"]: {"response": "NO", "narrative": "Not yet."}}},
    ("intake", "POST", "/api/v1/assessments/{cycle}/carry-over"):
        lambda ids: {"criteria": [ids["criterion_id"]], "overwrite": False},
    ("intake", "POST", "/api/v1/assessments/{cycle}/criteria/{criterion_id}/links"):
        lambda ids: {"url": "https://data.example.gov/inventory", "title": "Inventory"},
    ("intake", "POST", "/api/v1/assessments/{cycle}/submit"): lambda ids: {},
    ("intake", "POST", "/api/v1/submissions/{submission_id}/withdraw"):
        lambda ids: {"reason": "We will apply next cycle."},
    ("intake", "POST", "/api/v1/submissions/{submission_id}/clarifications/{request_id}/answer"):
        lambda ids: {"answers": {ids["criterion_id"]: {"narrative": "Attached."}}},
    ("intake", "POST", "/api/v1/submissions/{submission_id}/appeal"):
        lambda ids: {"criteria": [{"criterion_id": ids["criterion_id"], "statement": "The policy was adopted."}]},
    ("audit", "POST", "/api/v1/appeals/{appeal_id}/decisions"):
        lambda ids: {"criterion_id": ids["criterion_id"], "outcome": "upheld", "reason_code": "requirement_not_met",
                     "explanation": "The finding stands."},
    ("notify", "POST", "/api/v1/slots"): lambda ids: {"starts_at": _soon(), "timezone": "America/New_York",
                                                      "duration_minutes": 45,
                                                      "call_url": "https://meet.example.org/debrief"},
    ("notify", "POST", "/api/v1/debriefs/{submission_id}/booking"): lambda ids: {"slot_id": ids["slot_id"]},
    ("notify", "PUT", "/api/v1/debriefs/{submission_id}/booking"): lambda ids: {"slot_id": ids["slot_id"]},
    ("notify", "POST", "/api/v1/debriefs/{submission_id}/outcome"): lambda ids: {"outcome": "held"},
    ("notify", "PUT", "/api/v1/me/mail-preferences"): lambda ids: {"opted_out": []},
    ("reporting", "PUT", "/api/v1/reports/{report_id}/honor-roll"): lambda ids: {"honor_roll": True},
    # A point after all history: allowed, and rewinds nothing.
    ("reporting", "POST", "/api/v1/ops/rewind"): lambda ids: {"to": "2100-01-01T00:00:00+00:00"},
    ("scoring", "POST", "/api/v1/what-if"): lambda ids: {"catalog": "wwc-2019", "responses": {"DG1": "YES"}},
    ("scoring", "POST", "/api/v1/simulate"): lambda ids: {"catalog": "wwc-2019", "responses": {"DG1": "YES"},
                                                          "cycle": "2026"},
}

# Writes whose input is a query parameter.
QUERIES = {("audit", "DELETE", "/api/v1/me/conflicts"): "?conflict_id=no-such-conflict",
           ("intake", "GET", "/api/v1/evidence/{evidence_id}/download"): "?token=not-a-signed-link"}

# Uploads: one small text file, as the city would send it.
_FILE = ("inventory.txt", b"data inventory, updated quarterly", "text/plain")
FILES = {
    ("intake", "POST", "/api/v1/assessments/{cycle}/criteria/{criterion_id}/files"): _FILE,
    ("intake", "POST", "/api/v1/submissions/{submission_id}/clarifications/{request_id}/criteria/{criterion_id}/files"):
        _FILE,
    ("intake", "POST", "/portal/assessment/criteria/{criterion_id}/evidence/file"): _FILE,
    ("intake", "POST", "/portal/submission/clarifications/{request_id}/criteria/{criterion_id}/file"): _FILE,
    ("intake", "POST", "/api/v1/submissions/{submission_id}/appeal/criteria/{criterion_id}/files"): _FILE,
    ("intake", "POST", "/portal/submission/appeal/criteria/{criterion_id}/file"): _FILE,
}

# Staff accounts of the matrix's world (created in intake) that sign in to the consoles.
AUDITOR_EMAIL, OPERATOR_EMAIL, STAFF_PASSWORD = "ana@wwc.org", "olu@wwc.org", "staff-password-2026"
CITY_SIGN_IN = {"email": "data@springfield.gov", "password": "correct-horse-battery"}
AUDITOR_SIGN_IN = {"email": AUDITOR_EMAIL, "password": STAFF_PASSWORD}
OPERATOR_SIGN_IN = {"email": OPERATOR_EMAIL, "password": STAFF_PASSWORD}

# Console forms: the fields each form posts (besides its CSRF token); ids: the owner's.
FORMS: dict = {
    ("audit", "POST", "/audit/sign-in"): AUDITOR_SIGN_IN,
    ("notify", "POST", "/slots/sign-in"): AUDITOR_SIGN_IN,
    ("notify", "POST", "/booking/sign-in"): CITY_SIGN_IN,
    ("reporting", "POST", "/operator/sign-in"): OPERATOR_SIGN_IN,
    ("reporting", "POST", "/programme/sign-in"): OPERATOR_SIGN_IN,
    ("reporting", "POST", "/reports/sign-in"): CITY_SIGN_IN,
    ("intake", "POST", "/portal/sign-in"): CITY_SIGN_IN,
    ("audit", "POST", "/audit/cases/{submission_id}/criteria/{criterion_id}/confirm"):
        {"version": "1", "note": "The new answer changes nothing: the policy is still a draft."},
    ("audit", "POST", "/audit/cases/{submission_id}/calls"):
        {"held_date": "2026-01-05", "held_time": "10:00", "attendees": "Ana, Jordan", "notes": "We talked."},
    ("audit", "POST", "/audit/cases/{submission_id}/clarification"):
        lambda ids: {"criteria": ids["criterion_id"], "message": "Please send the inventory.",
                     "due_date": (datetime.now(UTC) + timedelta(days=10)).date().isoformat()},
    ("audit", "POST", "/audit/cases/{submission_id}/criteria/{criterion_id}"):
        {"response": "NO", "version": "0", "action": "save"},
    ("audit", "POST", "/audit/cases/{submission_id}/signoff/return"): {"comments": "Look again."},
    ("audit", "POST", "/audit/cases/{submission_id}/second-review/{criterion_id}/resolve"):
        {"outcome": "keep_first", "note": "The first reading stands."},
    ("audit", "POST", "/audit/cases/{submission_id}/second-review/replace"): {"reason": "Ben left."},
    ("audit", "POST", "/audit/conflicts"): {"scope": "country", "country": "CL", "reason": "a consultancy there"},
    ("audit", "POST", "/audit/queue/auto-assign"): lambda ids: {"submission_id": ids["submission_id"]},
    ("audit", "POST", "/audit/queue/assign"): lambda ids: {"submission_id": ids["submission_id"],
                                                           "auditor_id": "auditor-1"},
    ("intake", "POST", "/portal/register"): {
        "name": "Shelbyville", "state": "IL", "country": "US", "population": "66000", "contact_name": "Sam Ortiz",
        "contact_email": "sam@shelbyville.gov", "password": "correct-horse-battery",
        "password_confirm": "correct-horse-battery"},
    ("intake", "POST", "/portal/city"): {"timezone": "America/Chicago", "language": "en"},
    ("audit", "POST", "/audit/settings"): {"timezone": "Chicago"},
    ("reporting", "POST", "/operator/cities/{city_id}/facts"): {
        "name": "Springfield", "country": "US", "state": "US-IL", "population": "120000", "reason": "the 2025 census"},
    ("intake", "POST", "/portal/city/facts"): {"name": "Springfield", "country": "US", "state": "US-IL",
                                               "population": "120000", "reason": "the 2025 census"},
    ("intake", "POST", "/portal/snapshot"): lambda ids: {q: "yes" for q in ids["snapshot"]},
    ("intake", "POST", "/portal/assessment/criteria/{criterion_id}"):
        {"response": "NO", "narrative": "Not yet.", "version": "0", "action": "save"},
    ("intake", "POST", "/portal/assessment/criteria/{criterion_id}/evidence/link"):
        {"url": "https://data.example.gov/inventory", "link_title": "Inventory"},
    ("intake", "POST", "/portal/submission/withdraw"): {"confirm": "yes", "reason": "We will apply next cycle."},
    ("intake", "POST", "/portal/submission/appeal"): lambda ids: {f"appeal-{ids['criterion_id']}": "yes",
                                                                  f"statement-{ids['criterion_id']}": "Adopted."},
    ("audit", "POST", "/audit/appeals/{appeal_id}/criteria/{criterion_id}/decision"):
        {"outcome": "upheld", "reason_code": "requirement_not_met", "explanation": "The finding stands."},
    ("notify", "POST", "/slots/"): lambda ids: {
        "date": (datetime.now(UTC) + timedelta(days=4)).date().isoformat(), "time": "10:00",
        "timezone": "America/New_York", "duration": "45", "call_url": "https://meet.example.org/debrief"},
}
