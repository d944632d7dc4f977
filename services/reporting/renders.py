"""Renders of issued reports: made from the frozen document in a worker process, stored
beside it, and served from storage ever after.

At issue the city's own language is rendered (HTML and PDF; the PDF's hash is recorded for
verification). Any other language is rendered on its first request and kept: the same
document and the same renderer give the same bytes, so the numbers cannot differ between
languages and a PDF rendered a year later still matches its hash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from services.reporting.models import Report
from services.reporting.report import ReportDocument, render_stored
from shared.infra.cpu_pool import CpuPool
from shared.infra.storage import ObjectExists, ObjectStore

REPORTS_BUCKET = "reports"
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
# What a worker process imports before its first render (charts, typesetting, strings).
PRELOAD = ["services.reporting.report"]


def keys(cycle: str, city_id: str, submission_id: str, report_id: str) -> dict[str, str]:
    base = f"{cycle}/{city_id}/{submission_id}/{report_id}"
    return {"document": f"{base}/document.json", "html": f"{base}/report-{{lang}}.html",
            "pdf": f"{base}/report-{{lang}}.pdf"}


def render_key(document_key: str, lang: str, kind: str) -> str:
    return document_key.replace("document.json", f"report-{lang}.{kind}")


@dataclass
class Renders:
    """Reporting's renderer: a bounded pool of worker processes and the reports bucket."""

    pool: CpuPool
    store: ObjectStore
    # What a worker process runs (a module-level function: it is sent by name).
    render_fn: Callable[[str, str, tuple[str, ...]], dict[str, bytes]] = render_stored

    @property
    def bucket(self) -> str:
        return self.store.bucket(REPORTS_BUCKET)

    async def render(self, doc: ReportDocument, lang: str, kinds: tuple[str, ...]) -> dict[str, bytes]:
        """The document as each of `kinds` (html, pdf) in `lang`, rendered in a worker process."""
        return await self.pool.run(self.render_fn, doc.model_dump_json(), lang, kinds)

    async def document(self, report: Report) -> ReportDocument:
        raw = await self.store.get_bytes(self.bucket, report.object_key)
        return ReportDocument.model_validate_json(raw)

    async def rendered(self, report: Report, lang: str, kind: str) -> bytes:
        """The report as `kind` (html | pdf) in `lang`: the stored render, or one made now
        and stored for next time."""
        key = render_key(report.object_key, lang, kind)
        if await self.store.exists(self.bucket, key):
            return await self.store.get_bytes(self.bucket, key)
        doc = await self.document(report)
        data = (await self.render(doc, lang, (kind,)))[kind]
        try:
            await self.store.put_bytes(self.bucket, key, data, content_type=CONTENT_TYPES[kind])
        except ObjectExists:
            pass  # another request stored it meanwhile: the same document gives the same bytes
        return data


def renders_of(request: Request) -> Renders:
    return request.app.state.renders
