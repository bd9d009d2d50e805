"""The studio's gate: the Host check while bound to a loopback address (DNS rebinding), the
Origin check on WebSockets (another site's page cannot drive the server), and HTTP Basic
authentication when ``--auth`` is given. Plain ASGI middleware, so it covers HTTP and
WebSocket alike."""

from __future__ import annotations

import base64
import hmac
import ipaddress
from urllib.parse import urlsplit

LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


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


class Guard:
    """ASGI middleware: Host check (loopback binds), Origin check (WebSockets), Basic auth."""

    def __init__(self, app, local_only: bool, auth: str | None):
        self.app, self.local_only = app, local_only
        self.auth = None if not auth else b"Basic " + base64.b64encode(auth.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = _host_name(headers.get("host", ""))
        problem = None
        if self.local_only and host.lower() not in LOCAL_NAMES:
            problem = (400, "this studio answers only to localhost (Host header refused)")
        elif scope["type"] == "websocket" and "origin" in headers:
            origin = urlsplit(headers["origin"])
            if origin.netloc.lower() != headers.get("host", "").lower():
                problem = (403, "WebSocket from another site refused")
        if problem is None and self.auth is not None:
            given = headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, self.auth):
                problem = (401, "authentication required")
        if problem is None:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": problem[1]})
            return None
        extra = (
            [(b"www-authenticate", b'Basic realm="photogen studio"')] if problem[0] == 401 else []
        )
        headers = [(b"content-type", b"text/plain; charset=utf-8"), *extra]
        await send({"type": "http.response.start", "status": problem[0], "headers": headers})
        await send({"type": "http.response.body", "body": problem[1].encode()})
        return None
