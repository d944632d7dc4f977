"""A staff member's own settings: the time zone the console shows (and reads) times in.
Intake holds people, so the page writes through intake's API with the person's token;
audit and notify learn the choice from `user.updated`."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from services.audit.console.console import AUDIT, StaffPage
from services.audit.models import Staff
from shared.catalog.timezones import resolve_zone, zone_choices
from shared.errors import NotFound
from shared.web.intake_api import IntakeApi
from shared.web.pages import FieldError, Page

router = AUDIT.router()


async def render(page: Page, *, value: str | None = None, errors: list[FieldError] | None = None,
                 status_code: int = 200) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        chosen = await session.scalar(select(Staff.timezone).where(Staff.user_id == page.principal.sub))
    try:
        mine = (await IntakeApi(page).get("/api/v1/me"))["user"].get("timezone")
    except NotFound:  # an account intake no longer has: what audit last heard
        mine = None
    current = value if value is not None else (mine or chosen or "")
    return page.render("settings.html", status_code=status_code, title=page.t("settings.title"), nav="settings",
                       zones=zone_choices(page.lang, current=current or None), value=current, errors=errors or [])


@router.get("/settings")
async def settings_page(page: StaffPage) -> HTMLResponse:
    return await render(page)


@router.post("/settings")
async def save(page: StaffPage) -> Response:
    form = await page.form()
    typed = str(form.get("timezone", "")).strip()
    zone = resolve_zone(typed, page.lang)
    if zone is None:
        return await render(page, value=typed, status_code=422,
                            errors=[FieldError("timezone", page.t("settings.errors.timezone"))])
    r = await IntakeApi(page).call("PATCH", "/api/v1/me", json={"timezone": zone})
    if r.status_code != 200:
        IntakeApi.problem(r)
        return await render(page, value=typed, status_code=r.status_code,
                            errors=[FieldError("timezone", page.t("settings.errors.timezone"))])
    # Shown at once (the directory follows from intake's event too; the same value).
    async with page.runtime.db.transaction() as session:
        staff = await session.get(Staff, page.principal.sub)
        if staff is not None:
            staff.timezone = zone
    return page.redirect("/audit/settings", done="settings_saved")
