"""Intake's throttles, over the platform's one throttle interface (`shared.infra.throttle`).

**Sign-in: growing delays, never a lockout.** Failures are counted per (account, client)
pair: after a few free ones, each further failure makes that pair wait twice as long
(2 s, 4 s, 8 s, ... at most 15 minutes by default) before sign-in is even tried — the right
password included, 429 `rate_limited` with `Retry-After`. The account's owner signing in
from another client is not slowed at all, so nobody can lock an auditor out by failing on
their address; and a client that fails on many accounts is stopped by its own windows
(`per_client`). A success clears the pair.

**Registration and invitations** (each mails a stranger's address) are counted per address
and per client in moving windows; past one, 429 `rate_limited` before any work is done.
"""

from __future__ import annotations

from services.intake.config import IntakeOptions
from shared.errors import RateLimited
from shared.infra.throttle import Throttle, parse


class SignInThrottle:
    def __init__(self, throttle: Throttle, options: IntakeOptions) -> None:
        self.throttle, self.options = throttle, options
        self.per_client = parse(options.sign_in_limits_per_client)

    @staticmethod
    def _pair(email: str, client: str) -> tuple[str, str, str]:
        return "sign-in:pair", email.strip().lower(), client

    async def check(self, email: str, client: str) -> None:
        """Refuse while this client is over its windows or this (account, client) waits."""
        waits = [w for w in (await self.throttle.over(self.per_client, "sign-in:client", client),
                             await self.throttle.delay(*self._pair(email, client))) if w]
        if waits:
            retry_after = max(waits)
            raise RateLimited(f"Too many failed sign-ins; try again in {retry_after} seconds.",
                              retry_after=retry_after)

    async def failed(self, email: str, client: str) -> None:
        await self.throttle.hit(self.per_client, "sign-in:client", client)
        o = self.options
        await self.throttle.fail(*self._pair(email, client), free=o.sign_in_free_failures,
                                 base_seconds=o.sign_in_delay_seconds, most_seconds=o.sign_in_delay_max_seconds)

    async def succeeded(self, email: str, client: str) -> None:
        await self.throttle.forget(*self._pair(email, client))


class RegistrationThrottle:
    """Registrations and invitations, per address asked for and per client asking."""

    def __init__(self, throttle: Throttle, options: IntakeOptions) -> None:
        self.throttle = throttle
        self.per_address = parse(options.registration_limits_per_address)
        self.per_client = parse(options.registration_limits_per_client)

    async def hit(self, email: str, client: str) -> None:
        waits = [w for w in (await self.throttle.over(self.per_address, "registration:address", email.lower()),
                             await self.throttle.over(self.per_client, "registration:client", client)) if w]
        if waits:
            retry_after = max(waits)
            raise RateLimited(f"Too many registrations or invitations; try again in {retry_after} seconds.",
                              retry_after=retry_after)
        await self.throttle.hit(self.per_address, "registration:address", email.lower())
        await self.throttle.hit(self.per_client, "registration:client", client)
