"""Notify's own options (`WWC_NOTIFY_*`); the relay itself is `shared.infra.settings.SmtpSettings`."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifyOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WWC_NOTIFY_", extra="ignore")
    # How long a city may book its debrief call after the offer.
    offer_window_days: float = 30
    # A call is booked (or moved) at least this long before it starts.
    min_notice_minutes: float = 60
    # Sending: a mail that fails is retried after a doubling delay and parked for an
    # operator after `max_attempts`.
    max_attempts: int = 8
    retry_backoff_seconds: float = 30
    retry_backoff_max_seconds: float = 3600
    # A mail taken by a sender that then died is taken again after this long (the relay
    # may have accepted it: the copy carries the same Message-ID).
    claim_seconds: float = 120
    batch_size: int = 20
    # The sender looks for due mail at least this often (it is also woken on new mail).
    poll_seconds: float = 5
    # Mail anyone can cause without signing in (a registration's confirmation link, the note
    # that an address has an account already) reaches one address at most this often per
    # hour; past it the mail is not recorded (logged): no one can flood a stranger's inbox.
    address_mail_per_hour: int = 5
