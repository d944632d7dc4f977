"""Evidence: files streamed to storage, links, the list, short-lived download links,
removal while in draft."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from services.intake import drafts, evidence
from services.intake.api.docs import AUTH, problems
from services.intake.deps import CurrentCity, Cycle, OpenCycle, Options
from services.intake.errors import FileRejected, NotFound
from shared.infra.auth import CurrentPrincipal
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["evidence"])

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "Either `multipart/form-data` with the file in the field `file` (and an optional `title`), "
                       "or the raw file as the body with its `Content-Type` and `X-Filename` headers (optional "
                       "`X-Title`). Both are streamed to storage, never held whole in memory.",
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary"}, "title": {"type": "string"}}}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    },
}
UPLOAD_DESCRIPTION = (
    "Streams the file to object storage under a server-generated key and records its SHA-256, size and "
    "type. The type is sniffed from the content (PDF, DOCX, XLSX, CSV, PNG, JPEG, TXT) and must agree with "
    "the file name's extension. Limits: `max_file_mb` per file, `max_submission_mb` per submission. A refused "
    "file leaves nothing behind; `code` says why (`file_too_large`, `submission_size_limit`, "
    "`file_type_not_accepted`, `file_content_mismatch`, `file_empty`, `file_missing`, `upload_malformed`, "
    "`file_unsafe`: an office document with macros, executables, nested archives or a zip-bomb shape; "
    "`file_polyglot`: a file that is two formats at once)."
)
UPLOAD_ERRORS = (*AUTH, NotFound, FileRejected, "assessment_locked")


@router.post("/assessments/{cycle}/criteria/{criterion_id}/files", status_code=status.HTTP_201_CREATED,
             response_model=drafts.EvidenceRead, summary="Upload an evidence file",
             description=UPLOAD_DESCRIPTION, openapi_extra=UPLOAD_BODY,
             responses=problems(*UPLOAD_ERRORS, "invalid_cycle"))
async def upload_file(cycle: OpenCycle, criterion_id: str, principal: CurrentCity, runtime: Runtime, options: Options,
                      request: Request) -> drafts.EvidenceRead:
    ev = await evidence.add_file(runtime, options, principal, cycle, criterion_id, request)
    return drafts.EvidenceRead.model_validate(ev)


@router.post("/assessments/{cycle}/criteria/{criterion_id}/links", status_code=status.HTTP_201_CREATED,
             response_model=drafts.EvidenceRead, summary="Add a link as evidence",
             responses=problems(*AUTH, NotFound, "assessment_locked", "invalid_cycle", "invalid_input"))
async def add_link(cycle: OpenCycle, criterion_id: str, data: evidence.LinkCreate, principal: CurrentCity,
                   runtime: Runtime) -> drafts.EvidenceRead:
    async with runtime.db.transaction() as session:
        ev = await evidence.add_link(session, principal, cycle, criterion_id, data)
        return drafts.EvidenceRead.model_validate(ev)


@router.get("/assessments/{cycle}/evidence", response_model=list[drafts.EvidenceRead],
            summary="List the assessment's evidence", responses=problems(*AUTH, NotFound, "invalid_cycle"))
async def list_evidence(cycle: Cycle, principal: CurrentCity, session: Session,
                        criterion_id: str | None = None) -> list[drafts.EvidenceRead]:
    items = await evidence.list_for_draft(session, principal, cycle, criterion_id)
    return [drafts.EvidenceRead.model_validate(e) for e in items]


@router.get("/evidence/{evidence_id}/link", response_model=evidence.DownloadLink,
            summary="A short-lived download link for a file",
            description="The link carries a signed token and works without sign-in until `expires_at` "
                        "(`download_link_minutes`); then it answers 410 `download_link_expired`.",
            responses=problems(*AUTH, NotFound, "not_a_file"))
async def evidence_link(evidence_id: str, principal: CurrentPrincipal, runtime: Runtime, options: Options,
                        request: Request) -> evidence.DownloadLink:
    return await evidence.download_link(runtime, options, principal, evidence_id, str(request.base_url))


@router.get("/evidence/{evidence_id}/download", summary="Download a file (signed link)",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file, streamed"},
                       **problems(NotFound, "download_link_invalid", "download_link_expired", "invalid_input")})
async def download(evidence_id: str, runtime: Runtime, token: str = Query(max_length=2000)) -> StreamingResponse:
    ev, chunks = await evidence.open_download(runtime, evidence_id, token)
    name = ev.filename or "evidence"
    return StreamingResponse(chunks, media_type=ev.content_type or "application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "Content-Length": str(ev.size), "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
    })


@router.delete("/evidence/{evidence_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove evidence while in draft (the stored file too)",
               responses=problems(*AUTH, NotFound, "assessment_locked", "clarification_answered"))
async def remove_evidence(evidence_id: str, principal: CurrentCity, runtime: Runtime) -> Response:
    await evidence.remove(runtime, principal, evidence_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
