"""The studio's gate, plain ASGI middleware so it covers HTTP and WebSocket alike:

* the Host check (DNS rebinding): on a loopback bind only localhost names; on another bind
  only the ``allowed_hosts`` (the bind address itself included), never "anything";
* the Origin check on WebSockets and on every request that is not a GET (another site's page
  cannot drive the server, nor queue work on it);
* HTTP Basic authentication when ``auth`` is given, for pages, API and WebSockets, compared in
  constant time; repeated failures from one client are slowed down (a growing delay, then
  429 for a while);
* the request body limit while it streams: a declared Content-Length over the limit is refused
  before anything is read, a chunked body as soon as it passes the limit (413);
* security headers on every response: a Content-Security-Policy (same origin only, no frames:
  ``frame-ancestors 'none'``), ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import ipaddress
import time
from urllib.parse import urlsplit

LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
CSP = ("default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
       "connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")  # fmt: skip
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
FREE_FAILURES = 5  # wrong passwords from one client before the slow-down starts
LOCKOUT = 60.0  # seconds a client that kept failing is refused (429)


def is_loopback(host: str) -> bool:
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(value: str) -> str:
    """``localhost:7860`` -> ``localhost``; ``[::1]:80`` -> ``[::1]``."""
    if value.startswith("["):
        return value[: value.find("]") + 1]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def check_auth(value: str) -> str:
    """``USER:PASS`` with neither part empty; raises ValueError with one line otherwise."""
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ValueError("the studio's auth must be USER:PASS with a user name and a password")
    return value


def _cross_site(kind: str, headers: dict) -> tuple[int, str] | None:
    """A WebSocket or a state-changing request sent by another site's page (ComfyUI #4850: any
    web page could queue work on a local UI): its Origin is not this server, or the browser
    says it is cross-site. Requests without either header (curl, scripts) pass."""
    origin = headers.get("origin")
    foreign = origin is not None and urlsplit(origin).netloc.lower() != headers.get(
        "host", "").lower()  # fmt: skip
    if foreign or headers.get("sec-fetch-site") == "cross-site":
        what = "WebSocket" if kind == "websocket" else "request"
        return 403, f"{what} from another site refused"
    return None


class Guard:
    """ASGI middleware: Host, Origin, Basic auth with failure slow-down, body limit, headers."""

    def __init__(self, app, local_only: bool, auth: str | None,
                 allowed_hosts: set[str] | None = None, max_body: int | None = None):  # fmt: skip
        self.app, self.local_only = app, local_only
        self.allowed = {h.lower() for h in allowed_hosts or ()}
        self.auth = None if not auth else b"Basic " + base64.b64encode(check_auth(auth).encode())
        self.max_body = max_body
        self._failures: dict[str, tuple[int, float]] = {}

    def _host_problem(self, host: str) -> tuple[int, str] | None:
        host = host.lower()
        if self.local_only:
            if host not in LOCAL_NAMES:
                return 400, "this studio answers only to localhost (Host header refused)"
        elif host not in self.allowed:
            return 400, "Host header refused (not in the studio's --allowed-host list)"
        return None

    async def _auth_problem(self, client: str, given: str) -> tuple[int, str] | None:
        count, since = self._failures.get(client, (0, 0.0))
        now = time.monotonic()
        if count >= 3 * FREE_FAILURES and now - since < LOCKOUT:
            return 429, "too many failed logins: wait a minute"
        if hmac.compare_digest(given.encode("latin-1"), self.auth):
            self._failures.pop(client, None)
            return None
        count += 1
        self._failures[client] = (count, now)
        if count > FREE_FAILURES:  # each failure past the free ones waits longer
            await asyncio.sleep(min(2.0, 0.1 * (count - FREE_FAILURES)))
        return 401, "authentication required"

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        problem = self._host_problem(_host_name(headers.get("host", "")))
        if problem is None and (scope["type"] == "websocket"
                                or scope.get("method", "GET") not in ("GET", "HEAD")):  # fmt: skip
            problem = _cross_site(scope["type"], headers)
        if problem is None and self.auth is not None:
            client = (scope.get("client") or ("?", 0))[0]
            problem = await self._auth_problem(client, headers.get("authorization", ""))
        if problem is None and scope["type"] == "http" and self.max_body is not None:
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > self.max_body:
                problem = (413, f"request body larger than {self.max_body:,} bytes")
        if problem is None:
            state = {"started": False, "refused": False}

            async def guarded_send(message):
                if state["refused"]:
                    return  # the 413 is already on its way; the app's answer is dropped
                state["started"] = state["started"] or message["type"] == "http.response.start"
                await send(message)

            receive = self._limited(receive, scope, state, send)
            return await self.app(scope, receive, self._with_headers(guarded_send))
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": problem[1]})
            return None
        await self._refuse(send, *problem)
        return None

    def _with_headers(self, send):
        async def wrapped(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  *SECURITY_HEADERS]}  # fmt: skip
            await send(message)

        return wrapped

    def _limited(self, receive, scope, state, send):
        """Count a streamed body; once past the limit answer 413 at once and tell the app the
        client went away, so the rest is never read and nothing is decoded."""
        if scope["type"] != "http" or self.max_body is None:
            return receive
        seen = [0]

        async def wrapped():
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > self.max_body:
                    if not state["started"]:
                        await self._refuse(send, 413, f"request body larger than "
                                                      f"{self.max_body:,} bytes")  # fmt: skip
                    state["refused"] = True
                    return {"type": "http.disconnect"}
            return message

        return wrapped

    async def _refuse(self, send, status: int, text: str) -> None:
        extra = [(b"www-authenticate", b'Basic realm="photogen studio"')] if status == 401 else []
        headers = [(b"content-type", b"text/plain; charset=utf-8"), *extra, *SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": text.encode()})
