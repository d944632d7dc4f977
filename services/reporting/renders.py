"""Stored reports: renders in any language from the frozen document, kept once made."""

from __future__ import annotations

import asyncio

from services.reporting.models import Report
from services.reporting.rendering import REPORTS_BUCKET
from services.reporting.report import ReportDocument, render_html, render_pdf
from shared.infra.runtime import ServiceRuntime


async def document(runtime: ServiceRuntime, report: Report) -> ReportDocument:
    store = runtime.storage
    assert store is not None
    raw = await store.get_bytes(store.bucket(REPORTS_BUCKET), report.object_key)
    return ReportDocument.model_validate_json(raw)


async def rendered(runtime: ServiceRuntime, report: Report, lang: str, kind: str) -> bytes:
    """The report as `kind` (html | pdf) in `lang`: the stored render, or one made now from
    the same frozen document (the numbers cannot differ) and stored for next time."""
    store = runtime.storage
    assert store is not None
    bucket = store.bucket(REPORTS_BUCKET)
    key = report.object_key.replace("document.json", f"report-{lang}.{kind}")
    if await store.exists(bucket, key):
        return await store.get_bytes(bucket, key)
    doc = await document(runtime, report)
    if kind == "pdf":
        data = await asyncio.to_thread(render_pdf, doc, lang)
        content_type = "application/pdf"
    else:
        data = (await asyncio.to_thread(render_html, doc, lang)).encode()
        content_type = "text/html; charset=utf-8"
    try:
        await store.put_bytes(bucket, key, data, content_type=content_type)
    except Exception:  # another request stored the same render meanwhile: same content
        pass
    return data
