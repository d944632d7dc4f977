"""Throttling verification look-ups with the `limits` library (as intake throttles sign-in):
every look-up counts against its client address in moving windows of growing length
(e.g. 30 a minute, 300 an hour, 1000 a day). Past any of them the look-up is refused
*before* the code is read, with 429 `rate_limited` and how long to wait, so a refusal
says nothing about the code either."""

from __future__ import annotations

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from services.reporting.errors import RateLimited
from shared.infra.throttle import seconds_to_wait

SCOPE = "verify:client"


class LookupThrottle:
    def __init__(self, *, storage_uri: str, per_client: str) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.per_client: list[RateLimitItem] = parse_many(per_client)

    async def hit(self, client: str) -> None:
        """Count one look-up by `client`, or refuse it (RateLimited) when over a limit."""
        waits = []
        for item in self.per_client:
            if not await self.limiter.hit(item, SCOPE, client):
                waits.append(await seconds_to_wait(self.limiter, item, SCOPE, client))
        if waits:
            retry_after = max(waits)
            raise RateLimited(f"Too many verification look-ups; try again in {retry_after} seconds.",
                              retry_after=retry_after)
