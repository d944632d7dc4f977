"""The two consoles of notify on the shared page machinery: `/booking` for a city's staff
(book, move, cancel or decline the debrief call; mail preferences) and `/slots` for
auditors (publish slots, see bookings, move or cancel a call, record its outcome)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends

from services.notify import domain
from services.notify.debriefs.service import DebriefConfig
from shared.infra.auth import Role
from shared.web.nav import AUDITOR_NAV
from shared.web.pages import Console, NavItem, Page, signed_in

HERE = Path(__file__).parent


def _globals(page: Page) -> dict:
    def local(instant: datetime | None, tz: str = "UTC") -> str:
        return domain.when(instant, tz, page.lang) if instant else ""

    return {"local": local}


BOOKING = Console(
    name="booking", prefix="/booking", templates_dir=HERE / "templates", locales_dir=HERE / "locales",
    home="/booking/", sign_in="/booking/sign-in", roles=(Role.CITY,), service="notify",
    nav=(NavItem("debrief", "/booking/"), NavItem("preferences", "/booking/preferences")), globals=_globals)

SLOTS = Console(
    name="slots", prefix="/slots", templates_dir=HERE / "templates", locales_dir=HERE / "locales",
    home="/slots/", sign_in="/slots/sign-in", roles=(Role.AUDITOR,), service="notify",
    nav=AUDITOR_NAV, globals=_globals)
# Part of the auditor console (its navigation and name); every other string is shared with /booking.
SLOTS.locales = (*SLOTS.locales, HERE / "locales" / "slots")

# A signed-in page of each console (anyone else goes to its sign-in page).
CityPage = Annotated[Page, Depends(signed_in)]
AuditorPage = Annotated[Page, Depends(signed_in)]


def config(page: Page) -> DebriefConfig:
    return page.request.app.state.debrief_config


def after_change(page: Page) -> None:
    page.runtime.wake_relay()
    page.request.app.state.mail_sender.wake()
