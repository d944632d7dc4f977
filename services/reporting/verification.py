"""Checking a report's verification code: for a certified report, the facts a reader
compares with the document in hand (city, cycle, tier, date issued, SHA-256 of the PDF);
for anything else one answer, `NoCertifiedReport`, whatever the reason.

Every look-up runs the same single query on the unique index, a malformed code included
(it looks for a value no report has), so neither the answer, its shape nor its timing
class tells an unknown code from an applicant's report: applicants have no code at all,
and a report without a tier never matches. A certified report's answer also says whether a
later version (a reissue after an appeal) replaced it, and which."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.errors import NoCertifiedReport
from services.reporting.models import Report
from services.reporting.visibility import current_of

PREFIX = "WWC"
# Unambiguous letters and digits (no 0/O, 1/I), grouped for reading aloud.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_LETTERS = 12
_NOT_A_CODE = re.compile(r"[^0-9A-Z]")
_VALID = re.compile(f"^{PREFIX}[{_CODE_ALPHABET}]{{{_LETTERS}}}$")
# Longer input is cut before anything else reads it: codes are 18 characters.
MAX_INPUT = 64


def verification_code() -> str:
    """A new code for a certified report: WWC-XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_LETTERS))
    return f"{PREFIX}-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_code(raw: str) -> str | None:
    """The canonical form (`WWC-XXXX-XXXX-XXXX`) of a code as a person may type it (any
    case, spaces or dashes anywhere, the prefix optional), or None if it cannot be one."""
    letters = _NOT_A_CODE.sub("", raw[:MAX_INPUT].upper())
    if len(letters) == _LETTERS:
        letters = PREFIX + letters
    if not _VALID.match(letters):
        return None
    body = letters[len(PREFIX):]
    return f"{PREFIX}-{body[:4]}-{body[4:8]}-{body[8:]}"


class Verified(BaseModel):
    """What a verification confirms about a certified report."""

    code: str
    city: str
    cycle: str
    tier: str
    issued_at: datetime
    language: str  # of the issued PDF, the file the hash is of
    pdf_sha256: str
    # A report reissued after an appeal is a new version with its own code; the earlier
    # version's code still verifies what it was, and says it is superseded.
    version: int = 1
    current: bool = True
    superseded_by_version: int | None = None
    superseded_by_code: str | None = None  # None when the new version certifies no tier
    superseded_on: datetime | None = None


async def verify(session: AsyncSession, raw: str) -> Verified:
    code = normalize_code(raw)
    report = await session.scalar(select(Report).where(Report.verification_code == (code or ""),
                                                       Report.tier.is_not(None)))
    if report is None or not report.pdf_sha256:
        raise NoCertifiedReport("No certified report has this code.")
    newer = await current_of(session, report)
    return Verified(code=report.verification_code, city=report.city_name, cycle=report.cycle, tier=report.tier,
                    issued_at=report.created_at, language=report.language, pdf_sha256=report.pdf_sha256,
                    version=report.version, current=newer is None,
                    superseded_by_version=newer.version if newer else None,
                    superseded_by_code=newer.verification_code if newer and newer.tier else None,
                    superseded_on=newer.created_at if newer else None)
