"""Scoring's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from shared.contracts.events import Subject
from shared.infra.runtime import ServiceRuntime, Settings
from shared.web.app import create_app
from services.scoring import api, subscribers
from services.scoring.activities import ScoringActivities
from services.scoring.problems import ERRORS


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    runtime = ServiceRuntime(settings or Settings.load("scoring"))
    runtime.activities = ScoringActivities(runtime).all()
    runtime.consume(Subject.SCORE_COMPUTED, subscribers.on_score_computed, name="scoring-benchmarks")
    return runtime, create_app(runtime, [api.router], title="WWC Scoring", errors=ERRORS)
