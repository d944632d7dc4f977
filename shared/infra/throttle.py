"""The services' one throttle interface: `Throttle`, over a counter store from the `limits`
library, named by one setting for every service (`WWC_THROTTLE_STORAGE`, see
`platform_throttle`): in memory by default; replicas share counters through a storage URI
such as `async+redis://host:6379`. Everything a service throttles goes through these few
calls, so moving the counters to a shared store changes the URI, not the callers:

- `hit(items, *key)`: count one request against moving windows (`limits` notation, e.g.
  "3/minute;10/hour"); the seconds to wait when one of them is used up (nothing counted);
- `over(items, *key)`: the same test without counting;
- `fail(*key, ...)` / `delay(*key)` / `forget(*key)`: growing delays after failures (free
  failures first, then a delay that doubles per failure up to a cap);
- `seconds_to_wait`: the `Retry-After` of a 429.

A store that cannot be reached (a shared Redis down) makes each of these raise
`Unavailable` (503 with `Retry-After`), as a database outage does, rather than a 500.
"""

from __future__ import annotations

import functools
import time

from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from shared.errors import Unavailable
from shared.infra.settings import CommonSettings

DAY = 24 * 3600


def parse(limits: str) -> list[RateLimitItem]:
    """Windows in `limits` notation, ';'-separated (e.g. "3/minute;10/hour")."""
    return parse_many(limits) if limits.strip() else []


async def seconds_to_wait(limiter: MovingWindowRateLimiter, item: RateLimitItem, *identifiers: str) -> int:
    """Whole seconds until `item`'s window for these identifiers lets one more through (at least 1)."""
    stats = await limiter.get_window_stats(item, *identifiers)
    return max(1, int(stats.reset_time - time.time()) + 1)


def _store_reached(method):
    @functools.wraps(method)
    async def guarded(*args, **kwargs):
        try:
            return await method(*args, **kwargs)
        except StorageError as exc:
            raise Unavailable("The throttle's store cannot be reached now; try again shortly.", retry_after=5) from exc

    return guarded


def platform_throttle() -> Throttle:
    """The throttle of a service's process: its counters where `WWC_THROTTLE_STORAGE` says."""
    return Throttle(CommonSettings().throttle_storage)


class Throttle:
    def __init__(self, storage_uri: str = "async+memory://") -> None:
        # Errors of the store arrive as StorageError (`_store_reached` turns them into 503s).
        self.storage = storage_from_string(storage_uri, wrap_exceptions=True)
        self.limiter = MovingWindowRateLimiter(self.storage)

    @staticmethod
    def _key(*parts: str) -> str:
        return "wwc-throttle/" + "/".join(p.replace("/", "%2F") for p in parts)

    @_store_reached
    async def hit(self, items: list[RateLimitItem], *key: str) -> int | None:
        """Count one against every window; None, or the seconds to wait when a window is used up."""
        waits = []
        for item in items:
            if not await self.limiter.test(item, *key):
                waits.append(await seconds_to_wait(self.limiter, item, *key))
        if waits:
            return max(waits)
        for item in items:
            await self.limiter.hit(item, *key)
        return None

    @_store_reached
    async def over(self, items: list[RateLimitItem], *key: str) -> int | None:
        """None, or the seconds to wait when a window is used up (nothing counted)."""
        waits = [await seconds_to_wait(self.limiter, item, *key)
                 for item in items if not await self.limiter.test(item, *key)]
        return max(waits) if waits else None

    @_store_reached
    async def clear(self, items: list[RateLimitItem], *key: str) -> None:
        for item in items:
            await self.limiter.clear(item, *key)

    @_store_reached
    async def fail(self, *key: str, free: int, base_seconds: float, most_seconds: float,
                   memory_seconds: int = DAY) -> int:
        """Count a failure for `key` (remembered `memory_seconds` after the first); past
        `free` failures, block it for `base_seconds` doubled per further failure, at most
        `most_seconds`. Returns the delay set (0: none)."""
        failures = await self.storage.incr(self._key("failures", *key), memory_seconds)
        if failures <= free:
            return 0
        delay = int(min(most_seconds, base_seconds * 2 ** (failures - free - 1)))
        if delay > 0:
            blocked = self._key("blocked", *key)
            await self.storage.clear(blocked)
            await self.storage.incr(blocked, delay)
        return delay

    @_store_reached
    async def delay(self, *key: str) -> int:
        """Seconds `key` is still blocked for (0: not blocked)."""
        blocked = self._key("blocked", *key)
        if not await self.storage.get(blocked):
            return 0
        return max(1, int(await self.storage.get_expiry(blocked) - time.time()) + 1)

    @_store_reached
    async def forget(self, *key: str) -> None:
        """A success: the failures and any delay of `key` are gone."""
        await self.storage.clear(self._key("failures", *key))
        await self.storage.clear(self._key("blocked", *key))
