"""Polite HTTP for every registry adapter: spacing, retries with backoff, error mapping, stats.

Why one shared piece (see shared/registries.md): every registry we read is a public service
run on a small budget. Each adapter therefore serialises its requests and spaces them by
`min_interval` seconds (start to start), retries transient trouble (429, 5xx, network errors,
timeouts) with exponential backoff and full jitter, honours `Retry-After` up to a cap so one bad
header cannot park a poll for hours, and turns everything else into a `RegistryError` that
names the registry, so a poll stops cleanly and stored data stays as it was.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from jobs.registries.base import RegistryError, RequestStats
from trialbot import __version__

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_USER_AGENT = (
    f"trialbot/{__version__} (alerts for clinical trials of stem-cell therapy after stroke; "
    "polite poller: <=1 request/s, backs off on errors) "
    f"python-httpx/{httpx.__version__}"
)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` (delta-seconds or HTTP date); None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


class _Retryable(Exception):
    """Internal: one attempt failed in a way worth retrying."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PoliteHttp:
    """One registry's HTTP connection with the etiquette above; `registry` names it in errors."""

    def __init__(
        self,
        registry: str,
        base_url: str,
        *,
        accept: str = "application/json",
        min_interval: float = 1.0,
        timeout: float = 30.0,
        max_retries: int = 5,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        retry_after_cap: float | None = None,
    ) -> None:
        if min_interval < 0 or max_retries < 0 or backoff_base < 0 or backoff_max < 0:
            raise ValueError("min_interval, max_retries and backoff values must be >= 0")
        self.registry = registry
        self.base_url = base_url.rstrip("/")
        self.min_interval = min_interval
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_cap = backoff_max * 5 if retry_after_cap is None else retry_after_cap
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers={"User-Agent": user_agent, "Accept": accept},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,
            transport=transport,
        )
        self._lock = asyncio.Lock()
        self._last_start: float | None = None
        self._requests = 0
        self._bytes = 0
        self._retries = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def stats(self) -> RequestStats:
        """Cumulative HTTP requests (redirect hops included), body bytes received, retries."""
        return RequestStats(
            requests=self._requests, bytes_received=self._bytes, retries=self._retries
        )

    def reset_stats(self) -> None:
        self._requests = self._bytes = self._retries = 0

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        response = await self.request("GET", path, params)
        return decode_json(response, self.registry, f"GET /{path}")

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        json_body: Any = None,
        allow_404: bool = False,
    ) -> httpx.Response:
        """A request with spacing, retries and error mapping; a 2xx (or a 404 if allowed)."""
        return await self._retrying(
            method,
            path,
            lambda: self._attempt(method, path, params, json_body, allow_404=allow_404),
        )

    async def download(
        self,
        path: str,
        dest: Path,
        *,
        chunk_bytes: int = 1 << 20,
        refuse_types: tuple[str, ...] = ("text/html", "application/xhtml+xml"),
    ) -> None:
        """GET a large body into the file `dest` in chunks, never holding it in memory.

        Same etiquette and retries as `request`; a body shorter than its Content-Length is
        retried, and a web page (`refuse_types`) where a data file was expected is an error.
        """
        await self._retrying(
            "GET", path, lambda: self._download_once(path, dest, chunk_bytes, refuse_types)
        )

    async def _retrying(
        self, method: str, path: str, attempt_once: Callable[[], Awaitable[T]]
    ) -> T:
        attempt = 0
        while True:
            try:
                return await attempt_once()
            except _Retryable as failure:
                if attempt >= self.max_retries:
                    raise RegistryError(
                        f"{self.registry} {method} /{path} failed after {attempt + 1} "
                        f"attempt(s): {failure.reason}"
                    ) from None
                attempt += 1
                self._retries += 1
                delay = self._backoff(attempt, failure.retry_after)
                log.warning(
                    "%s %s /%s: %s; retry %d/%d in %.2fs",
                    self.registry,
                    method,
                    path,
                    failure.reason,
                    attempt,
                    self.max_retries,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _download_once(
        self, path: str, dest: Path, chunk_bytes: int, refuse_types: tuple[str, ...]
    ) -> None:
        async with self._lock:
            await self._space_out()
            counted = False
            try:
                async with self._client.stream("GET", path) as response:
                    self._requests += 1 + len(response.history)
                    counted = True
                    if not 200 <= response.status_code < 300:
                        body = await response.aread()
                        self._bytes += response.num_bytes_downloaded
                        raise self._failure("GET", path, response, body)
                    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                    if kind in refuse_types:
                        self._bytes += response.num_bytes_downloaded
                        raise RegistryError(
                            f"{self.registry} GET /{path}: got {kind}, not the expected file"
                        )
                    declared = response.headers.get("Content-Length")
                    with dest.open("wb") as out:
                        async for chunk in response.aiter_bytes(chunk_bytes):
                            out.write(chunk)
                    self._bytes += response.num_bytes_downloaded
                    if (
                        declared
                        and declared.isdigit()
                        and response.num_bytes_downloaded < int(declared)
                    ):
                        raise _Retryable(
                            f"body cut at {response.num_bytes_downloaded} of {declared} bytes"
                        )
            except httpx.TransportError as exc:
                if not counted:
                    self._requests += 1
                raise _Retryable(type(exc).__name__) from exc
            except httpx.RequestError as exc:
                raise RegistryError(f"{self.registry} GET /{path}: {type(exc).__name__}") from None

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json_body: Any,
        *,
        allow_404: bool,
    ) -> httpx.Response:
        async with self._lock:
            await self._space_out()
            try:
                response = await self._client.request(
                    method, path, params=dict(params or {}), json=json_body
                )
            except httpx.TransportError as exc:  # includes every httpx timeout
                self._requests += 1
                raise _Retryable(type(exc).__name__) from exc
            except httpx.RequestError as exc:  # redirect loop, undecodable content-encoding
                self._requests += 1
                raise RegistryError(
                    f"{self.registry} {method} /{path}: {type(exc).__name__}"
                ) from None
        self._requests += 1 + len(response.history)
        self._bytes += response.num_bytes_downloaded + sum(
            r.num_bytes_downloaded for r in response.history
        )
        status = response.status_code
        log.debug(
            "%s %s /%s -> %d (%d bytes)", self.registry, method, path, status, len(response.content)
        )
        if 200 <= status < 300 or (status == 404 and allow_404):
            return response
        raise self._failure(method, path, response, response.content)

    def _failure(self, method: str, path: str, response: httpx.Response, body: bytes) -> Exception:
        """A non-2xx answer: worth retrying (429, 5xx, with any Retry-After), or a RegistryError
        quoting the start of the registry's explanation (CT.gov names the bad parameter)."""
        status = response.status_code
        if status == 429 or status >= 500:
            return _Retryable(
                f"HTTP {status}", parse_retry_after(response.headers.get("Retry-After"))
            )
        detail = body[:800].decode("utf-8", "replace")[:200].strip()
        return RegistryError(
            f"{self.registry} {method} /{path}: HTTP {status}" + (f": {detail}" if detail else "")
        )

    async def _space_out(self) -> None:
        """Wait (holding the lock) until `min_interval` has passed since the previous start."""
        if self._last_start is not None and self.min_interval > 0:
            while (wait := self._last_start + self.min_interval - time.monotonic()) > 0:
                await asyncio.sleep(wait)  # loop: the event loop may wake a hair early
        self._last_start = time.monotonic()

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After (capped) if the server gave one, else full jitter on an exponential cap."""
        if retry_after is not None:
            if retry_after > self.retry_after_cap:
                log.warning(
                    "%s Retry-After %.1fs exceeds the cap; waiting %.1fs",
                    self.registry,
                    retry_after,
                    self.retry_after_cap,
                )
            return min(retry_after, self.retry_after_cap)
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)


def decode_json(response: httpx.Response, registry: str, where: str) -> Any:
    """JSON body or RegistryError; never echoes more than a short prefix of a bad body.

    `where` is the request as it should read in the error, e.g. "GET /studies".
    """
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        kind = response.headers.get("Content-Type", "?").split(";")[0]
        raise RegistryError(
            f"{registry} {where}: body is not valid JSON ({type(exc).__name__}, "
            f"{len(response.content)} bytes, {kind})"
        ) from None
