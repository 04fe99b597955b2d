"""A small REST scoring service for the champion model: what `make serve` runs.

Why not `mlflow models serve`: its schema errors repeat the whole request (PHI in responses
and logs), it refuses whole numbers for decimal inputs, it answers a left-out optional input
with a server error, and it ignores misspelt fields. This service checks every row against the
model signature first (core/scoring_request.py) and answers 4xx naming the row and field.

It speaks Databricks Model Serving's protocol (`POST /invocations` with `dataframe_records` or
`dataframe_split`, answer `{"predictions": [...]}`), so a client works against both. Each
request appends one line of metadata (time, status, latency, rows; never the payload) to the
request log, with the column names of a Databricks inference table, so the monitor step reads
local traffic and endpoint traffic the same way.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..core.scoring_request import RequestRejected, parse_scoring_request
from .model import ServedModel

JSON = "application/json"
# An oversized body is read (and dropped) up to this many times the limit before the 413 answer.
_DRAIN_FACTOR = 4


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | list[Any]
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(status: int, message: str, field_name: str | None = None) -> Reply:
    # Shaped like Databricks' error answers: a stable code plus a message a person can act on.
    body: dict[str, Any] = {"error_code": _ERROR_CODES.get(status, "BAD_REQUEST"), "message": message}
    if field_name is not None:
        body["field"] = field_name
    return Reply(status, body)


_ERROR_CODES = {
    400: "MALFORMED_REQUEST",
    404: "ENDPOINT_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    411: "LENGTH_REQUIRED",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID_PARAMETER_VALUE",
    500: "INTERNAL_ERROR",
}


class RequestLog:
    """Append-only JSON Lines log of request metadata; safe to share between request threads."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._handle = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = path.open("a", encoding="utf-8")

    def write(self, entry: dict[str, Any]) -> None:
        if self._handle is None:
            return
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._lock:
            self._handle.write(line)
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class ScoringService:
    """Routes one request to an answer. No sockets here, so tests can call `handle` directly."""

    def __init__(self, model: ServedModel, *, max_rows: int, max_request_bytes: int, log: RequestLog) -> None:
        self.model = model
        self.max_rows = max_rows
        self.max_request_bytes = max_request_bytes
        self.log = log

    def handle(self, method: str, path: str, content_type: str | None, body: bytes) -> Reply:
        route = path.split("?", 1)[0].rstrip("/") or "/"
        if route == "/invocations":
            if method != "POST":
                return error_reply(405, "use POST /invocations with a JSON body")
            if (content_type or "").split(";", 1)[0].strip().lower() != JSON:
                return error_reply(415, f"Content-Type must be {JSON}")
            return self.score(body)
        if method != "GET":
            return error_reply(405 if route in _GET_ROUTES else 404, f"{method} {route}: not supported")
        if route == "/ping":
            return Reply(200, {"status": "ok"})
        if route == "/health":
            return Reply(
                200, {"status": "ok", "model_name": self.model.name, "model_version": self.model.version}
            )
        if route == "/metadata":
            return Reply(200, {**self.model.metadata(), "max_rows_per_request": self.max_rows})
        if route == "/example":
            return Reply(200, {"dataframe_records": self.model.example})
        return error_reply(404, f"{route}: no such endpoint; try POST /invocations or GET /metadata")

    def score(self, body: bytes) -> Reply:
        if len(body) > self.max_request_bytes:
            return error_reply(413, f"body: {len(body)} bytes, at most {self.max_request_bytes}")
        try:
            frame = parse_scoring_request(body, self.model.columns, max_rows=self.max_rows)
        except RequestRejected as rejected:
            return error_reply(rejected.status, str(rejected), rejected.field)
        try:
            predictions = self.model.predict(frame)
        except Exception as error:  # noqa: BLE001 - the caller gets a 500, the log the type (never the data)
            return error_reply(500, f"scoring failed ({type(error).__name__}); see the service's console")
        return Reply(200, {"predictions": predictions}, {"X-Rows": str(len(predictions))})


_GET_ROUTES = {"/ping", "/health", "/metadata", "/example"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client reuses its connection
    server_version = "scoring-service"
    # Headers and body go out in two writes: without TCP_NODELAY the body waits ~40 ms for the
    # client's delayed ACK on every keep-alive request.
    disable_nagle_algorithm = True
    sys_version = ""  # no Python version in the Server header
    server: ScoringServer

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._answer(b"")

    def do_POST(self) -> None:  # noqa: N802
        started, received = time.perf_counter(), datetime.now(UTC)
        length = self.headers.get("Content-Length")
        limit = self.server.service.max_request_bytes
        if length is None or not length.isdigit():
            self._finish(error_reply(411, "send a Content-Length header"), started, received, close=True)
        elif int(length) > limit:
            # Drained up to a cap so the client reads the answer, not a broken pipe; beyond the
            # cap the connection is dropped rather than tying a thread up with the upload.
            self._drain(min(int(length), _DRAIN_FACTOR * limit))
            self._finish(
                error_reply(413, f"body: {length} bytes, at most {limit}"), started, received, close=True
            )
        else:
            self._answer(self.rfile.read(int(length)), started, received)

    do_PUT = do_DELETE = do_PATCH = do_POST  # noqa: N815 - answered with 405/404 by the service

    def _drain(self, count: int) -> None:
        while count > 0:
            chunk = self.rfile.read(min(count, 65536))
            if not chunk:
                return
            count -= len(chunk)

    def _answer(self, body: bytes, started: float | None = None, received: datetime | None = None) -> None:
        started = started or time.perf_counter()
        received = received or datetime.now(UTC)
        reply = self.server.service.handle(self.command, self.path, self.headers.get("Content-Type"), body)
        self._finish(reply, started, received)

    def _finish(self, reply: Reply, started: float, received: datetime, close: bool = False) -> None:
        self._send(reply, close)
        if self.path.split("?", 1)[0].rstrip("/") == "/invocations":
            self.server.service.log.write(
                {
                    "request_time": received.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "request_id": reply.headers["X-Request-Id"],
                    "status_code": reply.status,
                    "execution_duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "rows": int(reply.headers.get("X-Rows", 0)),
                    "model_version": self.server.service.model.version,
                }
            )

    def _send(self, reply: Reply, close: bool = False) -> None:
        payload = json.dumps(reply.body, separators=(",", ":")).encode("utf-8")
        reply.headers.setdefault("X-Request-Id", uuid.uuid4().hex)
        self.send_response(reply.status)
        self.send_header("Content-Type", JSON)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Model-Name", self.server.service.model.name)
        self.send_header("X-Model-Version", self.server.service.model.version)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        """Quiet: the request log has the metadata, and URLs or bodies never reach the console."""


class ScoringServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], service: ScoringService) -> None:
        super().__init__(address, _Handler)
        self.service = service

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"
