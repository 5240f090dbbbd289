"""Update processing that is concurrent across chats but fair to each of them.

PTB processes updates one at a time by default, so one chat hammering commands would make
everyone wait. Here updates from different chats run concurrently, updates from the same chat
run in order, and each chat has a token bucket: a chat that floods is slowed down (its own
updates wait), and beyond a short queue its extra updates are dropped and counted, so it can
never hold the workers that other chats need.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


@dataclass
class _ChatState:
    lock: asyncio.Lock
    tokens: float
    stamp: float
    waiting: int = 0


class FairUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self,
        max_concurrent_updates: int = 64,
        *,
        per_minute: float = 30.0,
        burst: int = 8,
        max_queued_per_chat: int = 5,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.rate = per_minute / 60.0
        self.burst = burst
        self.max_queued = max_queued_per_chat
        self.dropped = 0
        self.delayed = 0
        self._chats: dict[int, _ChatState] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _state(self, chat_id: int) -> _ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            if len(self._chats) > 10_000:
                self._prune()
            state = _ChatState(asyncio.Lock(), float(self.burst), time.monotonic())
            self._chats[chat_id] = state
        return state

    def _prune(self) -> None:
        for chat_id in [c for c, s in self._chats.items() if not s.lock.locked() and not s.waiting]:
            del self._chats[chat_id]

    def _wait_time(self, state: _ChatState) -> float:
        now = time.monotonic()
        state.tokens = min(self.burst, state.tokens + (now - state.stamp) * self.rate)
        state.stamp = now
        state.tokens -= 1
        return 0.0 if state.tokens >= 0 else -state.tokens / self.rate

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        state = self._state(chat.id)
        if state.waiting >= self.max_queued:
            self.dropped += 1
            log.warning("chat %s is flooding; dropped an update", chat.id)
            if asyncio.iscoroutine(coroutine):
                coroutine.close()
            return
        state.waiting += 1
        try:
            async with state.lock:
                delay = self._wait_time(state)
                if delay > 0:
                    self.delayed += 1
                    await asyncio.sleep(delay)
                await coroutine
        finally:
            state.waiting -= 1
