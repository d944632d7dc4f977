"""Evidence: files streamed to object storage under a server-generated key, links, the
list, short-lived authorised download links, and removal while in draft.

A file is first received into a spool (see `uploads`), its type sniffed and checked,
the per-submission limit checked, then stored (never overwriting a key) and only then
recorded; if anything fails after the object was written, the object is removed, so a
refused upload leaves neither an object nor a row.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import domain, drafts, uploads
from services.intake.activities import EVIDENCE_BUCKET
from services.intake.config import IntakeOptions
from services.intake.domain import AssessmentState
from services.intake.errors import (
    AssessmentLocked,
    ClarificationAnswered,
    DownloadLinkExpired,
    DownloadLinkInvalid,
    Forbidden,
    NotAFile,
    NotFound,
)
from services.intake.models import Assessment, ClarificationAnswer, Evidence, Submission
from shared.catalog.loader import load_catalog
from shared.contracts.text import SingleLine, strip_controls
from shared.contracts.vocabulary import EvidenceKind
from shared.infra.auth import Principal, Role
from shared.infra.orm import utcnow
from shared.infra.logging import get_logger
from shared.infra.runtime import ServiceRuntime
from shared.infra.settings import AuthSettings

log = get_logger(__name__)

DOWNLOAD_AUDIENCE = "wwc-evidence-download"
MB = domain.MB


class LinkCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url": "https://data.springfield.gov/inventory", "title": "Published data inventory",
    }]})

    url: HttpUrl = Field(description="an http or https address")
    title: SingleLine = Field(default="", max_length=300)


class DownloadLink(BaseModel):
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Target:
    """Where a file goes: an assessment's criterion (and a clarification round, if any)."""

    assessment_id: str
    city_id: str
    cycle: str
    criterion_id: str
    clarification_id: str | None = None


def _bucket(rt: ServiceRuntime) -> str:
    assert rt.storage is not None, "intake runs with object storage"
    return rt.storage.bucket(EVIDENCE_BUCKET)


def max_file_bytes(opts: IntakeOptions) -> int:
    return int(opts.max_file_mb * MB)


# --- targets (checked before the body is read) ---------------------------------------------


async def draft_target(session: AsyncSession, principal: Principal, cycle: str, criterion_id: str) -> Target:
    assessment = await drafts.get(session, principal.city_id or "", cycle)
    drafts.ensure_draft(assessment)
    drafts.check_criterion(load_catalog(assessment.catalog_version), criterion_id)
    return Target(assessment.id, assessment.city_id, assessment.cycle, criterion_id)


# --- files ----------------------------------------------------------------------------------


async def store_file(rt: ServiceRuntime, opts: IntakeOptions, target: Target, upload: uploads.SpooledUpload,
                     *, user_id: str, title: str = "",
                     recheck=None) -> Evidence:
    """Check, store and record one received file.

    `recheck(session)` runs inside the recording transaction (after the object is
    stored) to re-validate the target, e.g. that the draft was not submitted meanwhile."""
    ftype = uploads.validate(upload)
    limit = int(opts.max_submission_mb * MB)
    async with rt.db.sessionmaker() as session:
        before = await session.get(Assessment, target.assessment_id)
    if before is None:
        raise NotFound("the assessment no longer exists")
    domain.check_quota(before.evidence_bytes, upload.size, limit)  # early, before storing anything

    store = rt.storage
    assert store is not None
    bucket = _bucket(rt)
    ext = ftype.extensions[0]
    key = f"{target.city_id}/{target.cycle}/{target.criterion_id}/{uuid.uuid4().hex}{ext}"
    stored = await store.put_file(bucket, key, upload.file, content_type=ftype.content_type,
                                  metadata={"criterion": target.criterion_id})
    try:
        if stored.sha256 != upload.sha256 or stored.size != upload.size:
            raise RuntimeError("the stored object differs from the received file")
        async with rt.db.transaction() as session:
            await _reserve(session, target.assessment_id, upload.size, limit)
            assessment = await session.get(Assessment, target.assessment_id, populate_existing=True)
            assert assessment is not None
            if recheck is not None:
                await recheck(session, assessment)
            ev = Evidence(
                assessment_id=target.assessment_id, criterion_id=target.criterion_id, kind=EvidenceKind.FILE,
                filename=upload.filename[:255], object_key=key, size=upload.size, sha256=upload.sha256,
                content_type=ftype.content_type,
                title=strip_controls(title or upload.fields.get("title", ""))[:300],
                clarification_id=target.clarification_id, uploaded_by=user_id,
            )
            session.add(ev)
            assessment.updated_at = ev.created_at = datetime.now(UTC)
    except BaseException:
        await _remove_object(rt, key)
        raise
    return ev


async def _reserve(session: AsyncSession, assessment_id: str, size: int, limit: int) -> None:
    """Count a file's bytes against its submission's limit in one conditional UPDATE: the
    check and the write are atomic on every backend, so parallel uploads into the last
    free megabyte never pass the limit together (a read-then-write raced on SQLite, whose
    row lock is a no-op). It runs in the transaction that records the file: nothing to undo."""
    reserved = await session.execute(
        update(Assessment)
        .where(Assessment.id == assessment_id, Assessment.evidence_bytes + size <= limit)
        .values(evidence_bytes=Assessment.evidence_bytes + size)
        .execution_options(synchronize_session=False))
    if reserved.rowcount == 1:
        return
    current = await session.get(Assessment, assessment_id, populate_existing=True)
    if current is None:
        raise NotFound("the assessment no longer exists")
    domain.check_quota(current.evidence_bytes, size, limit)
    raise AssertionError("the reservation failed although the quota allows it")  # pragma: no cover


async def _draft_recheck(session: AsyncSession, assessment: Assessment) -> None:
    drafts.ensure_draft(assessment)


async def add_file(rt: ServiceRuntime, opts: IntakeOptions, principal: Principal, cycle: str,
                   criterion_id: str, request: Request,
                   before_store: Callable[[dict[str, str]], Awaitable[Any]] | None = None) -> Evidence:
    """The whole upload use case for a draft: check the target, stream, store, record.
    `before_store` gets the form's other fields once the file is received and before it is
    stored (the portal saves the answer typed beside the file first)."""
    async with rt.db.sessionmaker() as session:
        target = await draft_target(session, principal, cycle, criterion_id)
    with await uploads.receive(request, max_file_bytes(opts)) as upload:
        if before_store is not None:
            await before_store(dict(upload.fields))
        return await store_file(rt, opts, target, upload, user_id=principal.sub, recheck=_draft_recheck)


async def _remove_object(rt: ServiceRuntime, key: str) -> None:
    try:
        await rt.storage.remove(_bucket(rt), key)  # type: ignore[union-attr]
    except Exception as exc:  # the row is what counts; log the orphan for an operator
        log.warning("evidence.object_not_removed", key=key, error=str(exc)[:200])


# --- links ----------------------------------------------------------------------------------


async def add_link(session: AsyncSession, principal: Principal, cycle: str, criterion_id: str,
                   data: LinkCreate) -> Evidence:
    target = await draft_target(session, principal, cycle, criterion_id)
    ev = Evidence(assessment_id=target.assessment_id, criterion_id=criterion_id, kind=EvidenceKind.LINK,
                  url=str(data.url),
                  title=data.title, uploaded_by=principal.sub, created_at=datetime.now(UTC))
    session.add(ev)
    await session.flush()
    return ev


# --- listing, access, removal ---------------------------------------------------------------


async def list_for_draft(session: AsyncSession, principal: Principal, cycle: str,
                         criterion_id: str | None = None) -> list[Evidence]:
    assessment = await drafts.get(session, principal.city_id or "", cycle)
    stmt = select(Evidence).where(Evidence.assessment_id == assessment.id)
    if criterion_id:
        stmt = stmt.where(Evidence.criterion_id == criterion_id)
    return list((await session.scalars(stmt.order_by(Evidence.criterion_id, Evidence.created_at))).all())


async def visible(session: AsyncSession, principal: Principal, evidence_id: str) -> tuple[Evidence, Assessment]:
    """Evidence the principal may see: its city's own; any for auditors and operators."""
    ev = await session.get(Evidence, evidence_id)
    assessment = await session.get(Assessment, ev.assessment_id) if ev else None
    if ev is None or assessment is None or not principal.can_see_city(assessment.city_id):
        raise NotFound(f"no evidence {evidence_id}")
    return ev, assessment


async def remove(rt: ServiceRuntime, principal: Principal, evidence_id: str) -> None:
    """Remove evidence while its assessment is a draft (or its clarification unanswered);
    a file's object is deleted too."""
    async with rt.db.transaction() as session:
        ev, assessment = await visible(session, principal, evidence_id)
        if principal.role != Role.CITY:
            raise Forbidden("Only the city's staff remove its evidence.")
        freed = ev.size or 0 if ev.kind == EvidenceKind.FILE else 0
        if ev.clarification_id:
            sub = await session.scalar(select(Submission).where(Submission.assessment_id == assessment.id))
            answered = sub is not None and await session.scalar(select(ClarificationAnswer).where(
                ClarificationAnswer.submission_id == sub.id, ClarificationAnswer.request_id == ev.clarification_id))
            if answered:
                raise ClarificationAnswered("Evidence sent with an answered clarification can no longer be removed.")
            await session.execute(update(Assessment).where(Assessment.id == assessment.id)
                                  .values(evidence_bytes=Assessment.evidence_bytes - freed))
        else:
            # Re-check "still a draft" atomically (it takes the row's write lock), so a
            # submit running at the same moment cannot freeze a file removed under it.
            still_draft = await session.execute(
                update(Assessment).where(Assessment.id == assessment.id, Assessment.status == AssessmentState.DRAFT)
                .values(updated_at=utcnow(), evidence_bytes=Assessment.evidence_bytes - freed))
            if still_draft.rowcount != 1:
                raise AssessmentLocked(f"The assessment for cycle {assessment.cycle} is no longer a draft; "
                                       f"its evidence is part of the submission and can no longer be removed.")
        key = ev.object_key
        await session.delete(ev)
    if key:
        await _remove_object(rt, key)


def issue_download(settings: AuthSettings, ev: Evidence, minutes: float) -> tuple[str, datetime]:
    expires = datetime.now(UTC) + timedelta(minutes=minutes)
    token = jwt.encode({"aud": DOWNLOAD_AUDIENCE, "iss": settings.issuer, "eid": ev.id, "exp": expires},
                       settings.secret, algorithm="HS256")
    return token, expires.replace(microsecond=0)


async def download_link(rt: ServiceRuntime, opts: IntakeOptions, principal: Principal, evidence_id: str,
                        base_url: str) -> DownloadLink:
    """A link that streams the file without further sign-in, for a few minutes only."""
    async with rt.db.sessionmaker() as session:
        ev, _ = await visible(session, principal, evidence_id)
    if ev.kind != EvidenceKind.FILE:
        raise NotAFile("This evidence is a link; open its URL directly.", url=ev.url)
    token, expires = issue_download(rt.settings.auth, ev, opts.download_link_minutes)
    return DownloadLink(url=f"{base_url.rstrip('/')}/api/v1/evidence/{ev.id}/download?token={token}",
                        expires_at=expires)


async def open_download(rt: ServiceRuntime, evidence_id: str, token: str) -> tuple[Evidence, AsyncIterator[bytes]]:
    try:
        claims = jwt.decode(token, rt.settings.auth.secret, algorithms=["HS256"], audience=DOWNLOAD_AUDIENCE,
                            issuer=rt.settings.auth.issuer, options={"require": ["exp", "eid"]})
    except jwt.ExpiredSignatureError:
        raise DownloadLinkExpired("This download link has expired; ask for a new one.") from None
    except jwt.InvalidTokenError:
        raise DownloadLinkInvalid("This download link is not valid.") from None
    if claims["eid"] != evidence_id:
        raise DownloadLinkInvalid("This download link is for another file.")
    async with rt.db.sessionmaker() as session:
        ev = await session.get(Evidence, evidence_id)
    if ev is None or not ev.object_key:
        raise NotFound("This file was removed.")
    assert rt.storage is not None
    return ev, rt.storage.stream(_bucket(rt), ev.object_key)
