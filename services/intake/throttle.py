"""Sign-in throttling with the `limits` library: failed attempts are counted per account
(the email) and per client (its address), in moving windows of growing length, so the wait
grows with the failures (e.g. 5 a minute, then 10 an hour, then 20 a day).

While either is over a limit, sign-in is refused *before* the password is checked — the
right password included — with 429 `rate_limited` and how long to wait. A successful
sign-in clears the account's failures. Storage is in memory by default; several intake
replicas share counters through a storage URI such as `async+redis://host:6379`.
"""

from __future__ import annotations

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from shared.errors import RateLimited
from shared.infra.throttle import seconds_to_wait


class SignInThrottle:
    def __init__(self, *, storage_uri: str, per_account: str, per_client: str) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.per_account: list[RateLimitItem] = parse_many(per_account)
        self.per_client: list[RateLimitItem] = parse_many(per_client)

    def _keys(self, email: str, client: str) -> list[tuple[RateLimitItem, str, str]]:
        account = email.strip().lower()
        return ([(item, "sign-in:account", account) for item in self.per_account]
                + [(item, "sign-in:client", client) for item in self.per_client])

    async def check(self, email: str, client: str) -> None:
        """Refuse while the account or the client has used up an allowance of failures."""
        waits = []
        for item, scope, key in self._keys(email, client):
            if not await self.limiter.test(item, scope, key):
                waits.append(await seconds_to_wait(self.limiter, item, scope, key))
        if waits:
            retry_after = max(waits)
            raise RateLimited(f"Too many failed sign-ins; try again in {retry_after} seconds.",
                              retry_after=retry_after)

    async def failed(self, email: str, client: str) -> None:
        for item, scope, key in self._keys(email, client):
            await self.limiter.hit(item, scope, key)

    async def succeeded(self, email: str) -> None:
        for item, scope, key in self._keys(email, ""):
            if scope == "sign-in:account":
                await self.limiter.clear(item, scope, key)
