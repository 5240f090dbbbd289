"""bot/ratelimit.py uses python-telegram-bot's private API, which the exact version pin allows.

An upgrade may change it without notice. These tests then fail with a message that names
the private attribute and what to re-check, before the sender silently waits on 429s again.
"""

from __future__ import annotations

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
RUN_REQUEST = ["self", "chat", "group", "allow_paid_broadcast", "callback", "args", "kwargs"]
"""The keyword arguments TrialbotRateLimiter passes to AIORateLimiter._run_request."""


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


def test_private_run_request() -> None:
    run = getattr(AIORateLimiter, "_run_request", None)
    if run is None or not inspect.iscoroutinefunction(run):
        changed("AIORateLimiter._run_request", "is gone or no longer a coroutine function")
    names = list(inspect.signature(run).parameters)
    if names != RUN_REQUEST:
        changed("AIORateLimiter._run_request", f"takes {names}, not {RUN_REQUEST}")


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
