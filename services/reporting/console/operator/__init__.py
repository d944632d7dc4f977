"""The operator console `/operator`: the live pipeline (counts per stage and cycle, what
waits longest and for whom, reviews past due, failing steps, the workflow engine's
problems, parked messages of every service with replay, mail failures) and each
submission's timeline. Operators only; updated live (server-sent events) while open."""

from __future__ import annotations

from fastapi import APIRouter

from services.reporting.console.operator import city_facts, pages
from services.reporting.console.operator.console import OPERATOR
from shared.web.signin import sign_in_router

router = APIRouter()
router.include_router(OPERATOR.router(assets=True))
router.include_router(sign_in_router(OPERATOR))
router.include_router(pages.router)
router.include_router(city_facts.router)

__all__ = ["OPERATOR", "router"]
