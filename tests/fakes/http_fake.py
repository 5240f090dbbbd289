"""What every fake server shares: a real HTTP/1.1 server on 127.0.0.1 in a thread.

Three layers, so each fake holds only its registry's (or Telegram's) behaviour:

* `FakeHttpServer`: start, stop, port, URLs, keep-alive connections, the `/_control/...` route
  for a fake steered from another process, and writing a `Reply` to the socket with the fault
  shapes a fake injects (a delay, a body cut short, a connection dropped mid-body).
* `FaultQueue` / `Fault`: scripted faults (status codes with Retry-After, garbage bodies, delays,
  truncation) that queue in order; each matching request uses up one.
* `FakeRegistryServer`: what the fake registries add on top: request recording, body bytes
  counted, the `fail_next` / `garbage_next` / `delay_next` / `truncate_next` test hooks and
  their `/_control/fault` twin, and applying a fault to an answer.

`FakeHttpServer.command_line` and `serve_until_signalled` run a fake as a process of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import select
import signal
import socket
import sys
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Generic, Literal, Self, TypedDict, TypeVar, Unpack
from urllib.parse import parse_qs, urlsplit

CONTROL_PREFIX = "/_control"
HTML = "text/html; charset=utf-8"
MAINTENANCE_HTML = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    b"<body><h1>The service is undergoing maintenance</h1></body></html>"
)


class Address(TypedDict, total=False):
    """Where a fake listens: 127.0.0.1 and a free port unless told."""

    host: str
    port: int


@dataclass
class Reply:
    """What a fake answers; the transport writes it (and the faults it carries)."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Sequence[tuple[str, str]] = ()
    delay: float = 0.0
    """Seconds to wait before answering (a stalled server); cut short when the fake stops."""
    send_bytes: int | None = None
    """Send only this many body bytes."""
    cut_connection: bool = False
    """Declare the full Content-Length, send `send_bytes`, then close (a dropped connection);
    without it a short body is declared as short (a truncated answer)."""

    @classmethod
    def json(cls, payload: Any, status: int = 200, **extra: Any) -> Reply:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, body, "application/json", **extra)

    @classmethod
    def text(cls, status: int, message: str, **extra: Any) -> Reply:
        return cls(status, message.encode("utf-8"), **extra)


@dataclass(frozen=True)
class Request:
    """One request as the fake sees it (header names lower-cased)."""

    method: str
    target: str
    """Path and query string as received."""
    headers: dict[str, str]
    body: bytes
    client_gone: Callable[[], bool] = lambda: False
    """True once the client hung up (for long polls that must not answer nobody)."""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query

    @property
    def query(self) -> dict[str, str]:
        """Query parameters, the last value of a repeated name winning."""
        pairs = parse_qs(self.raw_query, keep_blank_values=True)
        return {name: values[-1] for name, values in pairs.items()}


class BadRequest(Exception):
    """A request the fake answers with 400, in its registry's error format."""


# -- faults -------------------------------------------------------------------------------------

FaultKind = Literal["status", "garbage", "delay", "truncate"]
Matcher = str | int | Callable[[Any], bool] | None
"""What a fault matches a request attribute with: None = anything, a predicate, a string
ending in "*" = that prefix, else equality."""


@dataclass
class Fault:
    """One scripted fault; which fields count depends on `kind`."""

    kind: FaultKind
    remaining: int | None = 1
    """Requests it still spoils (None: every matching one)."""
    where: Mapping[str, Matcher] = field(default_factory=dict)
    after: int = 0
    """Let this many matching requests through before the fault starts."""
    status: int = 503
    message: str | None = None
    """The error text of a status fault (None: the fake's own wording)."""
    retry_after: str | None = None
    parameters: dict[str, Any] | None = None
    """Telegram's ResponseParameters of a status fault."""
    body: bytes = MAINTENANCE_HTML
    content_type: str = HTML
    """A garbage fault's body, answered with `status` instead of the API's answer."""
    seconds: float = 0.0
    cut_connection: bool = False

    def matches(self, target: Mapping[str, Any]) -> bool:
        for name, want in self.where.items():
            got = target.get(name)
            if want is None:
                continue
            if callable(want):
                if not want(got):
                    return False
            elif isinstance(want, str) and want.endswith("*"):
                if not (isinstance(got, str) and got.startswith(want[:-1])):
                    return False
            elif got != want:
                return False
        return True


class FaultQueue:
    """Scripted faults in the order they were added; each matching request uses up one."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("n must be >= 1 (or None for every request)")
        with self._lock:
            self._faults.append(fault)

    def take(self, kinds: Collection[FaultKind] | None = None, **target: Any) -> Fault | None:
        """The first fault (of `kinds`) matching the request described by `target`, used up."""
        with self._lock:
            for fault in self._faults:
                if (kinds is not None and fault.kind not in kinds) or not fault.matches(target):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
            return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


def retry_after_text(value: str | float) -> str:
    """A Retry-After header value: whole seconds without a trailing `.0`."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# -- the HTTP server ----------------------------------------------------------------------------


class TrackingHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that can drop its idle keep-alive connections on stop (else
    their handler threads linger until the client hangs up)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (a killed service) is normal here, not a trace."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive connections so they exit."""
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Server(TrackingHTTPServer):
    def __init__(self, address: tuple[str, int], fake: FakeHttpServer) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real front ends
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms stalls
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake = self.server.fake
        reply = fake._handle(Request(method, self.path, headers, body, self._client_gone))
        try:
            if reply.delay > 0 and fake._stopping.wait(reply.delay):
                self.close_connection = True
                return
            payload = reply.body
            sent = payload if reply.send_bytes is None else payload[: reply.send_bytes]
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers:
                self.send_header(name, value)
            declared = len(payload) if reply.cut_connection else len(sent)
            self.send_header("Content-Length", str(declared))
            if reply.cut_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(sent)
            self.wfile.flush()
            if method != "HEAD":
                fake._count_sent(len(sent))
            if reply.cut_connection:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _client_gone(self) -> bool:
        """True once the client closed its end (readable socket with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line."""


class FakeHttpServer:
    """Start/stop, port and URLs of a fake; subclasses implement `_dispatch` (and `_control`)."""

    api_prefix: ClassVar[str] = ""
    """Where the API lives below the root URL; `base_url` points there."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- what subclasses answer ---------------------------------------------------------------

    def _dispatch(self, request: Request) -> Reply:
        """Answer an API request (called from handler threads)."""
        raise NotImplementedError

    def _control(self, method: str, action: str, request: Request) -> Reply:
        """Answer `/_control{action}` (a test steering the fake from another process)."""
        return self._error(404, f"unknown control action {action}")

    def _error(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        """An error answer in the fake's format (plain text unless the API says otherwise)."""
        return Reply.text(status, message, headers=headers)

    def _count_sent(self, n: int) -> None:
        """Called with the body bytes written for each answer (not for HEAD)."""

    def _on_stop(self) -> None:
        """Called as the fake stops, before the server shuts down (wake waiting requests)."""

    def _after_with(self, exc: BaseException | None) -> None:
        """Called once a `with` block stopped the fake (`exc`: the error ending it, if any),
        to fail a test over what it left behind."""

    def _handle(self, request: Request) -> Reply:
        path = request.path
        if path.startswith(CONTROL_PREFIX + "/"):
            try:
                return self._control(request.method, path[len(CONTROL_PREFIX) :], request)
            except (ValueError, KeyError, TypeError) as exc:
                return self._error(400, f"control error: {exc!r}")
        return self._dispatch(request)

    def _api_path(self, request: Request) -> str | None:
        """The request's path below `api_prefix` ("/" for the prefix itself), None outside it."""
        path = request.path
        if path != self.api_prefix and not path.startswith(self.api_prefix + "/"):
            return None
        return path[len(self.api_prefix) :] or "/"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self._host, self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{type(self).__name__}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed answers (and long polls) return at once."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        self._on_stop()
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._after_with(exc)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What the client under test is configured with: the root URL plus `api_prefix`."""
        return self.root_url + self.api_prefix

    @property
    def control_url(self) -> str:
        return self.root_url + CONTROL_PREFIX

    # -- running as a process of its own ---------------------------------------------------------

    @staticmethod
    def command_line(doc: str | None, dirs: str | None = None) -> argparse.ArgumentParser:
        """The command line every fake takes (`--host`, `--port`), described by its docstring;
        with `dirs` (the help text), also a repeatable `--dir` of records to load."""
        parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
        if dirs is not None:
            parser.add_argument("--dir", action="append", default=[], type=Path, help=dirs)
        return parser

    def serve_until_signalled(self, note: Callable[[], str] | None = None) -> int:
        """Serve until SIGINT/SIGTERM. The first stdout line is the base URL (what a driver
        reads); `note()` goes to stderr once serving."""
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with self:
            print(self.base_url, flush=True)
            if note is not None:
                print(note(), file=sys.stderr, flush=True)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
        return 0


# -- fake registries ----------------------------------------------------------------------------

R = TypeVar("R")
S = TypeVar("S")


class FakeRegistryServer(FakeHttpServer, Generic[R, S]):
    """A fake registry: holds its records (`S` is how one is stored, keyed by the registry's
    id), records requests (`R` is the shape of one entry), counts body bytes and injects the
    faults tests script with `fail_next`, `garbage_next`, `delay_next` and `truncate_next`.

    Faults queue in order; each API request uses up one unit of the first fault whose filters
    match: `path` (exact path below the API prefix, or a prefix ending in "*"), `method` (HTTP
    method), and `after` lets that many matching requests through first.
    """

    label: ClassVar[str] = "fake"
    """How the fake names itself in its own error texts."""
    maintenance_page: ClassVar[bytes] = MAINTENANCE_HTML
    """The HTML page `garbage_next` answers with unless told otherwise."""
    other_garbage: ClassVar[Mapping[str, tuple[bytes, str]]] = {}
    """Other broken bodies `garbage_next(n, kind)` knows: kind -> (body, content type)."""
    truncation_cuts_connection: ClassVar[bool] = False
    """What `truncate_next` does unless told: cut the connection, or declare a short body."""
    record_files: ClassVar[str] = "*.json"
    """The files `load_dir` reads."""

    def __init__(self, **address: Unpack[Address]) -> None:
        super().__init__(**address)
        self._lock = threading.RLock()
        self._records: dict[str, S] = {}
        self._faults = FaultQueue()
        self.requests: list[R] = []
        """One record per API request, faulted ones too (the shape is the fake's own)."""
        self.bytes_sent = 0
        """Response body bytes written for API requests (headers not counted)."""

    # -- stored records -------------------------------------------------------------------------

    def upsert(self, record: Any) -> str:
        """Add or replace a record (a replaced one keeps its place); returns its key."""
        with self._lock:
            key, stored = self._to_store(record)
            self._records[key] = stored
            self._changed()
        return key

    def upsert_many(self, records: Iterable[Any]) -> list[str]:
        return [self.upsert(r) for r in records]

    def remove(self, key: str) -> None:
        with self._lock:
            if self._records.pop(self._normal_key(key), None) is not None:
                self._changed()

    @property
    def ids(self) -> list[str]:
        """Keys of the stored records, in serving order."""
        with self._lock:
            return list(self._records)

    def load_file(self, path: str | Path) -> int:
        """Upsert the records of one file in the registry's format; returns how many."""
        raise NotImplementedError

    def load_dir(self, directory: str | Path, *, skip_unreadable: bool = False) -> int:
        """Upsert the records of every `record_files` file of `directory`, in name order
        (later snapshots of an id win); `skip_unreadable` passes over files that fail."""
        loaded = 0
        for path in sorted(Path(directory).glob(self.record_files)):
            try:
                loaded += self.load_file(path)
            except ValueError:
                if not skip_unreadable:
                    raise
        return loaded

    def _to_store(self, record: Any) -> tuple[str, S]:
        """The key and stored form of a record given to `upsert` (ValueError if unusable);
        called under the lock."""
        raise NotImplementedError

    def _normal_key(self, key: str) -> str:
        """A key as given by a test, in the form records are stored under."""
        return key.strip().upper()

    def _stored(self, key: str) -> S | None:
        with self._lock:
            return self._records.get(self._normal_key(key))

    def _changed(self) -> None:
        """Called (under the lock) after a record was added, replaced or removed."""

    # -- recording ------------------------------------------------------------------------------

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()
            self.bytes_sent = 0

    def _count_sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    # -- fault hooks ----------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        retry_after: str | float | None = None,
        body: str | None = None,
        *,
        path: str | None = None,
        method: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next `n` matching requests with `status` (+ Retry-After, error `body`).

        `after` lets that many matching requests succeed first (e.g. fail on page 2).
        """
        retry = None if retry_after is None else retry_after_text(retry_after)
        where = {"path": path, "method": method}
        self._add_fault(Fault("status", n, where, after, status, body, retry))

    def fail_path(
        self,
        path: str,
        n: int = 1,
        status: int = 503,
        retry_after: str | float | None = None,
        body: str | None = None,
    ) -> None:
        """`fail_next` restricted to one path below the API prefix ("/studies", "/retrieve/*")."""
        self.fail_next(n, status, retry_after, body, path=path)

    def garbage_next(
        self,
        n: int = 1,
        kind: str = "html",
        *,
        path: str | None = None,
        method: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next `n` matching requests with 200 and a broken body: the maintenance
        page ("html") or one of `other_garbage`."""
        bodies = {"html": (self.maintenance_page, HTML), **self.other_garbage}
        if kind not in bodies:
            raise ValueError(f"kind must be one of {sorted(bodies)}")
        content, content_type = bodies[kind]
        where = self._with_body(path, method)
        self._add_fault(
            Fault("garbage", n, where, after, 200, body=content, content_type=content_type)
        )

    def delay_next(
        self, n: int, seconds: float, *, path: str | None = None, method: str | None = None
    ) -> None:
        """Hold the next `n` answers for `seconds` before sending anything (client timeouts)."""
        self._add_fault(Fault("delay", n, {"path": path, "method": method}, seconds=seconds))

    def truncate_next(
        self,
        n: int = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        cut_connection: bool | None = None,
    ) -> None:
        """Send only the first half of the next `n` bodies.

        A declared-short body is a complete, correct-looking answer whose Content-Length
        matches the cut (what a broken proxy produces; the client sees an unreadable body).
        `cut_connection=True` instead declares the full length and closes early (the client
        sees a transport error and may retry). None: the fake's `truncation_cuts_connection`.
        """
        cut = self.truncation_cuts_connection if cut_connection is None else cut_connection
        where = self._with_body(path, method)
        self._add_fault(Fault("truncate", n, where, cut_connection=cut))

    def clear_faults(self) -> None:
        self._faults.clear()

    @staticmethod
    def _with_body(path: str | None, method: str | None) -> dict[str, Matcher]:
        """Filters of a fault that spoils a body: never a HEAD answer, which has none."""
        return {"path": path, "method": method if method is not None else _not_head}

    def _add_fault(self, fault: Fault) -> None:
        if fault.remaining is None:
            raise ValueError("n must be >= 1")
        self._faults.add(fault)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        return self._faults.take(method=method, path=path)

    def _answer(self, fault: Fault | None, compute: Callable[[], Reply]) -> Reply:
        """The answer to one API request: `compute()`'s, with the request's fault applied.

        `compute` may raise `BadRequest` (-> 400); anything else it raises is a bug in the fake
        or a malformed stored record (-> 500, so the test sees it).
        """
        if fault is not None and fault.kind == "status":
            headers = [("Retry-After", fault.retry_after)] if fault.retry_after else []
            text = fault.message or f"{self.label}: injected HTTP {fault.status}"
            return self._error(fault.status, text, headers)
        if fault is not None and fault.kind == "garbage":
            return Reply(fault.status, fault.body, fault.content_type)
        try:
            reply = compute()
        except BadRequest as exc:
            reply = self._error(400, str(exc))
        except Exception as exc:
            reply = self._error(500, f"{self.label} internal error: {exc!r}"[:500])
        if fault is not None and fault.kind == "delay":
            reply.delay = fault.seconds
        if fault is not None and fault.kind == "truncate":
            reply.send_bytes = max(1, len(reply.body) // 2)
            reply.cut_connection = fault.cut_connection
        return reply

    def _control(self, method: str, action: str, request: Request) -> Reply:
        """POST /_control/fault (JSON: kind status|garbage|delay|truncate, n, status,
        retry_after, body, garbage, seconds, cut_connection, path, method, after) and
        POST /_control/reset (forget requests and faults)."""
        if method == "POST" and action == "/fault":
            spec = json.loads(request.body or b"{}")
            kind, n = spec.get("kind", "status"), int(spec.get("n", 1))
            where: dict[str, Any] = {"path": spec.get("path"), "method": spec.get("method")}
            after = int(spec.get("after", 0))
            if kind == "status":
                status = int(spec.get("status", 503))
                self.fail_next(
                    n, status, spec.get("retry_after"), spec.get("body"), after=after, **where
                )
            elif kind == "garbage":
                self.garbage_next(n, spec.get("garbage", "html"), after=after, **where)
            elif kind == "delay":
                self.delay_next(n, float(spec["seconds"]), **where)
            elif kind == "truncate":
                self.truncate_next(n, cut_connection=spec.get("cut_connection"), **where)
            else:
                raise ValueError(f"unknown fault kind {kind!r}")
            return Reply.json({"ok": True})
        if method == "POST" and action == "/reset":
            self.clear_requests()
            self.clear_faults()
            return Reply.json({"ok": True})
        return super()._control(method, action, request)


def _not_head(method: Any) -> bool:
    return bool(method != "HEAD")
