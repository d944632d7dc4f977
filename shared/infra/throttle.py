"""What the services' throttles (`limits` moving windows) share: how long a caller over a
limit must wait, as the `Retry-After` of the 429 they answer."""

from __future__ import annotations

import time

from limits import RateLimitItem
from limits.aio.strategies import MovingWindowRateLimiter


async def seconds_to_wait(limiter: MovingWindowRateLimiter, item: RateLimitItem, *identifiers: str) -> int:
    """Whole seconds until `item`'s window for these identifiers lets one more through (at least 1)."""
    stats = await limiter.get_window_stats(item, *identifiers)
    return max(1, int(stats.reset_time - time.time()) + 1)
