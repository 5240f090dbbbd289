"""PTB's AIORateLimiter, with per-call retries that can really be switched off.

The stock limiter reads `rate_limit_args or max_retries`, so a call cannot ask for zero
retries, and while it retries it pauses *every* request. The outbox sender must not wait: on
a 429 it reschedules that one alert and goes on with other chats. So the sender passes
`rate_limit_args=NO_RETRY` and gets the RetryAfter at once; replies to commands keep the
default retries (a user is waiting for them). NO_RETRY is -1, not 0: PTB's ExtBot silently
drops a falsy `rate_limit_args` before it reaches the limiter.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

NO_RETRY = -1


class TrialbotRateLimiter(AIORateLimiter):
    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if rate_limit_args != NO_RETRY:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        chat_id = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id) if chat_id is not None else None
        group: int | str | bool = (
            chat_id
            if ((isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str))
            else False
        )
        # Global and per-group limits still apply; a RetryAfter goes straight to the caller.
        return await self._run_request(
            chat=chat_id is not None,
            group=group,
            allow_paid_broadcast=bool(data.get("allow_paid_broadcast", False)),
            callback=callback,
            args=args,
            kwargs=kwargs,
        )
