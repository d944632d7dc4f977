"""The auditor console and the city portal served from one in-process stack, for tests in
a real headless Chromium (Debian's): every service runs, intake and audit are served by
uvicorn on free ports, and each person is a browser context (their own cookies)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devtools.harness import Stack
from shared.infra.auth import Role
from tests.portal.conftest import LAUNCH_ARGS, PASSWORD  # noqa: F401 - re-exported
from tests.portal.conftest import check_page as portal_check_page

RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "audit"
CYCLE = "2026"


async def check_page(page, screenshot: str | None = None) -> None:
    """The portal's page check, with screenshots under test-results/audit."""
    await portal_check_page(page, screenshot, results=RESULTS)


@dataclass
class Consoles:
    stack: Stack
    audit_url: str
    portal_url: str
    browser: object
    tmp: Path
    contexts: list = field(default_factory=list)

    def api(self, service: str, token: str | None = None) -> httpx.AsyncClient:
        return self.stack.client(service, token)

    async def person(self, base_url: str, *, token: str | None = None, locale: str = "en-GB"):
        context = await self.browser.new_context(base_url=base_url, locale=locale,
                                                 viewport={"width": 1360, "height": 900})
        context.set_default_timeout(20_000)
        if token:
            await context.add_cookies([{"name": "wwc_token", "value": token, "url": base_url, "httpOnly": True,
                                        "sameSite": "Lax"}])
        self.contexts.append(context)
        return await context.new_page()

    async def staff(self, email: str, name: str, role: Role = Role.AUDITOR) -> str:
        """A staff account as the CLI creates it (intake publishes it; audit learns of it)."""
        from services.intake import accounts

        async with self.stack.runtimes["intake"].db.transaction() as session:
            user = await accounts.create_staff_user(session, email=email, name=name, password=PASSWORD, role=role)
        self.stack.runtimes["intake"].wake_relay()
        return user.id

    async def sign_in(self, page, email: str) -> None:
        await page.goto("/audit/sign-in")
        await page.get_by_label("Email address").fill(email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(re.compile(r".*/audit/queue.*"))

    def file(self, name: str, content: bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(content)
        return path
