"""bot/ratelimit.py uses python-telegram-bot's private API, which the exact version pin allows.

An upgrade may change it without notice. These tests then fail with a message that names
the private attribute and what to re-check, before the sender silently waits on 429s again.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest
import telegram
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from bot.ratelimit import NO_RETRY, TrialbotRateLimiter

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
USED = ("_base_limiter", "_apb_limiter", "_group_max_rate", "_max_retries")
"""AIORateLimiter attributes TrialbotRateLimiter reads or replaces."""


def changed(what: str, detail: str) -> NoReturn:
    pytest.fail(
        f"python-telegram-bot private API changed: {what}: {detail}. bot/ratelimit.py "
        "(TrialbotRateLimiter) relies on it; adapt it before moving the version pin.",
        pytrace=False,
    )


def test_the_installed_version_is_the_pinned_one() -> None:
    pinned = re.search(r'"python-telegram-bot\[[^\]]*\]==([^"]+)"', PYPROJECT.read_text())
    assert pinned, "pyproject.toml no longer pins python-telegram-bot exactly"
    if telegram.__version__ != pinned.group(1):
        changed(
            "telegram.__version__",
            f"{telegram.__version__} is installed, {pinned.group(1)} is pinned and checked",
        )


def test_private_json_dict_type() -> None:
    try:
        types = importlib.import_module("telegram._utils.types")
    except ImportError as exc:
        changed("telegram._utils.types", f"cannot be imported ({exc})")
    if not hasattr(types, "JSONDict"):
        changed("telegram._utils.types.JSONDict", "is gone")


def test_private_attributes() -> None:
    limiter = AIORateLimiter()
    for name in USED:
        if not hasattr(limiter, name):
            changed(f"AIORateLimiter.{name}", "is gone")
    if not callable(getattr(limiter, "_get_group_limiter", None)):
        changed("AIORateLimiter._get_group_limiter", "is gone")
    if not isinstance(RetryAfter(timedelta(seconds=1))._retry_after, timedelta):
        changed("RetryAfter._retry_after", "is no longer a timedelta")


def test_process_request_still_matches_the_override() -> None:
    theirs = list(inspect.signature(AIORateLimiter.process_request).parameters)
    ours = list(inspect.signature(TrialbotRateLimiter.process_request).parameters)
    if theirs != ours:
        changed("AIORateLimiter.process_request", f"takes {theirs}, the override {ours}")


async def _calls(rate_limit_args: int | None) -> tuple[int, bool]:
    """How often the limiter calls a request that gets one 429, and whether the 429 came out."""
    limiter = TrialbotRateLimiter(max_retries=2)
    calls = 0

    async def request(*_: Any, **__: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RetryAfter(timedelta(seconds=0))
        return True

    try:
        await limiter.process_request(
            request, (), {}, "sendMessage", {"chat_id": 5}, rate_limit_args
        )
    except RetryAfter:
        return calls, True
    return calls, False


async def test_no_retry_gives_the_429_back_at_once() -> None:
    assert await _calls(NO_RETRY) == (1, True)


async def test_other_calls_keep_the_retries() -> None:
    assert await _calls(None) == (2, False)


async def test_a_reply_waits_behind_one_queued_alert_not_the_whole_broadcast() -> None:
    """Alerts (NO_RETRY) queue for the global pace one at a time, so a reply to a command
    takes the next slot but one, however many alerts are waiting."""
    limiter = TrialbotRateLimiter(rate_per_second=100)
    order: list[str] = []

    def request(tag: str) -> Any:
        async def call(*_: Any, **__: Any) -> bool:
            order.append(tag)
            return True

        return call

    alerts = [
        asyncio.create_task(
            limiter.process_request(
                request(f"alert{n}"), (), {}, "sendMessage", {"chat_id": 100 + n}, NO_RETRY
            )
        )
        for n in range(8)
    ]
    await asyncio.sleep(0)
    reply = limiter.process_request(request("reply"), (), {}, "sendMessage", {"chat_id": 5}, None)
    await asyncio.gather(reply, *alerts)
    assert order.index("reply") <= 2 and len(order) == 9


async def test_a_429_on_a_reply_holds_back_that_reply_only() -> None:
    """PTB's limiter pauses every request on a 429; here the broadcast goes on meanwhile."""
    limiter = TrialbotRateLimiter(rate_per_second=100)
    order: list[str] = []

    async def reply(*_: Any, **__: Any) -> bool:
        if "reply refused" not in order:
            order.append("reply refused")
            raise RetryAfter(timedelta(seconds=0.3))
        order.append("reply")
        return True

    async def alert(*_: Any, **__: Any) -> bool:
        order.append("alert")
        return True

    asking = asyncio.create_task(
        limiter.process_request(reply, (), {}, "sendMessage", {"chat_id": 5}, None)
    )
    await asyncio.sleep(0.05)
    await limiter.process_request(alert, (), {}, "sendMessage", {"chat_id": 6}, NO_RETRY)
    await asking
    assert order == ["reply refused", "alert", "reply"]
