"""Throttling verification look-ups over the platform's one throttle interface
(`shared.infra.throttle`, as intake throttles sign-in): every look-up counts against its
client address in moving windows of growing length (e.g. 30 a minute, 300 an hour, 1000 a
day). Past any of them the look-up is refused *before* the code is read, with 429
`rate_limited` and how long to wait, so a refusal says nothing about the code either."""

from __future__ import annotations

from services.reporting.errors import RateLimited
from shared.infra.throttle import Throttle, parse

SCOPE = "verify:client"


class LookupThrottle:
    def __init__(self, throttle: Throttle, *, per_client: str) -> None:
        self.throttle = throttle
        self.per_client = parse(per_client)

    async def hit(self, client: str) -> None:
        """Count one look-up by `client`, or refuse it (RateLimited) when over a limit."""
        retry_after = await self.throttle.hit(self.per_client, SCOPE, client)
        if retry_after:
            raise RateLimited(f"Too many verification look-ups; try again in {retry_after} seconds.",
                              retry_after=retry_after)
