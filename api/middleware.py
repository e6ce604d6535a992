"""Pure ASGI middleware: request ids, a cap on request body size, a bound on concurrency."""

import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """X-Request-ID when sane (printable ASCII, 1-64 characters), else a new one."""
    given = next((v for k, v in headers if k == b"x-request-id"), b"").decode("latin-1")
    sane = given.isascii() and 0 < len(given) <= 64 and given.isprintable()
    return given if sane else uuid.uuid4().hex


class _TooLarge(Exception):
    pass


def _too_large(max_bytes: int) -> tuple[Message, Message]:
    body = json.dumps(
        {
            "error": "payload_too_large",
            "detail": f"the request body is larger than {max_bytes} bytes",
        }
    ).encode()
    start: Message = {
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class ServiceMiddleware:
    """The service's one pure ASGI middleware (one layer a request instead of three):

    - a request id for each request (kept from X-Request-ID when sane), in the request's
      state and echoed back in X-Request-ID on every answer, a 413 included;
    - a 413 when a request body is larger than `max_bytes` (declared or streamed);
      `overrides` give other limits to paths matching a pattern (photo uploads);
    (The bound on requests whose database work runs on worker threads is api.deps.SessionGate:
    only the request's session knows whether it needs one.)
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        overrides: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = tuple(overrides)

    def _max_bytes(self, path: str) -> int:
        return next((n for pattern, n in self.overrides if pattern.match(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        rid = _request_id(headers)
        scope.setdefault("state", {})["request_id"] = rid
        rid_header = (b"x-request-id", rid.encode())
        max_bytes = self._max_bytes(str(scope.get("path", "")))
        declared = next((v for k, v in headers if k == b"content-length"), None)
        if declared is not None:
            try:
                too_big = int(declared) > max_bytes
            except ValueError:
                too_big = False
            if too_big:
                start, body = _too_large(max_bytes)
                start["headers"].append(rid_header)
                await send(start)
                await send(body)
                return
        received = 0
        started = False
        rejected = False

        async def reject() -> None:
            nonlocal rejected
            rejected = True
            start, body = _too_large(max_bytes)
            start["headers"].append(rid_header)
            await send(start)
            await send(body)

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    if not started and not rejected:
                        # Answer now: the framework turns errors while reading into a 400.
                        await reject()
                    raise _TooLarge
            return message

        async def service_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 was sent; drop whatever the app answers after it
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", []).append(rid_header)
            await send(message)

        try:
            await self.app(scope, limited_receive, service_send)
        except _TooLarge:
            if not started and not rejected:
                await reject()


def state_value(scope: dict[str, Any], key: str) -> Any:
    return scope.get("state", {}).get(key)
