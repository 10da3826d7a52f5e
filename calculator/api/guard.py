"""What every /api/ request passes first: a per-client rate limit and a body-size limit, then one log line.

FastAPI sets no limit on a request body, and `Field(max_length=…)` is checked only after the whole body
was read and parsed, so the body is read here, at most `API_MAX_BODY_KB` of it (a declared
Content-Length over the limit is refused before reading). The rate limit is a token bucket per client
(`API_RATE_PER_MINUTE` requests a minute, a minute's worth as the burst), in memory: one process, as the
app runs. A client is the peer address, or the header a trusted proxy sets (`API_CLIENT_HEADER`, e.g.
X-Forwarded-For behind the 一网通办 gateway). The log line holds method, path, status and time: never the
query string (a search question), a body, the client's address or an unknown path.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("calculator.api")

MAX_CLIENTS = 10_000       # buckets kept; beyond this, full (idle) ones are forgotten
BODY_METHODS = {"POST", "PUT", "PATCH"}
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def error_body(zh: str, en: str) -> dict[str, Any]:
    """The JSON of every API error: one line in each language."""
    return {"error": {"zh": zh, "en": en}}


async def send_error(send: Send, status: int, zh: str, en: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(error_body(zh, en), ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class TokenBuckets:
    """Requests per minute per client: each bucket holds up to a minute's worth and refills continuously."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = per_minute
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}   # client → (tokens, when)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go ahead (a token is taken), else the seconds until one is back."""
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - when) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1 - tokens) / self.rate
            if len(self._buckets) > MAX_CLIENTS:
                self._forget_idle(now)
        return wait

    def _forget_idle(self, now: float) -> None:
        full = [c for c, (t, w) in self._buckets.items() if t + (now - w) * self.rate >= self.capacity]
        for client in full:
            del self._buckets[client]


class ApiGuard:
    """ASGI middleware for paths under `prefix`; everything else passes untouched."""

    def __init__(self, app: Any, prefix: str, max_body_bytes: int, per_minute: float, client_header: str = "",
                 paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.prefix = prefix
        self.paths = paths   # logged as they are; any other path (it could carry anything) as the prefix only
        self.max_body = max_body_bytes
        self.buckets = TokenBuckets(per_minute) if per_minute > 0 else None
        self.client_header = client_header.lower().encode()

    def _client(self, scope: dict[str, Any]) -> str:
        if self.client_header:
            for name, value in scope.get("headers", []):
                if name == self.client_header and value.strip():
                    return value.decode("latin-1").split(",")[0].strip()
        peer = scope.get("client")
        return str(peer[0]) if peer else "?"

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 0}

        async def logged(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self._guarded(scope, receive, logged)
        finally:
            path = scope.get("path", "")
            log.info("api %s %s %s %.0f ms", scope.get("method"), path if path in self.paths else self.prefix + "…",
                     status["code"] or "-", (time.perf_counter() - started) * 1000)

    async def _guarded(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if self.buckets is not None:
            wait = self.buckets.take(self._client(scope))
            if wait > 0:
                await send_error(send, 429, f"请求过于频繁，请 {math.ceil(wait)} 秒后再试",
                                 f"too many requests; retry in {math.ceil(wait)} s", {"Retry-After": str(math.ceil(wait))})
                return
        if scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body = await self._body(scope, receive)
        if body is None:
            limit = f"{self.max_body // 1024} KB"
            await send_error(send, 413, f"请求体过大（上限 {limit}）", f"the request body is larger than {limit}")
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()   # after the body: wait for the disconnect as usual

        await self.app(scope, replay, send)

    async def _body(self, scope: dict[str, Any], receive: Receive) -> bytes | None:
        """The whole body, or None once it is over the limit (declared or counted)."""
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                return None
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            parts.append(chunk)
            if not message.get("more_body"):
                return b"".join(parts)
