"""PTB's AIORateLimiter as the bot's one pacer: every message goes through it, replies first.

Telegram allows about 30 messages a second over all chats, counted over any one second. The
stock limiter is a bucket of 30, so it lets 30 go at once and 30 more as the bucket drains:
up to ~60 in one second, which is how one gets 429s at "30 per second". A bucket of one
(evenly spaced sends) avoids that but loses the event loop's wake-up delay on every slot: at
29/s it measured 35.4 ms between sends instead of 34.5, 2.7% of the budget. So the overall
limiter here is `EvenPace`, an aiolimiter `AsyncLimiter` whose slots sit on a fixed timeline
`1/rate` apart (SEND_RATE_PER_SECOND, 29 by default): a late wake-up does not push the next
slot back, and after a stall the timeline restarts from now instead of catching up in a burst.

Broadcasts and replies share that budget. The outbox sender marks its calls with
`rate_limit_args=NO_RETRY`; they queue for a slot one at a time (`_bulk_turn`), so a reply to
a command waits behind at most one alert, never behind the whole broadcast. They get a 429
back at once: the sender reschedules that one alert and goes on with other chats. Replies
keep their retries (a user is waiting for them), but a retry waits alone: PTB's limiter
pauses *every* request on a 429, which stalled the broadcast for a second and then let the
waiting alerts out in a burst that drew more 429s. NO_RETRY is -1, not 0: PTB's ExtBot
silently drops a falsy `rate_limit_args` before it reaches the limiter.

Paid broadcasts (`allow_paid_broadcast=True`, TELEGRAM_PAID_BROADCAST) use PTB's separate
paid limiter, here a small bucket at just under the Bot API's 1,000 a second, so that even a
burst stays within the limit in any one second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram._utils.types import JSONDict
from telegram.constants import FloodLimit
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

NO_RETRY = -1
DEFAULT_RATE = 29.0
"""Messages a second over all chats; 31 evenly spaced sends then span 1.03 s, so scheduling
jitter of up to ~30 ms still never puts 31 in one second."""
PAID_BURST = 10
PAID_RATE = FloodLimit.PAID_MESSAGES_PER_SECOND - 2 * PAID_BURST
"""A bucket of 10 draining at 980/s: at most 990 paid sends in any one second."""


class EvenPace(AsyncLimiter):
    """Slots exactly `1/rate` apart on a timeline, taken in order of asking (see above)."""

    def __init__(self, rate_per_second: float) -> None:
        super().__init__(1, 1.0 / rate_per_second)
        self._next = 0.0

    async def acquire(self, amount: float = 1) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next)
        self._next = slot + amount * self.time_period
        if slot > now:
            await asyncio.sleep(slot - now)


class TrialbotRateLimiter(AIORateLimiter):
    def __init__(self, *, rate_per_second: float = DEFAULT_RATE, max_retries: int = 2) -> None:
        super().__init__(max_retries=max_retries)
        self._base_limiter = EvenPace(rate_per_second)
        self._apb_limiter = AsyncLimiter(PAID_BURST, PAID_BURST / PAID_RATE)
        self._bulk_turn = asyncio.Lock()
        self.rate_per_second = rate_per_second

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        bulk = rate_limit_args == NO_RETRY
        retries = 0 if bulk else (rate_limit_args or self._max_retries)
        chat_id = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id) if chat_id is not None else None
        group: int | str | bool = (
            chat_id
            if ((isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str))
            else False
        )
        paid = bool(data.get("allow_paid_broadcast", False))
        for attempt in range(retries + 1):
            try:
                return await self._paced(
                    callback,
                    args,
                    kwargs,
                    chat=chat_id is not None,
                    group=group,
                    paid=paid,
                    bulk=bulk,
                )
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                # Unlike PTB's limiter, only this request waits: the pace already keeps the
                # bot under the global limit, so a 429 is one chat's or one moment's, and
                # pausing every request would stall the broadcast and then release it in a
                # burst (measured: a cascade of 429s after each pause).
                wait = exc._retry_after  # as PTB's limiter reads it (no deprecation warning)
                await asyncio.sleep(_seconds(wait) + 0.1)
        raise AssertionError("unreachable")

    async def _paced(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        *,
        chat: bool,
        group: int | str | bool,
        paid: bool,
        bulk: bool,
    ) -> bool | JSONDict | list[JSONDict]:
        """One request through the limits; a 429 goes to the caller."""
        if paid:  # the paid limiter is the broadcast's alone: nothing to give way to
            async with self._apb_limiter:
                return await callback(*args, **kwargs)
        group_limit = (
            self._get_group_limiter(group)
            if group and self._group_max_rate
            else contextlib.nullcontext()
        )
        # The group limit first, so an alert waiting for its group never holds the
        # broadcast's place in the global line.
        async with group_limit:
            if chat and self._base_limiter is not None:
                if bulk:
                    async with self._bulk_turn:
                        await self._base_limiter.acquire()
                else:
                    await self._base_limiter.acquire()
            return await callback(*args, **kwargs)


def _seconds(value: Any) -> float:
    return float(value.total_seconds()) if isinstance(value, timedelta) else float(value)
