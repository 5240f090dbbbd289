"""Polite HTTP for every registry adapter: spacing, retries with backoff, error mapping, stats.

Why one shared piece (see shared/registries.md): every registry we read is a public service
run on a small budget. Each adapter therefore serialises its requests and spaces them by
`min_interval` seconds (start to start), retries transient trouble (429, 5xx, network errors,
timeouts) with exponential backoff and full jitter, honours `Retry-After` up to a cap so one bad
header cannot park a poll for hours, and turns everything else into a `RegistryError` that
names the registry, so a poll stops cleanly and stored data stays as it was.

The etiquette is one value, `HttpOptions`, handed whole from the settings (or a test) to the
adapter; `RegistryClient` is the base every adapter builds on: it owns the `PoliteHttp`, closes
it (`aclose`, `async with`) and reports its counters (`stats`), so no adapter repeats that.
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Final, Self, TypeVar

import httpx

from jobs.registries.base import RegistryError, RequestStats
from trialbot import __version__
from trialbot.settings import Settings

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


@dataclass(frozen=True)
class HttpOptions:
    """How politely one adapter talks to its registry, as one value (like httpx's `Timeout`).

    Every adapter takes the same etiquette, so it travels whole from the settings (or a test) to
    `PoliteHttp` instead of as ten keyword arguments repeated in each adapter.
    """

    min_interval: float = 1.0
    """Seconds from one request's start to the next (requests are serialised)."""
    timeout: float = 30.0
    """Seconds for reads, writes and the pool; connecting gets at most 10 of them."""
    max_retries: int = 5
    """Retries after the first attempt, for 429, 5xx, network errors and timeouts."""
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    """Full-jitter backoff: a retry waits up to min(backoff_max, backoff_base * 2**(n-1))."""
    retry_after_cap: float | None = None
    """Longest `Retry-After` obeyed (None: 5 x backoff_max), so one header cannot park a poll."""
    user_agent: str = DEFAULT_USER_AGENT
    transport: httpx.AsyncBaseTransport | None = None
    """An httpx transport to use instead of the network (tests: MockTransport, fault injectors)."""

    def __post_init__(self) -> None:
        if min(self.min_interval, self.max_retries, self.backoff_base, self.backoff_max) < 0:
            raise ValueError("min_interval, max_retries and backoff values must be >= 0")

    @property
    def httpx_timeout(self) -> httpx.Timeout:
        """`timeout` as httpx applies it: a dead host fails fast, a slow answer may take longer."""
        return httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))

    @property
    def retry_after_limit(self) -> float:
        """`retry_after_cap` with its default applied."""
        return self.backoff_max * 5 if self.retry_after_cap is None else self.retry_after_cap

    @classmethod
    def from_settings(cls, settings: Settings, *, min_interval: float = 1.0) -> HttpOptions:
        """The deployment's timeout and retries; `min_interval` is the registry's own setting."""
        return cls(
            min_interval=min_interval,
            timeout=settings.http_timeout_seconds,
            max_retries=settings.http_max_retries,
        )


DEFAULT_HTTP: Final = HttpOptions()


class PoliteHttp:
    """One registry's HTTP connection with the etiquette above; `registry` names it in errors."""

    def __init__(
        self,
        registry: str,
        base_url: str,
        options: HttpOptions = DEFAULT_HTTP,
        *,
        accept: str = "application/json",
    ) -> None:
        self.registry = registry
        self.base_url = base_url.rstrip("/")
        self.options = options
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers={"User-Agent": options.user_agent, "Accept": accept},
            timeout=options.httpx_timeout,
            follow_redirects=True,
            transport=options.transport,
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
                if attempt >= self.options.max_retries:
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
                    self.options.max_retries,
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
        interval = self.options.min_interval
        if self._last_start is not None and interval > 0:
            while (wait := self._last_start + interval - time.monotonic()) > 0:
                await asyncio.sleep(wait)  # loop: the event loop may wake a hair early
        self._last_start = time.monotonic()

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After (capped) if the server gave one, else full jitter on an exponential cap."""
        options = self.options
        if retry_after is not None:
            cap = options.retry_after_limit
            if retry_after > cap:
                log.warning(
                    "%s Retry-After %.1fs exceeds the cap; waiting %.1fs",
                    self.registry,
                    retry_after,
                    cap,
                )
            return min(retry_after, cap)
        ceiling = min(options.backoff_max, options.backoff_base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)


class RegistryClient:
    """What every adapter shares: the `PoliteHttp` it owns (if any), closing it, its counters.

    A subclass sets `name` (and `accept` when it wants something other than JSON) and passes its
    base URL, or None when it reads a local file (the ICTRP export) and needs no HTTP at all.
    """

    name: str
    accept: ClassVar[str] = "application/json"

    def __init__(self, base_url: str | None, http: HttpOptions) -> None:
        self.http_options = http
        self._connection = (
            None if base_url is None else PoliteHttp(self.name, base_url, http, accept=self.accept)
        )

    @property
    def _http(self) -> PoliteHttp:
        """The connection, for adapters that always have one (a bug to ask without one)."""
        if self._connection is None:
            raise RuntimeError(f"{self.name} reads a local file; it has no HTTP connection")
        return self._connection

    # The etiquette in effect, as configured (read by tests and in logs).

    @property
    def min_interval(self) -> float:
        return self.http_options.min_interval

    @property
    def max_retries(self) -> int:
        return self.http_options.max_retries

    @property
    def retry_after_cap(self) -> float:
        return self.http_options.retry_after_limit

    # -- lifecycle ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self._connection is not None:
            await self._connection.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- stats -------------------------------------------------------------------------------

    @property
    def stats(self) -> RequestStats:
        """Cumulative HTTP requests (redirect hops included), body bytes received, retries;
        all zero for an adapter without HTTP."""
        return self._connection.stats if self._connection is not None else RequestStats()

    def reset_stats(self) -> None:
        if self._connection is not None:
            self._connection.reset_stats()


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
