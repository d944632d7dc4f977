"""The evidence of a case, as audit knows it: the manifest frozen with the submission plus
what the city sent in clarification rounds (each item with its key, size and SHA-256).

Files stay in intake's bucket. A file opens through intake's short-lived authorised link,
asked for on the auditor's behalf with the auditor's own token (intake decides who may
see it); the console then fetches it through that link, checks it against the manifest's
size and SHA-256, and shows PDFs and images in the page (same origin, no scripts).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx
from pydantic import BaseModel

from services.audit.errors import EvidenceMismatch, EvidenceTooLarge, EvidenceUnavailable, NotFound
from services.audit.models import ClarificationRound, ReviewCase
from shared.contracts.submission import EvidenceItem
from shared.infra.logging import get_logger

log = get_logger(__name__)

# Shown in the page; anything else is offered as a download.
PREVIEWABLE = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image"}


class EvidenceView(BaseModel):
    id: str
    criterion_id: str
    kind: str
    filename: str | None = None
    title: str = ""
    url: str | None = None
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    # The clarification round that brought it (None: sent with the submission).
    round: int | None = None

    @property
    def preview(self) -> str | None:
        return PREVIEWABLE.get(self.content_type or "") if self.kind == "file" else None

    @property
    def fingerprint(self) -> str:
        """What a decision records of it: the file's SHA-256, or the link's address."""
        return self.sha256 or self.url or ""


def _view(item: EvidenceItem | dict, round_number: int | None) -> EvidenceView:
    data = item.model_dump(mode="json") if isinstance(item, EvidenceItem) else dict(item)
    return EvidenceView(**{k: data.get(k) for k in ("id", "criterion_id", "kind", "filename", "url", "size",
                                                    "sha256", "content_type")},
                        title=data.get("title") or "", round=round_number)


def of_case(case: ReviewCase, rounds: Iterable[ClarificationRound] = ()) -> list[EvidenceView]:
    out = [_view(e, None) for e in (case.submission or {}).get("evidence", [])]
    for r in sorted(rounds, key=lambda r: r.number):
        for cid, answer in (r.answers or {}).items():
            for e in answer.get("evidence", []):
                out.append(_view({**e, "criterion_id": e.get("criterion_id") or cid}, r.number))
    return out


def by_criterion(items: Iterable[EvidenceView]) -> dict[str, list[EvidenceView]]:
    out: dict[str, list[EvidenceView]] = {}
    for e in items:
        out.setdefault(e.criterion_id, []).append(e)
    return out


def find(items: Iterable[EvidenceView], evidence_id: str) -> EvidenceView:
    for e in items:
        if e.id == evidence_id:
            return e
    raise NotFound(f"no evidence {evidence_id} in this case")


# --- links and files, through intake ---------------------------------------------------------


class EvidenceLink(BaseModel):
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class IntakeFiles:
    """Intake's evidence API (its base URL and, in tests, an in-process transport)."""

    base_url: str
    transport: httpx.AsyncBaseTransport | None = None

    @classmethod
    def of(cls, identity) -> IntakeFiles:
        """Where the console asks for tokens is intake's API: the same place serves links."""
        return cls(identity.base_url, identity.transport)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, transport=self.transport, timeout=30)

    async def link(self, item: EvidenceView, token: str) -> EvidenceLink:
        if item.kind != "file":
            raise NotFound("This evidence is a link: open its address directly.")
        try:
            async with self.client() as http:
                r = await http.get(f"/api/v1/evidence/{item.id}/link", headers={"authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise EvidenceUnavailable("Intake cannot be reached for the file's link.") from exc
        if r.status_code == 200:
            return EvidenceLink.model_validate(r.json())
        if r.status_code == 404:
            raise NotFound("Intake no longer has this file.")
        log.warning("evidence.link_refused", evidence_id=item.id, status=r.status_code)
        raise EvidenceUnavailable(f"Intake answered {r.status_code} for the file's link.")

    async def fetch(self, item: EvidenceView, token: str, *, max_bytes: int) -> tempfile.SpooledTemporaryFile:
        """The file through a fresh link, checked against the manifest (size, SHA-256):
        a spool positioned at its start. Refused if it is not the file the city submitted."""
        if item.size is not None and item.size > max_bytes:
            raise EvidenceTooLarge(f"The file is larger than {max_bytes // (1024 * 1024)} MB: download it instead.")
        link = await self.link(item, token)
        spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
        digest, size = hashlib.sha256(), 0
        try:
            async with self.client() as http, http.stream("GET", link.url) as r:
                if r.status_code != 200:
                    raise EvidenceUnavailable(f"Intake answered {r.status_code} for the file.")
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise EvidenceTooLarge("The file is larger than the preview limit.")
                    digest.update(chunk)
                    spool.write(chunk)
        except httpx.HTTPError as exc:
            spool.close()
            raise EvidenceUnavailable("Intake cannot be reached for the file.") from exc
        except BaseException:
            spool.close()
            raise
        if (item.sha256 and digest.hexdigest() != item.sha256) or (item.size is not None and size != item.size):
            spool.close()
            log.error("evidence.mismatch", evidence_id=item.id, expected=item.sha256, got=digest.hexdigest())
            raise EvidenceMismatch("The stored file is not the one in the submission's manifest.",
                                   evidence_id=item.id)
        spool.seek(0)
        return spool


def chunks(spool, size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while block := spool.read(size):
            yield block
    finally:
        spool.close()
