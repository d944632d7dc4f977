"""The case's trail, exported as JSON (with the chain's verification) or CSV."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from services.audit.cases import service as cases
from services.audit.second_review import service as second_review
from services.audit.trail import service as trail
from services.audit.deps import Staff
from services.audit.errors import BlindReview, NotFound
from services.audit.problems import AUTH, problems
from shared.web.deps import Session

router = APIRouter(tags=["trail"])


@router.get("/cases/{submission_id}/trail", response_model=trail.TrailExport, summary="The case's trail (JSON)",
            description="Every action on the case, oldest first: who, what, before, after, why, when, each record "
                        "chained to the previous and sealed with HMAC-SHA256 under the trail key its `key_id` "
                        "names (kept outside audit's database). `verification` says whether the chain is intact "
                        "(an edited, removed, inserted or resealed record is named in `problems`); each new head "
                        "is also published as `wwc.audit.trail.checkpointed`.",
            responses=problems(*AUTH, NotFound, BlindReview))
async def trail_json(submission_id: str, principal: Staff, session: Session) -> trail.TrailExport:
    case = await cases.by_submission(session, submission_id)
    second_review.ensure_not_blind(case, principal)
    return await trail.export(session, case.id, case.submission_id)


@router.get("/cases/{submission_id}/trail.csv", summary="The case's trail (CSV)",
            response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one row per record; header "
                             "`X-Trail-Verified: true|false`"}, **problems(*AUTH, NotFound, BlindReview)})
async def trail_csv(submission_id: str, principal: Staff, session: Session) -> Response:
    case = await cases.by_submission(session, submission_id)
    second_review.ensure_not_blind(case, principal)
    data = await trail.export(session, case.id, case.submission_id)
    return Response(trail.to_csv(data), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="trail-{case.submission_id}.csv"',
        "X-Trail-Verified": "true" if data.verification.ok else "false"})
