"""The public verification page (`/verify`, no sign-in): a form for the code printed on a
report, and the answer. A certified report's facts, or one and the same "no certified
report has this code" for anything else (same status, same words): see
`services/reporting/verification.py`. Look-ups are throttled per client."""

from __future__ import annotations

from babel import Locale
from fastapi.responses import HTMLResponse

from services.reporting import verification
from services.reporting.console.console import VERIFY, client_address, throttle_of
from services.reporting.errors import NoCertifiedReport, RateLimited
from shared.web.pages import FieldError, PageContext

router = VERIFY.router()


@router.get("")
async def verify_page(page: PageContext) -> HTMLResponse:
    params = page.request.query_params
    code = params.get("code", "")[:verification.MAX_INPUT]
    context = {"title": page.t("verify.title"), "code": code, "result": None, "nav": "verify",
               "principal": None}  # a public page: no session chrome
    if "code" not in params:
        return page.render("verify.html", **context)
    if not code.strip():
        return page.render("verify.html", status_code=422, **context,
                           errors=[FieldError("code", page.t("verify.errors.empty"))])
    try:
        await throttle_of(page.request).hit(client_address(page))
        async with page.runtime.db.sessionmaker() as session:
            found = await verification.verify(session, code)
    except RateLimited as exc:
        response = page.render("verify.html", status_code=429, **context,
                               errors=[FieldError("code", page.problem(exc))])
        response.headers["retry-after"] = str(exc.params["retry_after"])
        return response
    except NoCertifiedReport:
        return page.render("verify.html", status_code=404, **{**context, "result": "none"})
    return page.render("verify.html", **{**context, "result": "certified"}, verified=found,
                       language_name=Locale.parse(page.lang).languages.get(found.language, found.language))
