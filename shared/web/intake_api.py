"""Intake's API as the signed-in person (their session token), for consoles of other services
that change what intake owns (a city's facts, a person's own settings): intake applies its
rules, records and events as for any other caller; the console stores nothing of it."""

from __future__ import annotations

import httpx

from shared.errors import NotFound, Unavailable
from shared.web.pages import TOKEN_COOKIE, Page


class IntakeApi:
    def __init__(self, page: Page) -> None:
        identity = page.request.app.state.identity  # where consoles sign people in: intake
        self.base_url, self.transport = identity.base_url, identity.transport
        self.headers = {"authorization": f"Bearer {page.request.cookies.get(TOKEN_COOKIE, '')}"}

    async def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            async with httpx.AsyncClient(base_url=self.base_url, transport=self.transport, timeout=15,
                                         headers=self.headers) as http:
                return await http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable("Intake cannot be reached; try again in a moment.") from exc

    async def get(self, path: str):
        r = await self.call("GET", path)
        if r.status_code == 404:
            raise NotFound("Intake has no such record.")
        if r.status_code != 200:
            raise Unavailable(f"Intake answered {r.status_code}.")
        return r.json()

    @staticmethod
    def problem(r: httpx.Response) -> dict:
        """A refusal's problem+json (field errors to show); anything else is intake failing."""
        if r.status_code >= 500 or not r.headers.get("content-type", "").endswith("json"):
            raise Unavailable(f"Intake answered {r.status_code}.")
        return r.json()
