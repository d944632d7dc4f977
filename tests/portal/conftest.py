"""The city portal in a real headless Chromium (Debian's, never a downloaded one).

One stack, one HTTP server and one browser per test module: the intake app is served by
uvicorn on a free port (its runtime already started, so `lifespan="off"`), and each test
opens its own browser contexts (a context is one person's cookie jar)."""

from __future__ import annotations

import asyncio
import re
import zlib
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from services.intake.config import IntakeOptions
from devtools import devstack
from devtools.mailbox import wait_for_link
from shared.infra import migrations
from tests.conftest import S3_KEY, S3_SECRET
from tests.readable import unreadable
from tests.standins import audit_worker
from devtools.harness import Infra, Stack, serve

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "portal"
# axe-core, from the npm registry (`make browsers` installs the pinned version there).
AXE = Path(__file__).resolve().parents[2] / ".tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 A and AA, and axe's best practices.
AXE_RUN = """() => axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
  "wcag22aa", "best-practice"]}, resultTypes: ["violations"]}).then((r) => r.violations.map(
  (v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`))"""
CYCLE = "2026"
PASSWORD = "correct-horse-battery"


# --- files a city uploads -------------------------------------------------------------------------


def minimal_pdf(text: str = "Data inventory") -> bytes:
    """A small, valid one-page PDF (with a correct cross-reference table)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def minimal_png(width: int = 4, height: int = 4) -> bytes:
    """A small, valid RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    rows = b"".join(b"\x00" + bytes([30, 96, 143]) * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# --- accessibility checks run on every key page ----------------------------------------------------

A11Y_SCRIPT = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("html has no lang");
  const h1 = document.querySelectorAll("h1");
  if (h1.length !== 1) problems.push(`${h1.length} h1 elements`);
  let previous = 0;
  for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const level = Number(h.tagName[1]);
    if (previous === 0 && level !== 1) problems.push(`first heading is ${h.tagName}: ${h.textContent.trim()}`);
    if (previous && level > previous + 1) problems.push(`heading jumps h${previous} -> h${level}: ${h.textContent.trim()}`);
    previous = level;
  }
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const label = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
    if (!label && !el.closest("label") && !el.getAttribute("aria-label")) problems.push(`no label: ${el.name}`);
  }
  for (const el of document.querySelectorAll("[aria-describedby]")) {
    for (const ref of el.getAttribute("aria-describedby").split(/\\s+/)) {
      if (!document.getElementById(ref)) problems.push(`aria-describedby names a missing id: ${ref}`);
    }
  }
  for (const a of document.querySelectorAll(".error-summary a[href^='#']")) {
    if (!document.getElementById(a.getAttribute("href").slice(1))) problems.push(`error links to nothing: ${a.href}`);
  }
  const ids = [...document.querySelectorAll("[id]")].map(e => e.id);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`duplicate id: ${id}`);
  for (const b of document.querySelectorAll("button, a[href]")) {
    if (!b.textContent.trim() && !b.getAttribute("aria-label")) problems.push(`control without text: ${b.outerHTML}`);
  }
  return problems;
}"""


async def register_in_browser(portal, page, *, name: str, state: str, population: str, contact: str, email: str,
                              password: str, country: str = "US") -> None:
    """Fill the city registration form by its labels, as a person would, send it, then
    follow the link in the confirmation mail (read from the SMTP sink when notify runs in
    the module's stack, else from the event intake recorded for notify)."""
    await page.get_by_label("City name").fill(name)
    await page.get_by_label("Country").select_option(country)
    await page.get_by_label("State or province").select_option(label=state)  # a list, by the place's name
    await page.get_by_label("Population").fill(population)
    await page.get_by_label("Your name").fill(contact)
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_label("Confirm the password").fill(password)
    await page.get_by_role("button", name="Register and continue").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    if "notify" in portal.stack.runtimes:
        link = await wait_for_link(email, timeout=60, mail_dir=portal.stack.infra.mail_dir)
    else:
        link = await portal.stack.registration_link(email)
    await page.goto(link)
    await page.get_by_role("button", name="Create the account").click()


# The page's words, less what is marked as technical detail for operators (`data-raw`: an
# error message quoted as the system gave it) and less scripts and styles.
VISIBLE_WORDS = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll("[data-raw], script, style, template").forEach((e) => e.remove());
  return copy.textContent;
}"""


async def check_page(page, screenshot: str | None = None, *, results: Path = RESULTS, top: bool = False) -> None:
    """Accessibility basics of the current page, words people can read (no raw ids, codes,
    ISO timestamps or "(s)"), and a full-page screenshot (into `results`; with `top`, also
    the first screen, what a person sees first). Every console's tests use it."""
    problems = await page.evaluate(A11Y_SCRIPT)
    assert problems == [], f"{page.url}: {problems}"
    # axe-core in the page itself (evaluated through the browser's protocol, so the page's
    # content security policy, which forbids inline scripts, still holds for the page).
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = await page.evaluate(AXE_RUN)
    assert violations == [], f"{page.url}: axe-core found {violations}"
    raw = unreadable(await page.evaluate(VISIBLE_WORDS))
    assert raw == [], f"{page.url} shows {raw}"
    if screenshot:
        results.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(results / f"{screenshot}.png"), full_page=True)
        if top:
            await page.screenshot(path=str(results / f"{screenshot}-top.png"))


# --- the module's stack, server and browser ---------------------------------------------------------


@dataclass
class Portal:
    stack: Stack
    base_url: str
    browser: object
    tmp: Path
    contexts: list = field(default_factory=list)

    @property
    def intake(self):
        return self.stack.runtimes["intake"]

    def api(self, token: str | None = None) -> httpx.AsyncClient:
        return self.stack.client("intake", token)

    async def context(self, token: str | None = None, locale: str = "en-GB"):
        """A browser context (one person), signed in when given a token."""
        context = await self.browser.new_context(base_url=self.base_url, locale=locale,
                                                 viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        if token:
            await context.add_cookies([{"name": "wwc_token", "value": token, "url": self.base_url,
                                        "httpOnly": True, "sameSite": "Lax"}])
        self.contexts.append(context)
        return context

    async def page(self, token: str | None = None, locale: str = "en-GB"):
        return await (await self.context(token, locale)).new_page()

    async def city(self, name: str, *, snapshot: bool = True, draft: bool = True, **overrides) -> dict:
        """A city registered through the API (fast set-up); its token, id and email."""
        slug = re.sub(r"[^a-z]", "", name.lower())
        data = {"name": name, "state": "US-IL", "country": "US", "population": 116_250,
                "contact_name": f"{name} Data Office", "contact_email": f"data@{slug}.gov",
                "password": PASSWORD, **overrides}
        body = await self.stack.register_city(data)
        token = body["token"]["access_token"]
        async with self.api(token) as client:
            if snapshot:
                from shared.catalog.loader import load_catalog

                answers = {q.id: True for q in load_catalog("wwc-2019").snapshot}
                r = await client.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": answers})
                assert r.status_code == 201, r.text
            if draft:
                r = await client.post(f"/api/v1/assessments/{CYCLE}")
                assert r.status_code == 201, r.text
        return {"token": token, "id": body["city"]["id"], "email": data["contact_email"], "name": name}

    def file(self, name: str, content: bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(content)
        return path


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (make browsers); "
                    f"Playwright may not download its own")
    return CHROMIUM


@pytest.fixture(scope="module")
def module_infra(tmp_path_factory, temporal_server, s3_server, smtp_server, infra_root):
    """Like the `infra` fixture, with a NATS server for the whole module."""
    nats = devstack.start_nats(devstack.free_port(), tmp_path_factory.mktemp("portal-nats"))
    yield Infra(nats_url=nats.url, temporal_address=temporal_server.address, s3_endpoint=s3_server.endpoint,
                s3_access_key=S3_KEY, s3_secret_key=S3_SECRET, smtp_port=smtp_server.port,
                mail_dir=infra_root / "mail")
    nats.stop()


@contextmanager
def serialized_migrations():
    """Run the services' Alembic upgrades one at a time while a stack starts.

    Alembic's `context` is module-global, and `Stack.start()` migrates every service at
    once in one event loop, so several services' upgrades interleave and break each
    other (reported; to be fixed in shared/infra/migrations.py)."""
    lock = asyncio.Lock()
    upgrade = migrations.upgrade

    async def one_at_a_time(*args, **kwargs):
        async with lock:
            return await upgrade(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(migrations, "upgrade", one_at_a_time)
        yield


@pytest.fixture(scope="module")
async def portal(request, chromium, module_infra, tmp_path_factory):
    """The module's portal: intake alone, or the services a module names in PORTAL_SERVICES."""
    from playwright.async_api import async_playwright

    services = getattr(request.module, "PORTAL_SERVICES", ("intake",))
    tmp = tmp_path_factory.mktemp("portal")
    stack = Stack(infra=module_infra, backend="sqlite", tmp=tmp, services=services,
                  build_kwargs={"intake": {"options": IntakeOptions(review_mode="auditor")}})
    with serialized_migrations():
        await stack.start()
    workers = AsyncExitStack()
    if "audit" not in services:  # reviews wait for a test's signal, as beside the real audit
        await workers.enter_async_context(audit_worker(stack.runtimes["intake"]))
    base_url, server, task = await serve(stack.apps["intake"])
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
    portal = Portal(stack=stack, base_url=base_url, browser=browser, tmp=tmp)
    try:
        yield portal
    finally:
        for context in portal.contexts:
            await context.close()
        await browser.close()
        await playwright.stop()
        server.should_exit = True
        await task
        await workers.aclose()
        await stack.stop()
