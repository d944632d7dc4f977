"""Audit's own options (`WWC_AUDIT_*`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.audit.domain import Keyring, parse_keys

# Published in this repository: anyone could seal a forged trail with it. Development and
# tests only; refused with WWC_ENV=production (`main.build`).
DEV_TRAIL_KEYS = "dev=dev-only-trail-key-change-me-0123456789"


class AuditOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WWC_AUDIT_", extra="ignore")
    # A case is due this long after it opens (the clock stops while a clarification round
    # is open: the workflow moves the due date by the round's length).
    review_sla_days: float = Field(default=21, gt=0)
    # An appeal is decided (and signed off) within this many days of being opened.
    appeal_sla_days: float = Field(default=14, gt=0)
    # The holder is reminded this long before the due date; operators are told once it passes.
    remind_before_days: float = Field(default=2, ge=0)
    # Clarification rounds per case, and how long the city has to answer one.
    max_clarification_rounds: int = Field(default=2, ge=0)
    round_days: float = Field(default=10, gt=0)
    min_round_days: float = Field(default=1, gt=0)
    max_round_days: float = Field(default=30, gt=0)
    # Evidence shown in the console is fetched through intake's short-lived link and
    # checked against the manifest's hash before it is shown; larger files are refused.
    preview_max_mb: float = Field(default=50, gt=0)
    # The keys that seal the trail (HMAC-SHA256), kept outside audit's database: `id=secret`
    # pairs, oldest first, in WWC_AUDIT_TRAIL_KEYS or in the file WWC_AUDIT_TRAIL_KEY_FILE
    # (a mounted secret; one pair a line). New records use the newest key; to rotate, append a
    # key and keep the old ones, which the records they sealed still name.
    trail_keys: str = ""
    trail_key_file: Path | None = None
    # Calibration: this share of cases is picked, when opened, for a blind second review
    # (reproducibly: the same seed picks the same submissions, `domain.picked_for_double_review`).
    # Off unless the programme sets it (e.g. 0.1): a sampled case cannot be signed off before its
    # second review. `make run` sets 1 (every case: the demo's auditors perform the second review).
    double_review_share: float = Field(default=0.0, ge=0, le=1)
    double_review_seed: str = Field(default="wwc-calibration", min_length=1)
    # Criteria whose agreement (Cohen's kappa) on the double-reviewed sample is below this are flagged.
    agreement_threshold: float = Field(default=0.6, ge=-1, le=1)
    # Bootstrap confidence intervals: resamples of the sample's cases, from a fixed seed.
    bootstrap_resamples: int = Field(default=1000, ge=100, le=20000)
    bootstrap_seed: int = 21

    def trail_keyring(self) -> Keyring:
        text = self.trail_keys
        if self.trail_key_file is not None:
            text = "\n".join(filter(None, [text, self.trail_key_file.read_text()]))
        return parse_keys(text or DEV_TRAIL_KEYS)

    @property
    def trail_keys_are_development(self) -> bool:
        return not (self.trail_keys or self.trail_key_file) or "change-me" in self.trail_keys

    @property
    def review_sla(self) -> timedelta:
        return timedelta(days=self.review_sla_days)

    @property
    def appeal_sla(self) -> timedelta:
        return timedelta(days=self.appeal_sla_days)

    @property
    def remind_before(self) -> timedelta:
        return timedelta(days=self.remind_before_days)
