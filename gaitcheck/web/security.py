"""Access token on every request, and a per-client upload rate limit.

The token may come as ``Authorization: Bearer T``, as the ``gaitcheck_token`` cookie, or once
as ``?token=T`` in a link (opened on a phone): that request gets the cookie and is redirected to
the same address without the token, so it does not linger in the address bar or history.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

COOKIE = "gaitcheck_token"
UNAUTHORIZED = ("This gaitcheck server needs its access token: open the link with ?token=... "
                "that its owner gave you.")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class TokenMiddleware:
    """ASGI middleware: every HTTP request must carry the token (when one is set)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    def _ok(self, candidate: str | None) -> bool:
        return candidate is not None and self.token is not None and \
            secrets.compare_digest(candidate.encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.token is None:
            await self.app(scope, receive, send)
            return
        auth = _header(scope, b"authorization") or ""
        if auth.lower().startswith("bearer ") and self._ok(auth[7:].strip()):
            await self.app(scope, receive, send)
            return
        cookie = SimpleCookie()
        try:
            cookie.load(_header(scope, b"cookie") or "")
        except Exception:  # noqa: BLE001 - a malformed cookie header is just no cookie
            cookie = SimpleCookie()
        if COOKIE in cookie and self._ok(cookie[COOKIE].value):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(bytes(scope.get("query_string") or b"").decode("latin-1"))
        given = [v for k, v in query if k == "token"]
        if given and self._ok(given[-1]):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            location = scope.get("path", "/") + (f"?{rest}" if rest else "")
            await _respond(send, 303, b"", [
                (b"location", location.encode("latin-1")),
                (b"set-cookie", f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; "
                 "Path=/".encode("latin-1")),
            ])
            return
        await _respond(send, 401, UNAUTHORIZED.encode(), [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"www-authenticate", b'Bearer realm="gaitcheck"'),
        ])


async def _respond(send: Send, status: int, body: bytes,
                   headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """At most ``limit`` events per ``window_s`` seconds per client (sliding window)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> float:
        """Record an event for ``client``; 0 when allowed, else seconds until the next one
        would be."""
        t = time.monotonic() if now is None else now
        with self._lock:
            q = self._events.setdefault(client, deque())
            while q and q[0] <= t - self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return max(0.001, q[0] + self.window_s - t)
            q.append(t)
            return 0.0


# Pages use only this server's scripts; inline styles come from the report and the SVG plots.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; media-src 'self'; frame-src 'self'; frame-ancestors 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware: browser hardening headers on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
